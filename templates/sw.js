// fuzhi's service worker, served at /sw.js (scope "/") with VERSION and
// SHELL (the hashed addresses of the static files every page needs) put in
// front of this code.
//
// - Static files have hashed, immutable addresses: from the phone's copy
//   first. Course media (/c/<course>/<version>/…) are immutable too.
// - Pages: from the network; when it does not answer, the copy of a saved
//   course (the page then says it is offline). A saved page seen online
//   replaces its copy, so copies stay fresh.
// - Learning records made offline wait in IndexedDB ("outbox", written by
//   offline.js) and are sent to POST /api/v1/events when the connection
//   returns (Background Sync, or a message from a page). Each record has its
//   own id, so sending one twice stores it once. A record leaves the phone
//   only when the server stored it (or had it already); one it refused stays
//   with the reason, shown to its learner, and is not sent again.
// - A phone may be shared by a family: each learner's saved courses are kept
//   in caches of her own ("fuzhi-course-u<id>-<course>"), and only the
//   caches of the learner the phone last showed signed in ("fuzhi-who",
//   written by offline.js; none once she signs out) are ever served. Her
//   records carry her id to the server, which refuses another learner's.

const STATIC = "fuzhi-static-" + VERSION;
const COURSE = "fuzhi-course-";
const WHO = "fuzhi-who";

self.addEventListener("install", (e) => {
  e.waitUntil(
    caches
      .open(STATIC)
      .then((c) => c.addAll(SHELL))
      .then(() => self.skipWaiting()),
  );
});

self.addEventListener("activate", (e) => {
  e.waitUntil(
    caches
      .keys()
      .then((names) =>
        Promise.all(
          names
            .filter(
              (n) =>
                (n.startsWith("fuzhi-static-") && n !== STATIC) ||
                // A copy saved before copies had an owner: nobody's to show.
                (n.startsWith(COURSE) && !/^fuzhi-course-u\d+-/.test(n)),
            )
            .map((n) => caches.delete(n)),
        ),
      )
      .then(() => self.clients.claim()),
  );
});

self.addEventListener("fetch", (e) => {
  const req = e.request;
  if (req.method !== "GET") return;
  const url = new URL(req.url);
  if (url.origin !== location.origin) return;
  if (url.pathname.startsWith("/static/") || url.pathname.startsWith("/c/")) {
    e.respondWith(copyFirst(req, url));
  } else if (req.mode === "navigate" || url.pathname.startsWith("/courses/")) {
    e.respondWith(networkFirst(e, req, url));
  }
});

async function copyFirst(req, url) {
  const hit = await caches.match(url.pathname, { ignoreVary: true });
  if (hit) return hit;
  const res = await fetch(req);
  if (res.ok && url.pathname.startsWith("/static/")) {
    const c = await caches.open(STATIC);
    await c.put(url.pathname, res.clone());
  }
  return res;
}

async function networkFirst(e, req, url) {
  try {
    const res = await fetch(req);
    if (req.mode === "navigate" && res.ok && !res.redirected) {
      e.waitUntil(refresh(url.pathname, res.clone()));
    }
    return res;
  } catch (err) {
    const hit = await mine(url.pathname);
    if (hit) return req.mode === "navigate" ? marked(hit) : hit;
    if (req.mode === "navigate") return nothingSaved();
    throw err;
  }
}

// The learner the phone last showed signed in (0: nobody).
async function who() {
  const res = await (await caches.open(WHO)).match("/who");
  return res ? Number(await res.text()) || 0 : 0;
}

// The cache of `user`'s copy of the course a path belongs to.
function courseOf(path, user) {
  const m = path.match(/^\/courses\/([^/]+)/);
  return m && user ? COURSE + "u" + user + "-" + decodeURIComponent(m[1]) : null;
}

// The saved copy of a page, from the caches of the learner signed in only.
async function mine(path) {
  const name = courseOf(path, await who());
  if (!name || !(await caches.has(name))) return undefined;
  return (await caches.open(name)).match(path, { ignoreVary: true });
}

// A saved page seen online replaces the copy of the learner it was made for
// (the page says whose it is), never another's.
async function refresh(path, res) {
  const user = ((await res.clone().text()).match(/data-user="(\d+)"/) || [])[1];
  const name = courseOf(path, Number(user));
  if (!name || !(await caches.has(name))) return;
  const c = await caches.open(name);
  if (await c.match(path, { ignoreVary: true })) await c.put(path, res);
}

// A saved page served because the network did not answer: marked so that
// its script shows the offline banner.
async function marked(res) {
  const html = (await res.text()).replace("<html ", '<html data-cached="1" ');
  const headers = new Headers(res.headers);
  headers.delete("content-encoding");
  headers.delete("content-length");
  return new Response(html, { status: res.status, headers });
}

