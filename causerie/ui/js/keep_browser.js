// Keeps the browser id the server issued (on_open), under `key`.
({key}, id) => { if (id) localStorage.setItem(key, id); }
