// The explorer as a person uses it, in Debian's Chromium (headless), against
// a live edge and catalog worker (tests/browser/explorer.sh starts them):
// the explorer's headers (and none on the API's answers), the collections,
// a filter whose rows match the API's answer for the same q, the next page,
// a sort, an album's Artist link, the raw JSON and curl, the keyboard, a
// phone's width, writes with an API key (and the JSON error without one),
// hostile data shown as text; no console error and no CSP violation
// anywhere. Screenshots go to WRT_ARTIFACTS.
"use strict";

const assert = require("node:assert/strict");
const http = require("node:http");
const path = require("node:path");
const { chromium } = require("playwright-core");

const base = process.env.WRT_EXPLORER_URL;
const key = process.env.WRT_EXPLORER_KEY;
const artifacts = process.env.WRT_ARTIFACTS;
const CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; " +
  "img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

let current = "";
function step(what) {
  current = what;
  console.log("== " + what);
}
// Chromium logs every 4xx answer as a console error: the one refused write
// the test asks for on purpose is expected, nothing else.
const EXPECTED_401 = "a write without a key: the API's JSON error is shown";

async function api(p, init) {
  const r = await fetch(base + p, init);
  const text = await r.text();
  const isJson = (r.headers.get("content-type") || "").startsWith("application/json");
  return { status: r.status, headers: r.headers, text, json: isJson && text ? JSON.parse(text) : null };
}

// The status of a GET of p sent as it is (fetch would resolve "..").
function rawStatus(p) {
  const u = new URL(base);
  return new Promise((resolve, reject) => {
    http.get({ host: u.hostname, port: u.port, path: p }, (res) => {
      res.resume();
      resolve(res.statusCode);
    }).on("error", reject);
  });
}

function qs(q, extra) {
  const p = new URLSearchParams();
  if (q) p.set("q", JSON.stringify(q));
  for (const [k, v] of Object.entries(extra || {})) p.set(k, String(v));
  return "?" + p.toString();
}

