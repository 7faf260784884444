// Approving a tool call in the page. A step waiting for approval shows three links,
// #causerie-tool-<allow|deny|always>-<id> (ui/render.py step_message); a click on one inside the chat
// puts "<decision>:<id>" in `asked` and clicks the hidden #tool-decide, whose handler decides for this
// page's owner (the server checks that the step is theirs and still waiting). The links then fade, so
// that a second click is not mistaken for a failure while the step turns to "running".
() => {
  if (window.causerieToolApproval) return;
  const state = { asked: '' };
  window.causerieToolApproval = state;
  const link = /^#causerie-tool-(allow|deny|always)-([A-Za-z0-9_-]{8,64})$/;
  document.addEventListener('click', (event) => {
    const anchor = event.target && event.target.closest ? event.target.closest('a[href^="#causerie-tool-"]') : null;
    if (!anchor || !anchor.closest('#chatbot')) return;
    event.preventDefault();
    event.stopPropagation();
    const found = (anchor.getAttribute('href') || '').match(link);
    if (!found) return;
    state.asked = found[1] + ':' + found[2];
    for (const sibling of anchor.parentElement ? anchor.parentElement.querySelectorAll('a[href^="#causerie-tool-"]') : []) {
      sibling.style.opacity = '0.4';
      sibling.style.pointerEvents = 'none';
    }
    document.querySelector('#tool-decide')?.click();
  }, true);
}
