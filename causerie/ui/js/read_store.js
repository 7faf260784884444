// What this browser keeps of the conversations right now: every entry (one localStorage key per
// conversation, `prefix` + its id) and the earlier versions' single value (`legacy`), as JSON.
({prefix, legacy}) => {
  const entries = {};
  for (let i = 0; i < localStorage.length; i++) {
    const key = localStorage.key(i);
    if (key && key.startsWith(prefix)) entries[key.slice(prefix.length)] = localStorage.getItem(key);
  }
  return JSON.stringify({legacy: localStorage.getItem(legacy) || '', entries});
}
