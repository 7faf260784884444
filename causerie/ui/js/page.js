// Embedded (EMBED=1: `embedded`, `?embed=1`, or a `<gradio-app causerie-embed>` element, which
// passes no query on): the chat alone, its sidebars folded (so that the chat takes their room) and
// hidden. (Gradio's own page is a <gradio-app> too, with attributes of its own.) Below
// `drawersBelow` px the sidebars are drawers (header.py): closed when the page opens, and closed by
// a click outside them, as the settings drawer is at every width.
({embedded, drawersBelow}) => {
  const inElement = document.querySelector('#chatbot')?.closest('gradio-app');
  const embed = embedded || new URLSearchParams(location.search).get('embed') === '1'
    || (inElement && inElement.hasAttribute('causerie-embed'));
  if (embed) document.documentElement.classList.add('causerie-embed');
  const narrow = window.matchMedia(`(max-width: ${drawersBelow - 1}px)`);
  if (embed || narrow.matches) {
    for (const id of ['settings', 'conversations']) {
      const button = document.querySelector(`#${id}.open .toggle-button`);
      if (button) button.click();
    }
  }
  if (window.causerieDrawers) return;
  window.causerieDrawers = true;
  document.addEventListener('pointerdown', (event) => {
    const drawers = narrow.matches ? ['settings', 'conversations'] : ['settings'];
    for (const id of drawers) {
      const drawer = document.querySelector(`#${id}.open`);
      // (Not a click in it, nor on what opens it, nor in a list it opened, as a dropdown's.)
      if (!drawer || drawer.contains(event.target) || event.target.closest('#open-settings, .options, [role=listbox]')) continue;
      drawer.querySelector('.toggle-button')?.click();
    }
  }, true);
}
