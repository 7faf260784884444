// The server's writes (BrowserShelf.writes), in one synchronous step: an entry the browser holds
// newer stays (a tie goes to a deletion, as in Library.merge); the earlier versions' value goes
// only once every entry is written. Entries are separate keys, so even browsers that sync
// localStorage between tabs' processes lazily cannot mix two tabs' saves of different conversations.
({prefix, legacy}, payload) => {
  if (!payload) return;
  let writes;
  try { writes = JSON.parse(payload); } catch (error) { return; }
  let complete = true;
  for (const [id, entry] of Object.entries(writes.put || {})) {
    const key = prefix + id;
    let held = null;
    try { held = JSON.parse(localStorage.getItem(key) || 'null'); } catch (error) {}
    const at = held && typeof held.at === 'number' ? held.at : null;
    if (entry.forget) {
      if (at !== null && held.deleted === true && at <= entry.at) localStorage.removeItem(key);
      continue;
    }
    if (at !== null && (at > entry.at || (held.deleted === true && !entry.deleted && at >= entry.at))) continue;
    try { localStorage.setItem(key, JSON.stringify(entry)); } catch (error) { complete = false; }
  }
  if (writes.retire && complete) localStorage.removeItem(legacy);
}
