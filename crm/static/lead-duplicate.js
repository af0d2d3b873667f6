// 登记来访: warn before submitting when the phone already has a running lead on the
// project typed (one consultant per customer and project). Served by flowdesk itself
// (script-src 'self'); the page's form names the check's address in a data attribute.
(function () {
  "use strict";
  var form = document.querySelector("form[data-duplicate-check]");
  var notice = document.getElementById("lead-duplicate");
  if (!form || !notice) return;
  var phone = form.querySelector("[name=phone]");
  var project = form.querySelector("[name=project]");
  if (!phone || !project) return;
  var asked = "";
  var timer = null;

  var refused = document.getElementById("start-refused");

  function show(message) {
    // The server's refusal already says it: say it once.
    if (refused && message && refused.textContent.trim() === message.trim()) message = "";
    notice.textContent = message || "";
    notice.hidden = !message;
  }

  function check() {
    var p = phone.value.trim();
    var j = project.value.trim();
    var key = p + "\n" + j;
    if (key === asked) return;
    asked = key;
    if (!p || !j) {
      show("");
      return;
    }
    var url = form.getAttribute("data-duplicate-check") +
      "?phone=" + encodeURIComponent(p) + "&project=" + encodeURIComponent(j);
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { return r.ok ? r.json() : { message: null }; })
      .then(function (body) {
        if (asked === key) show(body.message);
      })
      .catch(function () { /* the server still refuses a duplicate on submit */ });
  }

  function soon() {
    clearTimeout(timer);
    timer = setTimeout(check, 300);
  }

  [phone, project].forEach(function (input) {
    input.addEventListener("input", soon);
    input.addEventListener("change", check);
    input.addEventListener("blur", check);
  });
  check();
})();
