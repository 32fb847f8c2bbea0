// Accessibility and best-practice audit of the pages people use, at phone size:
// Lighthouse (accessibility and best-practices categories) and axe-core
// (serious and critical violations), both in Debian's Chromium. Optionally
// takes screenshots at 390 px and 1280 px.
//
//   node .ci/audit.mjs  (run by .ci/audit, which starts the server and passes
//   the pages as JSON in AUDIT_PAGES; see there)
//
// AUDIT_PAGES = [{"name", "url", "token"?}], AUDIT_OUT = folder for the
// reports, AUDIT_SHOTS = folder for screenshots (optional), AUDIT_MIN = the
// lowest score accepted (0-100). Exit status 1 when a score is under it or axe
// finds a serious or critical violation.
import fs from "node:fs";
import path from "node:path";
import { createRequire } from "node:module";
import puppeteer from "puppeteer-core";
import lighthouse from "lighthouse";

const require = createRequire(import.meta.url);
const axeSource = fs.readFileSync(require.resolve("axe-core/axe.min.js"), "utf8");

const pages = JSON.parse(process.env.AUDIT_PAGES);
const out = process.env.AUDIT_OUT;
const shots = process.env.AUDIT_SHOTS || "";
const min = Number(process.env.AUDIT_MIN || "95");
fs.mkdirSync(out, { recursive: true });
if (shots) fs.mkdirSync(shots, { recursive: true });

const browser = await puppeteer.launch({
  executablePath: process.env.CHROME_PATH || "/usr/bin/chromium",
  headless: true,
  // A first start of Chromium on a busy 2-core machine can pass 30 s.
  timeout: 180000,
  args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--lang=zh-CN"],
});
const port = Number(new URL(browser.wsEndpoint()).port);
const phone = { width: 390, height: 844, deviceScaleFactor: 1, isMobile: true, hasTouch: true };
const desktop = { width: 1280, height: 800, deviceScaleFactor: 1, isMobile: false, hasTouch: false };

let failed = false;
const rows = [];
for (const p of pages) {
  const headers = { "Accept-Language": "zh-CN,zh;q=0.9" };
  if (p.token) headers.Authorization = `Bearer ${p.token}`;

  // axe-core, in a fresh page at phone size.
  const page = await browser.newPage();
  await page.setExtraHTTPHeaders(headers);
  await page.setViewport(phone);
  // A first visit: nothing cached, every byte on the wire counted (headers too).
  await page.setCacheEnabled(false);
  // A first visit has no service worker yet: one that an earlier page
  // installed would answer from its side, out of this page's sight.
  await page.setBypassServiceWorker(true);
  const cdp = await page.createCDPSession();
  await cdp.send("Network.enable");
  let wire = 0;
  cdp.on("Network.loadingFinished", (e) => { wire += e.encodedDataLength; });
  const res = await page.goto(p.url, { waitUntil: "networkidle0" });
  const kb = wire / 1024;
  // A villager's first visit to sign in or read a lesson stays within 30 KB.
  if ((p.name === "sign-in" || p.name === "lesson") && kb > 30) {
    console.error(`${p.name}: the first visit costs ${kb.toFixed(1)} KB, more than 30 KB`);
    failed = true;
  }
  if (!res || res.status() !== 200) {
    console.error(`${p.name}: ${p.url} answered ${res && res.status()}`);
    failed = true;
    await page.close();
    continue;
  }
  await page.evaluate(axeSource);
  const axe = await page.evaluate(async () =>
    // eslint-disable-next-line no-undef
    await axe.run(document, { resultTypes: ["violations"] }),
  );
  const bad = axe.violations.filter((v) => v.impact === "serious" || v.impact === "critical");
  if (shots) {
    await page.screenshot({ path: path.join(shots, `${p.name}-390.png`), fullPage: false });
    await page.setViewport(desktop);
    await page.screenshot({ path: path.join(shots, `${p.name}-1280.png`), fullPage: false });
  }
  await page.close();

  // Lighthouse, phone form factor, in the same browser.
  const result = await lighthouse(
    p.url,
    {
      port,
      output: "json",
      logLevel: "error",
      onlyCategories: ["accessibility", "best-practices"],
      formFactor: "mobile",
      screenEmulation: { mobile: true, width: 390, height: 844, deviceScaleFactor: 1, disabled: false },
      extraHeaders: headers,
      disableStorageReset: true,
    },
  );
  const lhr = result.lhr;
  fs.writeFileSync(path.join(out, `${p.name}.lighthouse.json`), JSON.stringify(lhr));
  fs.writeFileSync(path.join(out, `${p.name}.axe.json`), JSON.stringify(axe.violations, null, 1));
  const a11y = Math.round(lhr.categories.accessibility.score * 100);
  const bp = Math.round(lhr.categories["best-practices"].score * 100);
  rows.push({ page: p.name, accessibility: a11y, "best-practices": bp, "axe serious+critical": bad.length, "first visit KB": kb.toFixed(1) });
  const low = [];
  for (const cat of ["accessibility", "best-practices"]) {
    if (Math.round(lhr.categories[cat].score * 100) < min) {
      for (const ref of lhr.categories[cat].auditRefs) {
        const a = lhr.audits[ref.id];
        if (ref.weight > 0 && a.score !== null && a.score < 1) low.push(`${cat}: ${a.id}: ${a.title}`);
      }
    }
  }
  if (low.length || bad.length) {
    failed = true;
    for (const l of low) console.error(`${p.name}: lighthouse ${l}`);
    for (const v of bad) {
      console.error(`${p.name}: axe ${v.impact} ${v.id}: ${v.help}`);
      for (const n of v.nodes.slice(0, 3)) console.error(`    ${n.target.join(" ")}: ${n.failureSummary.split("\n").join(" ")}`);
    }
  }
}
await browser.close();
console.table(rows);
console.log(`lowest score accepted: ${min}; axe serious or critical violations accepted: 0`);
process.exit(failed ? 1 : 0);
