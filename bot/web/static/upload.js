// The upload page: a file over the size limit is refused here, with the page's own words,
// rather than sent to be refused by the server with a bare error. Works without it too.
(function () {
  "use strict";
  var input = document.querySelector("input[type=file][data-max-bytes]");
  if (!input || !input.form) { return; }
  var tooLarge = function () {
    var file = input.files && input.files[0];
    return Boolean(file) && file.size > Number(input.getAttribute("data-max-bytes"));
  };
  var check = function () {
    input.setCustomValidity(tooLarge() ? input.getAttribute("data-too-large") : "");
  };
  input.addEventListener("change", check);
  input.form.addEventListener("submit", function (event) {
    check();
    if (tooLarge()) {
      event.preventDefault();
      input.reportValidity();
    }
  });
})();
