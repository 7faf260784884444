// When a question is sent: this browser notes its conversation (the last `count`, under `key`), so
// that a page opened later (a reload, another tab) can ask whether its answer is still running.
({key, count}, current) => {
  if (!current) return;
  let noted = [];
  try { noted = JSON.parse(localStorage.getItem(key) || '[]'); } catch (error) {}
  if (!Array.isArray(noted)) noted = [];
  noted = noted.filter((id) => id !== current).concat([current]).slice(-count);
  localStorage.setItem(key, JSON.stringify(noted));
}
