/* The console's script: progressive enhancement only; every form also works without it. */
(function () {
  "use strict";
  var meta = document.querySelector('meta[name="csrf-token"]');
  window.bc = {
    csrf: meta ? meta.getAttribute("content") : "",
    /* POST a FormData (or an object) with the CSRF token; resolves to the parsed JSON answer. */
    post: function (url, data) {
      var body = data instanceof FormData ? data : new FormData();
      if (!(data instanceof FormData) && data) {
        Object.keys(data).forEach(function (k) { body.append(k, data[k]); });
      }
      body.append("csrf", window.bc.csrf);
      return fetch(url, { method: "POST", body: body, credentials: "same-origin",
                          headers: { "Accept": "application/json" } })
        .then(function (r) { return r.json().then(function (j) { j._status = r.status; return j; }); });
    }
  };
  /* Buttons and forms with data-confirm ask before they act. */
  document.addEventListener("submit", function (ev) {
    var form = ev.target, text = form.getAttribute("data-confirm");
    if (text && !window.confirm(text)) { ev.preventDefault(); }
  });
})();
