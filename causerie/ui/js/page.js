// Embedded (EMBED=1: `embedded`, `?embed=1`, or a `<gradio-app causerie-embed>` element, which
// passes no query on): the chat alone, its sidebars folded (so that the chat takes their room) and
// hidden. (Gradio's own page is a <gradio-app> too, with attributes of its own.) On a phone, the
// sidebars (which would each cover the whole screen) start folded away.
({embedded}) => {
  const inElement = document.querySelector('#chatbot')?.closest('gradio-app');
  const embed = embedded || new URLSearchParams(location.search).get('embed') === '1'
    || (inElement && inElement.hasAttribute('causerie-embed'));
  if (embed) document.documentElement.classList.add('causerie-embed');
  if (embed || window.matchMedia('(max-width: 768px)').matches) {
    for (const id of ['settings', 'conversations']) {
      const button = document.querySelector(`#${id}.open .toggle-button`);
      if (button) button.click();
    }
  }
}
