// Pins the chosen preset, or unpins it: the pinned presets' ids, a list kept under `key` in this
// browser. Returns the list as JSON (the preset menu puts them first). With no preset, the list
// as kept.
({key}, preset) => {
  let pinned = [];
  try { pinned = JSON.parse(localStorage.getItem(key) || '[]'); } catch (e) { pinned = []; }
  if (!Array.isArray(pinned)) pinned = [];
  if (preset) {
    pinned = pinned.includes(preset) ? pinned.filter((id) => id !== preset) : [...pinned, preset];
    localStorage.setItem(key, JSON.stringify(pinned));
  }
  return JSON.stringify(pinned);
}
