// The keyboard shortcuts, as ChatGPT's where it has one (their list: labels.py "shortcuts",
// shown by `?`). Keys typed in a box are the box's, but for those with Ctrl (or ⌘) and Esc.
() => {
  if (window.causerieShortcuts) return;
  window.causerieShortcuts = true;
  const root = document.documentElement;
  const box = () => document.querySelector('#chat-input textarea');
  const click = (selector) => { const found = document.querySelector(selector); found?.click(); return Boolean(found); };
  const typing = (node) => node && (node.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(node.tagName));
  const copyLastAnswer = () => {
    const answers = document.querySelectorAll('#chatbot .message-row.bot-row');
    const last = answers[answers.length - 1];
    const button = last && (last.nextElementSibling?.querySelector('button[aria-label="Copy message"]')
      || last.querySelector('button[aria-label="Copy message"]'));
    if (button) { button.click(); return; }
    const text = last?.querySelector('.message')?.innerText;
    if (text) navigator.clipboard?.writeText(text);
  };
  document.addEventListener('keydown', (event) => {
    const key = event.key.length === 1 ? event.key.toLowerCase() : event.key;
    const command = event.ctrlKey || event.metaKey;
    if (key === 'Escape' && root.classList.contains('causerie-shortcuts')) {
      root.classList.remove('causerie-shortcuts');
    } else if (command && event.shiftKey && key === 'o') {
      click('#new-chat');
      setTimeout(() => box()?.focus(), 0);
    } else if (command && event.shiftKey && key === 's') {
      click('#conversations .toggle-button');
    } else if (command && event.shiftKey && key === 'c') {
      copyLastAnswer();
    } else if (command && key === '.') {
      click('#settings .toggle-button');
    } else if (key === 'Escape' && event.shiftKey) {
      box()?.focus();
    } else if (key === 'Escape' && !command && (!typing(event.target) || event.target === box())) {
      // (Esc in another box, or in a dropdown's list, is that box's.)
      if (!click('#chat-input .stop-button')) return;
    } else if (!command && !typing(event.target) && key === '/') {
      box()?.focus();
    } else if (!command && !typing(event.target) && key === '?') {
      root.classList.toggle('causerie-shortcuts');
    } else {
      return;
    }
    event.preventDefault();
    event.stopPropagation();
  }, true);
}
