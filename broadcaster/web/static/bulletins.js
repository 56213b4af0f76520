/* The bulletin editor's helpers: the spoken preview as the officer types, Nghe thử in the page, and
   recording with the browser's microphone. Without this script the form's buttons do the same on
   the server (Xem lời đọc, Nghe thử, Lưu bản ghi âm with a chosen file). */
(function () {
  "use strict";
  var form = document.getElementById("soan-thao");
  if (!form || !window.bc) { return; }
  var text = document.getElementById("f-text");
  var preview = document.getElementById("xem-truoc");

  /* --- spoken preview: debounced, and only the newest answer is shown ------------------------- */
  var timer = null, asked = 0, shown = 0;
  function refresh() {
    var mine = ++asked;
    window.bc.post(text.getAttribute("data-preview-url"), { text: text.value }).then(function (j) {
      if (mine < shown) { return; }
      shown = mine;
      if (j.html !== undefined) { preview.innerHTML = j.html; }
    }).catch(function () { /* offline for a moment: the next keystroke asks again */ });
  }
  if (text && preview) {
    text.addEventListener("input", function () {
      if (timer) { clearTimeout(timer); }
      timer = setTimeout(refresh, 350);
    });
    var look = document.getElementById("nut-xem");
    if (look) {
      look.addEventListener("click", function (ev) { ev.preventDefault(); refresh(); });
    }
  }

  /* --- Nghe thử: render on the server, play in the page ------------------------------------- */
  var listen = document.getElementById("nut-nghe");
  var player = document.getElementById("nghe-thu");
  var said = document.getElementById("nghe-thu-tin");
  function tell(node, message, bad) {
    node.textContent = message;
    node.className = bad ? "field-error" : "muted";
  }
  if (listen && player && said) {
    listen.addEventListener("click", function (ev) {
      ev.preventDefault();
      listen.disabled = true;
      tell(said, "Đang tạo âm thanh, chờ vài giây…", false);
      var voice = document.getElementById("f-voice");
      var speed = document.getElementById("f-speed");
      var chosen = { text: text.value, voice: voice ? voice.value : "", speed: speed ? speed.value : "" };
      window.bc.post(listen.getAttribute("data-listen-url"), chosen).then(function (j) {
        listen.disabled = false;
        if (j.error) { tell(said, j.error, true); return; }
        var seconds = (Math.round(j.duration_s * 10) / 10).toString().replace(".", ",");
        tell(said, "Âm thanh " + seconds + " giây, giọng " + j.engine +
             (j.fallback ? " (giọng dự phòng)" : "") + ".", false);
        player.hidden = false;
        player.src = j.url;
        var playing = player.play();
        if (playing && playing.catch) { playing.catch(function () { /* the officer presses play */ }); }
      }).catch(function () {
        listen.disabled = false;
        tell(said, "Không gọi được máy chủ. Kiểm tra kết nối rồi bấm lại.", true);
      });
    });
  }

  /* --- recording with the microphone --------------------------------------------------------- */
  var mic = document.getElementById("micro");
  var start = document.getElementById("nut-ghi");
  var stop = document.getElementById("nut-dung");
  var state = document.getElementById("ghi-am-tin");
  var back = document.getElementById("ghi-am-nghe");
  var input = document.getElementById("f-audio");
  var needsHttps = document.getElementById("micro-can-https");
  var can = navigator.mediaDevices && navigator.mediaDevices.getUserMedia && window.MediaRecorder;
  if (!can) {
    if (needsHttps && !window.isSecureContext) { needsHttps.hidden = false; }
    return;
  }
  mic.hidden = false;
  var recorder = null, chunks = [], began = 0, clock = null, recorded = null, recordedName = "";
  var TYPES = [["audio/webm;codecs=opus", "webm"], ["audio/ogg;codecs=opus", "ogg"],
               ["audio/webm", "webm"], ["audio/ogg", "ogg"], ["audio/mp4", "m4a"]];
  function pick() {
    for (var i = 0; i < TYPES.length; i++) {
      if (MediaRecorder.isTypeSupported && MediaRecorder.isTypeSupported(TYPES[i][0])) { return TYPES[i]; }
    }
    return ["", "webm"];
  }
  function since() {
    var s = Math.floor((Date.now() - began) / 1000);
    return Math.floor(s / 60) + ":" + (s % 60 < 10 ? "0" : "") + (s % 60);
  }
  start.addEventListener("click", function () {
    navigator.mediaDevices.getUserMedia({ audio: true }).then(function (stream) {
      var kind = pick();
      recorder = kind[0] ? new MediaRecorder(stream, { mimeType: kind[0] }) : new MediaRecorder(stream);
      chunks = [];
      recorder.ondataavailable = function (e) { if (e.data && e.data.size) { chunks.push(e.data); } };
      recorder.onstop = function () {
        stream.getTracks().forEach(function (t) { t.stop(); });
        clearInterval(clock);
        var type = (recorder.mimeType || kind[0] || "audio/webm").split(";")[0];
        recorded = new Blob(chunks, { type: type });
        recordedName = "ghi-am-micro." + (type.indexOf("ogg") >= 0 ? "ogg" : type.indexOf("mp4") >= 0 ? "m4a" : "webm");
        try {
          var dt = new DataTransfer();
          dt.items.add(new File([recorded], recordedName, { type: type }));
          input.files = dt.files;
        } catch (e) { /* old browser: the submit handler below sends the recording itself */ }
        back.src = URL.createObjectURL(recorded);
        back.hidden = false;
        start.hidden = false; stop.hidden = true; start.textContent = "Ghi lại";
        tell(state, "Đã ghi " + since() + ". Nghe lại, rồi bấm «Lưu bản ghi âm».", false);
      };
      recorder.start(250);
      began = Date.now();
      start.hidden = true; stop.hidden = false;
      tell(state, "Đang ghi 0:00", false);
      clock = setInterval(function () { tell(state, "Đang ghi " + since(), false); }, 500);
    }).catch(function () {
      tell(state, "Không mở được micro. Cho phép trang dùng micro rồi bấm lại, hoặc chọn tệp ghi âm.", true);
    });
  });
  stop.addEventListener("click", function () {
    if (recorder && recorder.state !== "inactive") { recorder.stop(); }
  });
  /* When the browser could not put the recording into the file input, send it with fetch. */
  form.addEventListener("submit", function (ev) {
    var button = ev.submitter;
    if (!recorded || !button || button.value !== "upload" || (input.files && input.files.length)) { return; }
    ev.preventDefault();
    var body = new FormData(form);
    body.set("action", "upload");
    body.set("audio", recorded, recordedName);
    fetch(form.action, { method: "POST", body: body, credentials: "same-origin" }).then(function (r) {
      if (r.redirected) { window.location.href = r.url; return null; }
      return r.text().then(function (html) { document.open(); document.write(html); document.close(); });
    });
  });
})();
