// Offline on the phone, as an extra: with script off every page works as
// before. Registers the service worker (/sw.js); on a course page offers to
// save the course; when there is no connection, shows a banner and keeps
// "lesson finished" and lesson-check answers in IndexedDB as the events
// POST /api/v1/events takes, for the service worker to send later; in
// low-data mode, shows a picture when its link is tapped. On a phone shared
// by a family, saved courses and waiting records are each learner's own, and
// signing out takes hers off the phone.
(() => {
  document.addEventListener("click", (e) => {
    const a = e.target.closest && e.target.closest("a.tap-img");
    if (!a) return;
    e.preventDefault();
    const img = new Image();
    img.src = a.href;
    img.alt = a.dataset.alt || "";
    a.replaceWith(img);
  });

  const sw = navigator.serviceWorker;
  if (!sw || !window.indexedDB || !window.caches) return;
  sw.register("/sw.js").catch(() => {});
  const cached = document.documentElement.dataset.cached === "1";
  const offline = () => cached || !navigator.onLine;
  const banner = document.getElementById("offline-banner");
  // "60 KB", "2.5 MB": what a download costs, as a phone bill says it.
  const kb = (b) =>
    b < 1024 * 1024 ? Math.max(1, Math.round(b / 1024)) + " KB" : (b / 1048576).toFixed(1) + " MB";
  const fill = (s, v) => s.replace(/\{(\w+)\}/g, (m, k) => (k in v ? v[k] : m));

  function openDb() {
    return new Promise((ok, no) => {
      const r = indexedDB.open("fuzhi", 1);
      r.onupgradeneeded = () => {
        r.result.createObjectStore("outbox", { keyPath: "id" });
        r.result.createObjectStore("results", { keyPath: "id" });
      };
      r.onsuccess = () => ok(r.result);
      r.onerror = () => no(r.error);
    });
  }
  async function store(name, mode, fn) {
    const db = await openDb();
    return new Promise((ok, no) => {
      const t = db.transaction(name, mode);
      const r = fn(t.objectStore(name));
      t.oncomplete = () => ok(r ? r.result : undefined);
      t.onerror = () => no(t.error);
    });
  }

  // The banner: offline, and how many records wait to be sent.
  // Records are kept with who made them: on a phone shared by a family, each
  // person's wait for her own session.
  const user = banner ? Number(banner.dataset.user) : 0;
  // Whose saved courses the service worker may show offline: the learner this
  // page (seen online) is signed in as; nobody's on a signed-out page.
  const own = (u) => "fuzhi-course-u" + u + "-";
  const setWho = (u) =>
    caches.open("fuzhi-who").then((c) => c.put("/who", new Response(String(u))));
  if (!cached && navigator.onLine) setWho(user).catch(() => {});
  async function update(note) {
    if (!banner) return;
    const all = await store("outbox", "readonly", (s) => s.getAll());
    const mine = all.filter((ev) => ev.user === user);
    const n = mine.filter((ev) => !ev.reason).length;
    // Records the server refused stay on the phone with the reason.
    const held = mine.filter((ev) => ev.reason);
    const heldText = held.length
      ? fill(banner.dataset.held, { n: held.length, reason: held[0].reason })
      : "";
    const text = note || [n ? fill(banner.dataset.waiting, { n }) : "", heldText].filter(Boolean).join(" ");
    banner.querySelector("[data-offline]").hidden = !offline();
    banner.querySelector("[data-count]").textContent = text;
    banner.hidden = !(offline() || n || held.length || note);
    return n;
  }

  // Asks the service worker to send what waits. A phone can say it is
  // online while the server is out of reach: then it tries again, less
  // and less often.
  let wait = 5000;
  function replay() {
    if (!navigator.onLine) return;
    sw.ready.then((reg) => reg.active && reg.active.postMessage({ type: "replay" }));
  }

  const uuid = () =>
    crypto.randomUUID
      ? crypto.randomUUID()
      : "10000000-1000-4000-8000-100000000000".replace(/[018]/g, (c) =>
          (c ^ (crypto.getRandomValues(new Uint8Array(1))[0] & (15 >> (c / 4)))).toString(16),
        );

  async function queue(ev) {
    ev.id = uuid();
    ev.occurred_at = new Date().toISOString();
    ev.user = user;
    await store("outbox", "readwrite", (s) => s.put(ev));
    sw.ready
      .then((reg) => reg.sync && reg.sync.register("fuzhi-outbox"))
      .catch(() => {});
    await update();
    replay();
    return ev.id;
  }

  // The answers of a quiz form, as the server reads them (see quiz_form).
  function answers(form) {
    const out = {};
    const order = {};
    for (const [k, v] of new FormData(form)) {
      if (k.startsWith("q.")) (out[k.slice(2)] = out[k.slice(2)] || []).push(v);
      else if (k.startsWith("order.")) {
        const rest = k.slice(6);
        const dot = rest.indexOf(".");
        const q = rest.slice(0, dot);
        (order[q] = order[q] || []).push([parseInt(v, 10) || 99, rest.slice(dot + 1)]);
      }
    }
    for (const q in order) {
      out[q] = order[q]
        .sort((a, b) => a[0] - b[0] || (a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0))
        .map((x) => x[1]);
    }
    return out;
  }

  // Online, forms post as always; offline, these two are kept for later.
  document.addEventListener("submit", (e) => {
    if (!offline() || !banner) return;
    const f = e.target;
    const path = new URL(f.action, location.href).pathname;
    const part = (s) => decodeURIComponent(s);
    let m = path.match(/^\/courses\/([^/]+)\/lessons\/([^/]+)\/done$/);
    if (m) {
      e.preventDefault();
      const ev = { kind: "lesson_finished", course: part(m[1]), lesson: part(m[2]), payload: {} };
      // The server's proof that it gave her this lesson (see events::served_proof).
      if (f.elements.served) ev.served = f.elements.served.value;
      queue(ev).then(() => {
        location.href = f.dataset.next || "/courses/" + m[1];
      });
      return;
    }
    m = path.match(/^\/courses\/([^/]+)\/quiz\/([^/]+)$/);
    if (m && f.method.toLowerCase() === "post") {
      e.preventDefault();
      const ev = {
        kind: "quiz_submitted",
        course: part(m[1]),
        payload: { quiz: part(m[2]), answers: answers(f) },
      };
      queue(ev).then((id) => {
        const p = document.createElement("p");
        p.className = "flash warn";
        p.setAttribute("role", "status");
        p.dataset.pending = id;
        p.textContent = banner.dataset.queued;
        f.replaceWith(p);
      });
    }
  });

  // What the service worker reports once records are sent: a quiz answered
  // offline shows its mark where it said "will be marked".
  sw.startMessages();
  sw.addEventListener("message", (e) => {
    const msg = e.data || {};
    if (msg.type === "signin") return update(banner && banner.dataset.signin);
    if (msg.type === "failed") {
      setTimeout(replay, wait);
      wait = Math.min(wait * 2, 120000);
      return;
    }
    if (msg.type !== "sent") return;
    wait = 5000;
    for (const r of msg.results || []) {
      const p = document.querySelector(`[data-pending="${r.id}"]`);
      if (!p || !banner) continue;
      const g = r.graded;
      p.className = "flash" + (g && g.passed ? "" : " error");
      p.textContent = g
        ? fill(banner.dataset.marked, { score: g.score, max: g.max_score, percent: g.percent }) +
          " " + (g.passed ? banner.dataset.passed : banner.dataset.failed)
        : fill(banner.dataset.refused, { reason: r.reason || "" });
      p.dataset.sent = r.id;
    }
    update();
  });

  // Signing out: what waits of hers is sent first (a few seconds at most),
  // then her saved courses and her records leave the phone, so that the next
  // person can neither read them nor add to them; then the form goes.
  async function leave() {
    await new Promise((done) => {
      const t = setTimeout(done, 3000);
      sw.addEventListener("message", (e) => {
        const type = (e.data || {}).type;
        if (type === "sent" || type === "signin" || type === "failed") {
          clearTimeout(t);
          done();
        }
      });
      replay();
    });
    await setWho(0);
    for (const n of await caches.keys()) if (n.startsWith(own(user))) await caches.delete(n);
    const mine = (await store("outbox", "readonly", (s) => s.getAll())).filter((ev) => ev.user === user);
    await store("outbox", "readwrite", (s) => {
      for (const ev of mine) s.delete(ev.id);
    });
  }
  document.addEventListener("submit", (e) => {
    const f = e.target;
    if (!user || new URL(f.action, location.href).pathname !== "/logout") return;
    // Offline the sign-out cannot reach the server: she stays signed in, and
    // nothing of hers is taken off.
    if (f.dataset.left || !navigator.onLine) return;
    e.preventDefault();
    const go = () => {
      f.dataset.left = "1";
      f.submit();
    };
    leave().then(go, go);
  });

  // Only when something of hers waits: otherwise no request at all.
  const send = () => update().then((n) => n && replay());
  window.addEventListener("online", send);
  window.addEventListener("offline", () => update());
  send();

  // The course page: save the course on the phone, or remove it.
  const panel = document.getElementById("offline-save");
  if (!panel) return;
  const name = own(user) + panel.dataset.course;
  const $ = (s) => panel.querySelector(s);
  const [save, light, remove, bar, status] = ["[data-save]", "[data-light]", "[data-remove]", "[data-bar]", "[data-status]"].map($);
  const withVideos = $("button[data-with-videos]");
  // Narration is most of a course's weight: it can be left for Wi-Fi.
  const isAudio = (f) => f.kind === "media" && /\.(opus|mp3|m4a)$/i.test(f.url);
  let list = null;
  async function show() {
    const has = await caches.has(name);
    $("[data-saved]").hidden = !has;
    $("[data-note]").hidden = has;
    remove.hidden = !has;
    save.hidden = has;
    if (has) light.hidden = true;
    if (has && withVideos) withVideos.hidden = true;
  }
  panel.hidden = false;
  show();
  // The first tap asks what the course would cost (one small request, only
  // when she wants it) and says so; the second downloads.
  async function price() {
    const url = `/api/v1/courses/${encodeURIComponent(panel.dataset.course)}/offline`;
    list = await fetch(url, { credentials: "same-origin" })
      .then((r) => (r.ok ? r.json() : null))
      .catch(() => null);
    if (!list) {
      status.textContent = panel.dataset.failed;
      return;
    }
    save.textContent = fill(panel.dataset.size, { size: kb(list.bytes) });
    status.textContent = fill(panel.dataset.confirm, { size: kb(list.bytes) });
    const text = list.files.filter((f) => !isAudio(f));
    if (text.length < list.files.length) {
      light.textContent = fill(panel.dataset.light, { size: kb(text.reduce((n, f) => n + f.bytes, 0)) });
      light.hidden = false;
    }
    // Videos are never kept unless she chooses them: said, with their size.
    const videos = list.videos || [];
    if (videos.length && withVideos) {
      const vbytes = videos.reduce((n, f) => n + f.bytes, 0);
      status.textContent += " " + fill(panel.dataset.videos, { n: videos.length, size: kb(vbytes) });
      withVideos.textContent = fill(panel.dataset.withVideos, { size: kb(list.bytes + vbytes) });
      withVideos.hidden = false;
    }
  }
  async function download(files) {
    const total = files.reduce((n, f) => n + f.bytes, 0);
    save.disabled = light.disabled = true;
    if (withVideos) withVideos.disabled = true;
    bar.hidden = false;
    let done = 0;
    try {
      const cache = await caches.open(name);
      for (const f of files) {
        const res = await fetch(f.url, { credentials: "same-origin", headers: { "X-Offline-Save": "1" } });
        if (!res.ok || res.redirected) throw new Error(f.url);
        await cache.put(f.url, res);
        done += f.bytes;
        bar.value = Math.round((done * 100) / Math.max(1, total));
        status.textContent = fill(panel.dataset.saving, { done: kb(done), total: kb(total) });
      }
      status.textContent = "";
    } catch (err) {
      await caches.delete(name);
      status.textContent = panel.dataset.failed;
    }
    bar.hidden = true;
    save.disabled = light.disabled = false;
    if (withVideos) withVideos.disabled = false;
    show();
  }
  save.addEventListener("click", () => (list ? download(list.files) : price()));
  light.addEventListener("click", () => list && download(list.files.filter((f) => !isAudio(f))));
  if (withVideos) {
    withVideos.addEventListener("click", async () => {
      const url = `/api/v1/courses/${encodeURIComponent(panel.dataset.course)}/offline?videos=1`;
      const all = await fetch(url, { credentials: "same-origin" }).then((r) => (r.ok ? r.json() : null)).catch(() => null);
      if (all) download(all.files);
      else status.textContent = panel.dataset.failed;
    });
  }
  remove.addEventListener("click", async () => {
    await caches.delete(name);
    list = null;
    save.textContent = panel.dataset.label;
    show();
  });
})();