// A page that was not saved, asked for offline: say so, and list the
// courses that are saved.
async function nothingSaved() {
  const own = COURSE + "u" + (await who()) + "-";
  const names = (await caches.keys()).filter((n) => n.startsWith(own));
  const esc = (s) => s.replace(/[&<>"]/g, (c) => "&#" + c.charCodeAt(0) + ";");
  const links = names
    .map((n) => n.slice(own.length))
    .map((s) => `<li><a href="/courses/${encodeURIComponent(s)}">${esc(s)}</a></li>`)
    .join("");
  const html =
    `<!doctype html><html lang="zh-CN" data-cached="1"><head><meta charset="utf-8">` +
    `<meta name="viewport" content="width=device-width,initial-scale=1"><title>扶智</title>` +
    `<link rel="stylesheet" href="${SHELL[0]}"></head><body><main id="main">` +
    `<h1>现在没有网络 <span lang="en">· You are offline</span></h1>` +
    `<p>这一页没有存在手机上。<span lang="en">This page is not saved on your phone.</span></p>` +
    (links ? `<ul>${links}</ul>` : "") +
    `</main></body></html>`;
  return new Response(html, {
    status: 503,
    headers: { "content-type": "text/html; charset=utf-8" },
  });
}

// --- Learning records made offline ------------------------------------------

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

// Runs `fn` on a store in one transaction; resolves with its request's result.
async function store(name, mode, fn) {
  const db = await openDb();
  return new Promise((ok, no) => {
    const t = db.transaction(name, mode);
    const r = fn(t.objectStore(name));
    t.oncomplete = () => ok(r ? r.result : undefined);
    t.onerror = () => no(t.error);
  });
}

async function tell(msg) {
  for (const c of await self.clients.matchAll({ includeUncontrolled: true })) {
    c.postMessage(msg);
  }
}

// Who is signed in now and the CSRF token of her session (it changes with
// each sign-in, so the one in a saved page may be stale); null when signed out.
async function session() {
  const res = await fetch("/me", { credentials: "same-origin", cache: "no-store" });
  if (!res.ok || res.redirected) return null;
  const html = await res.text();
  const csrf = html.match(/name="csrf" value="([^"]+)"/);
  const user = html.match(/data-user="(\d+)"/);
  return csrf && user ? { csrf: csrf[1], user: Number(user[1]) } : null;
}

async function post(csrf, batch) {
  return fetch("/api/v1/events", {
    method: "POST",
    credentials: "same-origin",
    headers: { "content-type": "application/json", "x-csrf-token": csrf },
    // The events as the API takes them, each with the learner who made it:
    // the server refuses one that is not the session's.
    body: JSON.stringify(batch.map(({ user, ...ev }) => ({ ...ev, learner: user }))),
  });
}

async function send() {
  const all = await store("outbox", "readonly", (s) => s.getAll());
  if (!all.length) return tell({ type: "sent", results: [] });
  let me = await session();
  if (!me) return tell({ type: "signin" });
  // Only the records of the person signed in now; others wait for theirs.
  // A record the server refused stays, with the reason, for her to see; it
  // is not sent again.
  const items = all.filter((ev) => ev.user === me.user && !ev.reason);
  let csrf = me.csrf;
  const results = [];
  for (let i = 0; i < items.length; i += 500) {
    const batch = items.slice(i, i + 500);
    let res = await post(csrf, batch);
    if (res.status === 403) {
      me = await session();
      if (me) res = await post((csrf = me.csrf), batch);
    }
    if (res.status === 401 || res.status === 403) {
      return tell({ type: "signin" });
    }
    if (!res.ok) return;
    const report = await res.json();
    const graded = report.graded || {};
    const refused = new Map((report.rejected || []).map((r) => [r.id, r.reason]));
    const done = batch.map((ev) => ({
      id: ev.id,
      course: ev.course,
      quiz: ev.payload && ev.payload.quiz,
      graded: graded[ev.id] || null,
      reason: refused.get(ev.id) || null,
    }));
    // Removed from the phone: what the server stored, or had already
    // (duplicates). A refused record is kept with its reason, never dropped.
    await store("outbox", "readwrite", (s) => {
      for (const ev of batch) {
        const reason = refused.get(ev.id);
        if (reason) s.put({ ...ev, reason });
        else s.delete(ev.id);
      }
    });
    await store("results", "readwrite", (s) => {
      for (const r of done) if (r.quiz) s.put(r);
    });
    results.push(...done);
  }
  return tell({ type: "sent", results });
}

// One sending at a time: a sync and a page's message may come together.
let sending = null;
function replay() {
  if (!sending) {
    sending = send()
      .catch(() => tell({ type: "failed" }))
      .finally(() => {
        sending = null;
      });
  }
  return sending;
}

self.addEventListener("sync", (e) => {
  if (e.tag === "fuzhi-outbox") e.waitUntil(replay());
});

self.addEventListener("message", (e) => {
  if (e.data && e.data.type === "replay") e.waitUntil(replay());
});
