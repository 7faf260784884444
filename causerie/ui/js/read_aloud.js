// Reading aloud in the page. A 🔊 button beside each answer's Copy button asks the server to read
// that answer (its number among the answers, and the reading's own number, go in `asked`, then
// the hidden #read-aloud-go is clicked); the server sends the addresses of the pieces as they are
// made (#spoken-pieces: `add`), and one player plays them one after another. A second tap, or
// another answer's, stops it: in the page, and on the server (#read-aloud-stop cancels it). The tap on 🔊 starts
// playback on phones (a silent sound played in the tap unlocks the player). A denied microphone
// is said in #voice-note (Gradio's recorder says nothing).
({labels, stopLabels, micDenied}) => {
  if (window.causerieReadAloud) return;
  const french = (navigator.language || '').toLowerCase().startsWith('fr');
  const label = french ? labels.fr : labels.en;
  const stopLabel = french ? stopLabels.fr : stopLabels.en;
  const silent = 'data:audio/wav;base64,UklGRiQAAABXQVZFZm10IBAAAAABAAEAQB8AAIA+AAACABAAZGF0YQAAAAA=';
  const player = new Audio();
  const state = { asked: [], reading: 0, pending: false, queue: [], seen: new Set(), playing: false, player, button: null };
  window.causerieReadAloud = state;
  const answers = () => [...document.querySelectorAll('#chatbot .message-buttons-left')];
  // (Gradio's own icons are drawn the same way: feather's volume-2, and a square to stop.)
  const speaker = '<svg width="100%" height="100%" viewBox="0 0 24 24" fill="none" stroke="currentColor" '
    + 'stroke-width="1.5" stroke-linecap="round" stroke-linejoin="round"><polygon points="11 5 6 9 2 9 2 15 6 15 11 19 11 5">'
    + '</polygon><path d="M19.07 4.93a10 10 0 0 1 0 14.14M15.54 8.46a5 5 0 0 1 0 7.07"></path></svg>';
  const square = '<svg width="100%" height="100%" viewBox="0 0 24 24" fill="currentColor"><rect x="6" y="6" width="12" '
    + 'height="12" rx="1"></rect></svg>';
  const show = (button, reading) => {
    if (!button) return;
    button.innerHTML = '<div class="small causerie-icon">' + (reading ? square : speaker) + '</div>';
    button.title = reading ? stopLabel : label;
    button.setAttribute('aria-label', button.title);
  };
  const next = () => {
    const url = state.queue.shift();
    if (!url) {
      state.playing = false;
      return;
    }
    state.playing = true;
    player.src = url;
    player.play().catch(() => { state.playing = false; });
  };
  player.addEventListener('ended', () => {
    next();
    if (!state.playing && !state.queue.length && state.done) { show(state.button, false); state.button = null; }
  });
  state.add = (given) => {
    let piece = {};
    try { piece = JSON.parse(given || '{}'); } catch (error) { return; }
    if (piece.reading !== state.reading) return;  // (a reading stopped since)
    for (const url of piece.urls || []) {
      if (state.seen.has(url)) continue;
      state.seen.add(url);
      state.queue.push(url);
    }
    if (!state.playing) next();
  };
  state.finished = () => { state.pending = false; state.done = true; if (!state.playing && !state.queue.length) { show(state.button, false); state.button = null; } };
  state.stop = () => {
    if (state.pending) document.querySelector('#read-aloud-stop')?.click();  // (the server stops too)
    state.pending = false;
    state.reading += 1;
    state.queue = [];
    state.playing = false;
    player.pause();
    show(state.button, false);
    state.button = null;
  };
  state.read = (which, button) => {
    const again = state.button && state.button === button;
    state.stop();
    if (again || which < 0) return;  // a second tap stops it
    player.src = silent;  // (in the tap itself: playback may start later, on a phone too)
    player.play().catch(() => {});
    state.asked = [which, state.reading];
    state.pending = true;
    state.done = false;
    state.button = button || null;
    show(state.button, true);
    document.querySelector('#read-aloud-go')?.click();
  };
  state.readLast = () => {
    const all = answers();
    if (!all.length) return;
    const bar = all[all.length - 1];
    state.read(all.length - 1, bar.querySelector('.causerie-read-aloud'));
  };
  const decorate = () => {
    for (const bar of document.querySelectorAll('#chatbot .message-buttons-left .icon-button-wrapper')) {
      if (bar.querySelector('.causerie-read-aloud')) continue;
      const button = document.createElement('button');
      button.type = 'button';
      button.className = 'icon-button padded causerie-read-aloud';
      show(button, false);
      button.addEventListener('click', () => state.read(answers().indexOf(bar.closest('.message-buttons-left')), button));
      bar.prepend(button);
    }
  };
  const watch = () => {
    const chat = document.querySelector('#chatbot');
    if (!chat) return setTimeout(watch, 200);
    new MutationObserver(decorate).observe(chat, { childList: true, subtree: true });
    decorate();
  };
  watch();
  const media = navigator.mediaDevices;
  if (media && media.getUserMedia) {
    const ask = media.getUserMedia.bind(media);
    media.getUserMedia = (constraints) => ask(constraints).catch((error) => {
      const note = document.querySelector('#voice-note');
      if (note) note.textContent = french ? micDenied.fr : micDenied.en;
      throw error;
    });
  }
}
