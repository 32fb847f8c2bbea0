// The trainer's own voice from the phone: on a form marked data-record, a
// recorder (microphone, mono, about 16 kbit/s) with play-back and record
// again; the form's own button then sends the recording instead of a file.
// Without a microphone API (or without this script) the form is a plain
// file upload. The server turns the recording into mono Opus and checks it.
(function () {
  "use strict";
  if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia || !window.MediaRecorder) return;
  var types = ["audio/webm;codecs=opus", "audio/ogg;codecs=opus", "audio/mp4;codecs=mp4a.40.2", "audio/mp4"];
  var type = types.filter(function (t) { return MediaRecorder.isTypeSupported(t); })[0];
  if (!type) return;
  var ext = type.indexOf("webm") >= 0 ? "webm" : type.indexOf("ogg") >= 0 ? "ogg" : "m4a";
  var lang = document.documentElement.lang === "en" ? "en" : "zh";
  var words = {
    zh: { on: "正在录音……说完按“停止”", done: "录好了，听一听。满意就按下面的按钮保存。", no: "不能用麦克风：请在浏览器里允许使用麦克风，或者上传文件。", sending: "正在保存……" },
    en: { on: "Recording… press Stop when you finish", done: "Recorded: listen to it. If it is good, press the button below to save.", no: "The microphone cannot be used: allow it in the browser, or upload a file.", sending: "Saving…" }
  }[lang];
  Array.prototype.forEach.call(document.querySelectorAll("form[data-record]"), function (form) {
    var box = form.querySelector(".recorder");
    if (!box) return;
    box.hidden = false;
    var state = box.querySelector("[data-state]");
    var preview = box.querySelector("[data-preview]");
    var again = box.querySelector("[data-again]");
    var first = box.querySelector("[data-act=start]");
    var stop = box.querySelector("[data-act=stop]");
    var blob = null, rec = null, stream = null, url = null;
    function start() {
      navigator.mediaDevices.getUserMedia({ audio: { channelCount: 1, echoCancellation: true, noiseSuppression: true } })
        .then(function (s) {
          stream = s;
          var chunks = [];
          box.dataset.seconds = "0";
          rec = new MediaRecorder(s, { mimeType: type, audioBitsPerSecond: Number(box.dataset.bitrate) || 16000 });
          rec.ondataavailable = function (e) {
            if (e.data && e.data.size) chunks.push(e.data);
            if (rec.state === "recording") box.dataset.seconds = String(Number(box.dataset.seconds) + 1);
          };
          rec.onstop = function () {
            stream.getTracks().forEach(function (t) { t.stop(); });
            blob = new Blob(chunks, { type: type });
            box.recording = blob;
            if (url) URL.revokeObjectURL(url);
            url = URL.createObjectURL(blob);
            preview.src = url;
            preview.hidden = false;
            again.hidden = false;
            first.hidden = true;
            stop.hidden = true;
            state.textContent = words.done;
            box.dataset.recorded = String(blob.size);
          };
          rec.start(1000);
          first.hidden = true;
          again.hidden = true;
          stop.hidden = false;
          state.textContent = words.on;
        })
        .catch(function () { state.textContent = words.no; });
    }
    Array.prototype.forEach.call(box.querySelectorAll("[data-act=start]"), function (b) { b.addEventListener("click", start); });
    stop.addEventListener("click", function () { if (rec && rec.state !== "inactive") rec.stop(); });
    form.addEventListener("submit", function (e) {
      if (!blob) return;
      e.preventDefault();
      var data = new FormData(form);
      data.set("file", blob, "recording." + ext);
      state.textContent = words.sending;
      var to = form.action + (form.action.indexOf("?") >= 0 ? "&" : "?") + "recorded=1";
      fetch(to, { method: "POST", body: data, credentials: "same-origin" })
        .then(function (r) {
          // Back to the part of the page she was in.
          var part = form.closest("[id]");
          if (r.redirected) { location.assign(r.url + (part ? "#" + part.id : "")); return; }
          return r.text().then(function (html) { document.open(); document.write(html); document.close(); });
        })
        .catch(function () { state.textContent = words.no; });
    });
  });
})();
