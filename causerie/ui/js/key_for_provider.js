// The person's keys and base URLs, one each per provider, in this page's memory only (gone on
// reload). The boxes show the chosen provider's, and a hidden box says which provider they are for.
(provider) => {
  const kept = (window.causerieKeys || {})[provider] || {};
  return [kept.key || '', kept.url || '', provider];
}
