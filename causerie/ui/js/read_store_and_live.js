// As the page opens, in one step: the kept conversations (readStore), the noted ones (`liveKey`),
// and this browser's id (`browserKey`: issued by the server as the page first opens,
// visitors.issue_browser_id; keep_browser.js keeps it): whose running answers and attached files
// these are, for a visitor who is not signed in.
({readStore, liveKey, browserKey}) => {
  const id = localStorage.getItem(browserKey) || '';
  return [readStore(), localStorage.getItem(liveKey) || '[]', id];
}
