// Keeps the key and base URL typed for a provider, in this page's memory only.
(key, url, provider) => { (window.causerieKeys ||= {})[provider] = {key, url}; return provider; }
