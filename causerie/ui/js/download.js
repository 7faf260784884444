// Saves an export ({name, type, text}) as a file, with no round trip to a download URL.
(payload) => {
  if (!payload) return;
  const {name, type, text} = JSON.parse(payload);
  const link = document.createElement('a');
  link.href = URL.createObjectURL(new Blob([text], {type}));
  link.download = name;
  document.body.appendChild(link); link.click(); link.remove();
  setTimeout(() => URL.revokeObjectURL(link.href), 10000);
}
