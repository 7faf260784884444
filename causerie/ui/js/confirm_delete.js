// Asks before deleting the conversation shown, in the browser's language; its id if confirmed.
(shown) => (shown && confirm(navigator.language.startsWith('fr')
  ? 'Supprimer cette conversation ? Ce n\'est pas réversible.' : 'Delete this conversation? This cannot be undone.')) ? shown : ''