// The explorer's headers; the API's answers carry none of them.
async function checkHeaders() {
  step("headers: the explorer's files, 304, HEAD, 404, 405, and the API without CSP");
  const files = [
    ["/", "text/html; charset=utf-8"],
    ["/explorer/", "text/html; charset=utf-8"],
    ["/explorer", "text/html; charset=utf-8"],
    ["/explorer/app.js", "text/javascript; charset=utf-8"],
    ["/explorer/lib.js", "text/javascript; charset=utf-8"],
    ["/explorer/style.css", "text/css; charset=utf-8"],
  ];
  for (const [p, type] of files) {
    const r = await api(p);
    assert.equal(r.status, 200, p);
    assert.equal(r.headers.get("content-type"), type, p);
    assert.equal(r.headers.get("content-security-policy"), CSP, p);
    assert.equal(r.headers.get("x-content-type-options"), "nosniff", p);
    assert.equal(r.headers.get("cache-control"), "no-cache", p);
    assert.match(r.headers.get("etag"), /^"[0-9a-f]{16}"$/, p);
    const again = await fetch(base + p, { headers: { "If-None-Match": r.headers.get("etag") } });
    assert.equal(again.status, 304, p + " with its ETag");
    assert.equal(await again.text(), "");
    const weak = await fetch(base + p, { headers: { "If-None-Match": '"x", W/' + r.headers.get("etag") } });
    assert.equal(weak.status, 304, p + " with a weak ETag in a list");
    const other = await fetch(base + p, { headers: { "If-None-Match": '"0000000000000000"' } });
    assert.equal(other.status, 200, p + " with another ETag");
    const head = await fetch(base + p, { method: "HEAD" });
    assert.equal(head.status, 200);
    assert.equal(head.headers.get("content-length"), String(Buffer.byteLength(r.text)));
    assert.equal(await head.text(), "");
  }
  const index = (await api("/")).text;
  assert.ok(Buffer.byteLength(index) < 8192, "the page is small");
  assert.doesNotMatch(index, /<script>|<style|style=|https?:\/\//, "no inline script or style, nothing remote");
  for (const m of ["POST", "PUT", "DELETE", "PATCH", "OPTIONS"]) {
    const r = await api("/", { method: m });
    assert.equal(r.status, 405, m + " /");
    assert.equal(r.headers.get("allow"), "GET, HEAD");
    assert.equal(r.json.code, "method_not_allowed");
  }
  const missing = await api("/explorer/nope.js");
  assert.equal(missing.status, 404);
  assert.equal(missing.headers.get("content-type"), "application/json");
  assert.equal(missing.json.code, "not_found");
  for (const p of ["/explorer/../api", "/explorer/%2e%2e/api", "/explorer//app.js", "/explorer/app.js/"]) {
    assert.equal(await rawStatus(p), 404, p + ": no path outside the explorer's files");
  }
  for (const p of ["/api", "/api/Albums/1", "/api/openapi.json", "/healthz", "/api/nope", "/nope"]) {
    const r = await api(p);
    assert.equal(r.headers.get("content-security-policy"), null, p + " has no CSP");
    assert.equal(r.headers.get("x-content-type-options"), null, p);
  }
}

// Every row's album_id, in order, as the table shows it.
async function shownIds(page) {
  return page.$$eval("#objects tbody tr", (rows) => rows.map((r) => Number(r.cells[0].textContent)));
}

async function waitShown(page, fragment) {
  await page.waitForFunction(
    (f) => {
      const s = document.getElementById("status").textContent;
      return s.includes(f) && !s.startsWith("Loading");
    },
    fragment,
  );
}

async function main() {
  await checkHeaders();
  const browser = await chromium.launch({
    executablePath: process.env.WRT_CHROMIUM || "/usr/bin/chromium",
    headless: true,
    args: [
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
  const problems = [];
  const context = await browser.newContext({ viewport: { width: 1000, height: 640 } });
  // CSP violations as the page sees them (and Chromium logs them as console errors)
  await context.addInitScript(() => {
    document.addEventListener("securitypolicyviolation", (e) => {
      console.error("CSP violation: " + e.violatedDirective + " " + e.blockedURI);
    });
  });
  const page = await context.newPage();
  page.setDefaultTimeout(10000);
  page.on("console", (m) => {
    const expected = current === EXPECTED_401 && /status of 401 \(Unauthorized\)/.test(m.text());
    if ((m.type() === "error" || m.type() === "warning") && !expected) {
      problems.push("console " + m.type() + " (" + current + "): " + m.text());
    }
  });
  page.on("pageerror", (e) => problems.push("page error: " + e.message));
  page.on("dialog", (d) => {
    problems.push("dialog: " + d.message());
    d.dismiss();
  });
  page.on("requestfailed", (r) => problems.push("request failed: " + r.url()));
  try {
    await run(page);
  } catch (e) {
    await page.screenshot({ path: path.join(artifacts, "explorer-failure.png"), fullPage: true }).catch(() => {});
    throw e;
  } finally {
    await browser.close();
  }
  assert.deepEqual(problems, [], "no console error, CSP violation or failed request");
  console.log("browser_explorer: passed");
}

async function run(page) {
  step("open /: the collections, from GET /api");
  await page.goto(base + "/");
  await page.waitForSelector("#collection-list a[data-collection=Albums]");
  const names = await page.$$eval("#collection-list a", (as) => as.map((a) => a.textContent));
  const listed = (await api("/api")).json.collections.map((c) => c.name);
  assert.deepEqual(names, listed);

  step("pick Albums: the first page, as the API gives it");
  await page.click("#collection-list a[data-collection=Albums]");
  await waitShown(page, "Albums:");
  const first = (await api("/api/Albums")).json;
  assert.deepEqual(await shownIds(page), first.objects.map((o) => o.album_id));
  assert.equal(await page.textContent("#view-title"), "Albums");

  step("filter: title like %Rock%, the rows the API answers for the same q");
  await page.click("#add-filter");
  await page.selectOption("#f0-field", "title");
  await page.selectOption("#f0-op", "like");
  await page.fill("#f0-value", "%Rock%");
  await page.click("#apply");
  await waitShown(page, "of 7,");
  const q = { filters: [{ name: "title", op: "like", val: "%Rock%" }] };
  const hash = new URLSearchParams(new URL(page.url()).hash.split("?")[1]);
  assert.deepEqual(JSON.parse(hash.get("q")), q, "the q the form built");
  const p1 = (await api("/api/Albums" + qs(q))).json;
  assert.equal(p1.num_results, 7);
  assert.deepEqual(await shownIds(page), p1.objects.map((o) => o.album_id));
  const titles = await page.$$eval("#objects tbody tr", (rows) => rows.map((r) => r.cells[2].textContent));
  assert.ok(titles.every((t) => /rock/i.test(t)), "every title has Rock: " + titles);

  step("raw JSON and curl: what is on screen");
  const raw = JSON.parse(await page.textContent("#raw"));
  assert.deepEqual(raw, p1);
  const curl = await page.textContent("#curl");
  assert.ok(curl.startsWith("curl -s '" + base + "/api/Albums?q="), curl);

  step("a page of 5, then the next page from the Link header");
  await page.selectOption("#per-page", "5");
  await page.click("#apply");
  await waitShown(page, "page 1 of 2");
  await page.click("#page-next");
  await waitShown(page, "page 2 of 2");
  const p2 = (await api("/api/Albums" + qs(q, { results_per_page: 5, page: 2 }))).json;
  assert.deepEqual(await shownIds(page), p2.objects.map((o) => o.album_id));
  assert.equal(p2.objects.length, 2);

  step("sort by title, then descending (a click on the column header)");
  await page.click("#objects thead button:has-text('title')");
  await waitShown(page, "page 1 of 2");
  const asc = { filters: q.filters, order_by: [{ field: "title", direction: "asc" }] };
  let want = (await api("/api/Albums" + qs(asc, { results_per_page: 5 }))).json;
  assert.deepEqual(await shownIds(page), want.objects.map((o) => o.album_id));
  assert.equal(await page.getAttribute("#objects thead th:nth-child(3)", "aria-sort"), "ascending");
  await page.click("#objects thead button:has-text('title')");
  await page.waitForSelector("#objects thead th[aria-sort=descending]");
  asc.order_by[0].direction = "desc";
  want = (await api("/api/Albums" + qs(asc, { results_per_page: 5 }))).json;
  assert.deepEqual(await shownIds(page), want.objects.map((o) => o.album_id));

  step("follow an album's Artist link: the artist shown is the API's");
  const album = want.objects[0];
  const artist = (await api("/api/Artists/" + album.artist_id)).json;
  await page.click("#objects tbody tr:first-child a[href^='#/Artists/']");
  await waitShown(page, "Artists " + album.artist_id);
  assert.equal(await page.textContent("#view-title"), "Artists / " + album.artist_id);
  const cells = await page.$$eval("#object tr", (rows) =>
    Object.fromEntries(rows.map((r) => [r.cells[0].textContent, r.cells[1].textContent])),
  );
  assert.equal(cells.name, artist.name);
  assert.equal(cells.artist_id, String(artist.artist_id));
  await page.screenshot({ path: path.join(artifacts, "explorer-artist.png") });

  step("keyboard: Tab to the collection list, Enter opens Artists");
  await page.goto(base + "/");
  await page.waitForSelector("#collection-list a[data-collection=Artists]");
  let reached = false;
  for (let i = 0; i < 40 && !reached; i++) {
    await page.keyboard.press("Tab");
    reached = await page.evaluate(() => document.activeElement.dataset.collection === "Artists");
  }
  assert.ok(reached, "Tab reaches the Artists link");
  const outline = await page.evaluate(() => getComputedStyle(document.activeElement).outlineStyle);
  assert.notEqual(outline, "none", "focus is visible");
  await page.keyboard.press("Enter");
  await waitShown(page, "Artists:");
  assert.equal(await page.textContent("#view-title"), "Artists");
  assert.equal(await page.evaluate(() => document.activeElement.id), "view-title", "focus moves to the view");

  step(EXPECTED_401);
  await page.goto(base + "/#/Albums");
  await waitShown(page, "Albums:");
  await page.click("#create");
  await page.fill("#w-title", "Explorer album");
  await page.fill("#w-artist_id", "1");
  await page.click("#save");
  await page.waitForSelector("#error .error");
  const refused = await page.textContent("#error");
  const direct = await api("/api/Albums", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ title: "x", artist_id: 1 }),
  });
  assert.equal(direct.status, 401);
  assert.ok(refused.includes("401 " + direct.json.code + ": " + direct.json.message), refused);
  assert.equal(
    await page.textContent("#curl"),
    'curl -s -X POST -H "Authorization: Bearer $WARREN_API_KEY" -H \'Content-Type: application/json\' ' +
      "-d '{\"artist_id\":1,\"title\":\"Explorer album\"}' '" + base + "/api/Albums'",
    "the write's curl command, the key left to the shell",
  );

  step("create with the key: hostile text stays text");
  const hostile = "<img src=x onerror=alert(1)> Explorer album";
  await page.fill("#api-key", key);
  await page.fill("#w-title", hostile);
  await page.click("#save");
  await page.waitForSelector("#object");
  const id = (await page.textContent("#view-title")).replace("Albums / ", "");
  const created = (await api("/api/Albums/" + id)).json;
  assert.equal(created.title, hostile);
  assert.equal(created.artist_id, 1);
  const shownTitle = await page.$eval("#object", (t) =>
    [...t.rows].find((r) => r.cells[0].textContent === "title").cells[1].textContent,
  );
  assert.equal(shownTitle, hostile);
  assert.equal(await page.$$eval("main img", (i) => i.length), 0, "no element made from data");

  step("edit, then delete, with the key");
  await page.click("#edit");
  await page.fill("#w-title", "Explorer album, renamed");
  await page.click("#save");
  await waitShown(page, "Saved Albums " + id);
  assert.equal((await api("/api/Albums/" + id)).json.title, "Explorer album, renamed");
  await page.click("#delete");
  await page.click("#delete-yes");
  await waitShown(page, "Albums:");
  assert.equal((await api("/api/Albums/" + id)).status, 404);

  step("the key stays in the tab's memory: no storage, no cookie, gone on a reload");
  const kept = await page.evaluate(() => [localStorage.length, sessionStorage.length, document.cookie]);
  assert.deepEqual(kept, [0, 0, ""], "the page stored something: " + JSON.stringify(kept));
  assert.deepEqual(await page.context().cookies(), [], "a cookie was set");
  await page.reload();
  await page.waitForSelector("#api-key");
  assert.equal(await page.inputValue("#api-key"), "", "the key outlived a reload");

  step("a read-only collection offers no writes (METHODS from the OpenAPI document)");
  await page.goto(base + "/#/Artists/1");
  await page.waitForSelector("#object");
  assert.equal(await page.$$eval("#edit, #delete", (b) => b.length), 0);

  step("a phone's width: nothing wider than the screen but the table's own scroll box");
  await page.setViewportSize({ width: 390, height: 780 });
  await page.goto(base + "/#/Tracks");
  await waitShown(page, "Tracks:");
  const widths = await page.evaluate(() => [document.documentElement.scrollWidth, window.innerWidth]);
  assert.ok(widths[0] <= widths[1], "page width " + widths[0] + " on a " + widths[1] + " px screen");
  await page.screenshot({ path: path.join(artifacts, "explorer-phone.png") });

  step("the screenshot kept as the artifact");
  await page.setViewportSize({ width: 1000, height: 640 });
  await page.goto(base + "/#/Albums" + qs(q, { results_per_page: 10 }));
  await waitShown(page, "of 7,");
  await page.screenshot({ path: path.join(artifacts, "explorer.png") });
  // the README's picture (docs/explorer.png is this file, compressed)
  await page.setViewportSize({ width: 820, height: 560 });
  await page.screenshot({ path: path.join(artifacts, "explorer-readme.png") });
}

main().catch((e) => {
  console.error("browser_explorer: FAILED: " + (e && e.stack ? e.stack : e));
  process.exit(1);
});
