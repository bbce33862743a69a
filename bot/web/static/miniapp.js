// The Mini App signs in with the initData Telegram gave it, then opens the workspace.
(function () {
  "use strict";
  var failed = function () {
    var note = document.getElementById("miniapp-failed");
    if (note) { note.hidden = false; }
  };
  var app = window.Telegram && window.Telegram.WebApp;
  if (!app || !app.initData) { failed(); return; }
  var body = new URLSearchParams();
  body.set("init_data", app.initData);
  fetch("/miniapp/signin", { method: "POST", body: body, credentials: "same-origin" })
    .then(function (response) { return response.json(); })
    .then(function (answer) {
      if (answer.signed_in) { window.location.replace(answer.next); } else { failed(); }
    })
    .catch(failed);
})();
