// The mark of a chat, as render.chat_mark makes it: how many messages, questions and parts, and
// the UTF-8 bytes of its texts.
(chat) => {
  const encoder = new TextEncoder();
  let questions = 0, parts = 0, size = 0;
  for (const item of chat) {
    if (!item || typeof item !== 'object') continue;
    if (item.role === 'user') questions++;
    for (const part of Array.isArray(item.content) ? item.content : [{text: item.content}]) {
      parts++;
      if (part && typeof part.text === 'string') size += encoder.encode(part.text).length;
    }
  }
  return `${chat.length}.${questions}.${parts}.${size}`;
}
