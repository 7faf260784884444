// Compare needs the room: the conversations sidebar folds away.
() => { document.querySelector('#conversations.open .toggle-button')?.click(); }
