// After a recording was transcribed into the box: send it at once when the person asked for that
// (⚙ Settings › Voice), as Enter would.
(sendAtOnce, dictated) => {
  if (!sendAtOnce || !dictated) return;  // (nothing heard, or a failure: what was typed stays)
  const box = document.querySelector('#chat-input textarea');
  if (!box || !box.value.trim()) return;
  document.querySelector('#chat-input .submit-button')?.click();
}
