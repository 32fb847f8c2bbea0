// A formatting toolbar over a lesson's Markdown: heading, list, bold and
// picture buttons (44 px, for a thumb) that write the Markdown into the text
// where the cursor is. Without this script the toolbar stays hidden and the
// text box is a plain text box. And a form sent back with its problems
// (a summary marked data-focus) has them focused, so a screen reader reads
// them and the phone shows them; without the script the form's address
// (#add-questions) still scrolls there.
(function () {
  "use strict";
  var problems = document.querySelector("[data-focus]");
  if (problems) {
    // Again once loaded: going to the form's #address moves the focus.
    problems.focus();
    window.addEventListener("load", function () { problems.focus(); });
  }
  Array.prototype.forEach.call(document.querySelectorAll("[data-md-tools]"), function (bar) {
    var ta = document.getElementById(bar.getAttribute("data-for"));
    if (!ta || typeof ta.selectionStart !== "number") return;
    bar.hidden = false;
    bar.addEventListener("click", function (e) {
      var b = e.target.closest ? e.target.closest("button[data-md]") : null;
      if (!b) return;
      e.preventDefault();
      var kind = b.getAttribute("data-md"), word = b.getAttribute("data-text") || "";
      var v = ta.value, s = ta.selectionStart, t = ta.selectionEnd, sel = v.slice(s, t);
      var lineStart = v.lastIndexOf("\n", s - 1) + 1;
      var text, from = s, to = t, pick;
      if (kind === "bold") {
        text = "**" + (sel || word) + "**";
        pick = [2, 2 + (sel || word).length];
      } else if (kind === "heading" || kind === "list") {
        var mark = kind === "heading" ? "## " : "- ";
        from = lineStart;
        var lines = v.slice(lineStart, t).split("\n");
        text = lines.map(function (l) { return mark + l.replace(/^(#+ |- )/, ""); }).join("\n");
        if (text === mark && kind === "list") text = mark + word;
        pick = [text.length, text.length];
      } else if (kind === "picture") {
        var chosen = bar.querySelector("select[data-md-picture]");
        var name = chosen && chosen.value ? chosen.value : b.getAttribute("data-name");
        var alt = sel || word;
        var before = s > 0 && v.charAt(s - 1) !== "\n" ? "\n\n" : "";
        text = before + "![" + alt + "](" + name + ")\n";
        pick = [before.length + 2, before.length + 2 + alt.length];
      } else {
        return;
      }
      ta.value = v.slice(0, from) + text + v.slice(to);
      ta.focus();
      ta.setSelectionRange(from + pick[0], from + pick[1]);
      ta.dispatchEvent(new Event("input", { bubbles: true }));
    });
  });
  // The picture form: the chosen photo is shown before it is sent; with
  // this script it is sent in the background and its Markdown goes where
  // the cursor was in the lesson text (the text still needs saving).
  Array.prototype.forEach.call(document.querySelectorAll("[data-picture-form]"), function (form) {
    var ta = document.getElementById(form.getAttribute("data-for"));
    var input = form.querySelector("input[type=file]");
    var shown = form.querySelector("[data-picture-preview]");
    var status = form.querySelector("[data-picture-status]");
    if (input && shown && window.URL && URL.createObjectURL) {
      input.addEventListener("change", function () {
        var f = input.files && input.files[0];
        if (!f) { shown.hidden = true; return; }
        shown.src = URL.createObjectURL(f);
        shown.hidden = false;
      });
    }
    if (!ta || typeof ta.selectionStart !== "number" || !window.fetch || !window.FormData) return;
    var at = ta.value.length;
    ta.addEventListener("blur", function () { at = ta.selectionStart; });
    form.addEventListener("submit", function (e) {
      e.preventDefault();
      var data = new FormData(form);
      data.append("place", "cursor");
      var button = form.querySelector("button[type=submit]");
      if (button) button.disabled = true;
      fetch(form.action, { method: "POST", body: data, headers: { Accept: "application/json" }, credentials: "same-origin" })
        .then(function (r) { return r.json().then(function (j) { return { ok: r.ok, j: j }; }); })
        .then(function (res) {
          status.hidden = false;
          if (!res.ok) { status.className = "err"; status.textContent = res.j.message || ""; return; }
          var v = ta.value, s = Math.min(at, v.length);
          var before = s > 0 && v.charAt(s - 1) !== "\n" ? "\n\n" : "";
          var text = before + res.j.markdown + "\n";
          ta.value = v.slice(0, s) + text + v.slice(s);
          at = s + text.length;
          ta.dispatchEvent(new Event("input", { bubbles: true }));
          // The toolbar's picture button now places this picture.
          Array.prototype.forEach.call(document.querySelectorAll("[data-md-tools]"), function (bar) {
            var b = bar.querySelector("button[data-md=picture]");
            if (b) b.setAttribute("data-name", res.j.path);
            var list = bar.querySelector("select[data-md-picture]");
            if (list) {
              var o = document.createElement("option");
              o.value = o.textContent = res.j.path;
              list.insertBefore(o, list.firstChild);
              list.value = res.j.path;
            }
          });
          status.className = "flash";
          status.textContent = (status.getAttribute("data-placed") || "").replace("{kb}", res.j.kb);
          form.reset();
          if (shown) shown.hidden = true;
        })
        .catch(function () { form.submit(); })
        .then(function () { if (button) button.disabled = false; });
    });
  });
})();
