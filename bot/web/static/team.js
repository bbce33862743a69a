// The invite link page: a "Copy the link" button where the browser can copy (the link can
// always be selected and copied by hand).
(function () {
  const button = document.getElementById("copy-invite");
  const field = document.getElementById("invite-link");
  const done = document.getElementById("copy-invite-done");
  if (!button || !field || !done || !navigator.clipboard) {
    return;
  }
  button.hidden = false;
  button.addEventListener("click", function () {
    field.select();
    navigator.clipboard.writeText(field.value).then(function () {
      done.textContent = done.dataset.copied;
    });
  });
})();
