// The chat's own links: approving a tool call (#causerie-tool-<allow|deny|always>-<id>, ui/render.py
// step_message) and moving between versions of an answer (#causerie-version-<prev|next|drop>-<n>,
// version_message). A click on one inside the chat puts "<what>:<which>" in `asked` and clicks the
// hidden button of its kind, whose handler checks it (the step is this owner's and still waiting; the
// version exists). The links then fade, so that a second click is not taken for a failure.
// Also a ⑂ button beside each answer's Copy: continue in a new chat from that answer (#fork-go).
({forkLabels, dropAsk}) => {
  if (window.causerieChatLinks) return;
  const french = (navigator.language || '').toLowerCase().startsWith('fr');
  const state = { asked: '' };
  window.causerieChatLinks = state;
  const kinds = [
    { pattern: /^#causerie-tool-(allow|deny|always)-([A-Za-z0-9_-]{8,64})$/, button: '#tool-decide' },
    { pattern: /^#causerie-version-(prev|next|drop)-(\d{1,4})$/, button: '#version-go' },
  ];
  document.addEventListener('click', (event) => {
    const anchor = event.target && event.target.closest ? event.target.closest('a[href^="#causerie-"]') : null;
    if (!anchor || !anchor.closest('#chatbot')) return;
    const href = anchor.getAttribute('href') || '';
    const kind = kinds.find((k) => k.pattern.test(href));
    if (!kind) return;
    event.preventDefault();
    event.stopPropagation();
    const found = href.match(kind.pattern);
    if (found[1] === 'drop' && !window.confirm(french ? dropAsk.fr : dropAsk.en)) return;
    state.asked = found[1] + ':' + found[2];
    for (const sibling of anchor.parentElement ? anchor.parentElement.querySelectorAll('a[href^="#causerie-"]') : []) {
      sibling.style.opacity = '0.4';
      sibling.style.pointerEvents = 'none';
    }
    document.querySelector(kind.button)?.click();
  }, true);
  if (!document.querySelector('#fork-go')) return;
  const label = french ? forkLabels.fr : forkLabels.en;
  const bars = () => [...document.querySelectorAll('#chatbot .message-buttons-left')];
  const addForks = () => {
    for (const wrapper of document.querySelectorAll('#chatbot .message-buttons-left .icon-button-wrapper')) {
      if (wrapper.querySelector('.causerie-fork')) continue;
      const button = document.createElement('button');
      button.className = 'causerie-fork icon-button';
      button.type = 'button';
      button.title = label;
      button.setAttribute('aria-label', label);
      button.textContent = '⑂';
      button.addEventListener('click', () => {
        state.asked = 'fork:' + bars().indexOf(wrapper.closest('.message-buttons-left'));
        document.querySelector('#fork-go')?.click();
      });
      wrapper.appendChild(button);
    }
  };
  // (Once a frame at most, however many changes a streaming answer makes.)
  let queued = false;
  new MutationObserver(() => {
    if (queued) return;
    queued = true;
    requestAnimationFrame(() => { queued = false; addForks(); });
  }).observe(document.body, { childList: true, subtree: true });
  addForks();
}
