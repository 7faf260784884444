// On submit, in the browser: the question shows and the textbox empties with no round trip.
// While an answer is being written (the Stop button shows), Enter sends nothing: the text stays in
// the box for when it ends, rather than showing a question that no answer would follow.
// The box's value is {text, files}; an attached file shows in the question as a `file` part.
// The question goes with the mark of the chat before it (chatMark), not the chat (ChatHandlers.submit).
({chatMark}, value, history) => {
  const message = {text: (value && value.text) || '', files: (value && value.files) || []};
  const empty = {text: '', files: []};
  const mark = chatMark(history || []);
  if (document.querySelector('#chat-input .stop-button, #chat-input [data-testid="stop-button"]')) return [empty, message, history, mark];
  if (!message.text.trim() && !message.files.length) return [empty, message, history, mark];
  const content = [...(message.text ? [{type: 'text', text: message.text}] : []),
                   ...message.files.map((file) => ({type: 'file', file, alt_text: null}))];
  return [message, empty, [...(history || []), {role: 'user', content, metadata: null, options: null}], mark];
}
