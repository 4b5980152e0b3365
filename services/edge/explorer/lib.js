// warren's explorer, its plumbing: the one HTTP call (with the raw JSON
// and curl command it leaves on screen), what the OpenAPI document says of
// a collection, the page's locations (the hash is the API path) and the
// DOM helpers every view uses. Values reach the page as text only.
export const state = {
  key: "", // the API key: in memory only, never stored
  doc: null, // /api/openapi.json
  methods: {}, // collection -> its methods from GET /api (when the document lacks them)
  path: null, // the API path on screen, without its query
  seq: 0, // renders started: an answer for an older one is dropped
  notice: "", // what a write did, said with the next view's status
};

export const $ = (id) => document.getElementById(id);

// An element with attributes (on* are listeners) and children (strings
// become text nodes: never parsed as markup).
export function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
    else if (k === "text") e.textContent = v;
    else e.setAttribute(k, v === true ? "" : String(v));
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    e.append(typeof c === "string" ? document.createTextNode(c) : c);
  }
  return e;
}

export function clear(node) {
  while (node.firstChild) node.removeChild(node.firstChild);
}

// --- the API -----------------------------------------------------------

// One HTTP call to the edge (same origin, relative paths only). Returns
// {status, ok, json, text, headers}; a network failure is status 0.
export async function call(method, path, body) {
  const headers = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (method !== "GET" && state.key !== "") headers.Authorization = "Bearer " + state.key;
  const init = { method, headers, cache: "no-cache", credentials: "omit" };
  if (body !== undefined) init.body = JSON.stringify(body);
  let res;
  try {
    res = await fetch(path, init);
  } catch (e) {
    return { status: 0, ok: false, json: null, text: String(e), headers: new Headers() };
  }
  const text = await res.text();
  let json = null;
  try {
    json = text === "" ? null : JSON.parse(text);
  } catch (e) {
    json = null;
  }
  const r = { status: res.status, ok: res.ok, json, text, headers: res.headers };
  showRaw(method, path, body, r);
  return r;
}

// Single-quoted for a POSIX shell.
function sq(s) {
  return "'" + String(s).replace(/'/g, "'\\''") + "'";
}

// The curl command of a call, the key left to the shell's $WARREN_API_KEY.
function curlOf(method, path, body) {
  const parts = ["curl -s"];
  if (method !== "GET") parts.push("-X " + method);
  if (method !== "GET") parts.push('-H "Authorization: Bearer $WARREN_API_KEY"');
  if (body !== undefined) {
    parts.push("-H 'Content-Type: application/json'");
    parts.push("-d " + sq(JSON.stringify(body)));
  }
  parts.push(sq(location.origin + path));
  return parts.join(" ");
}

function showRaw(method, path, body, r) {
  $("curl").textContent = curlOf(method, path, body);
  $("raw-status").textContent = method + " " + path + ": " + (r.status || "no answer");
  $("raw").textContent = r.json !== null ? JSON.stringify(r.json, null, 2) : r.text;
}

export function setStatus(text) {
  $("status").textContent = text;
}

// The JSON error body of a failed call, shown as it came.
export function showError(r) {
  const box = $("error");
  clear(box);
  if (r === null) return;
  const code = r.json && typeof r.json.code === "string" ? r.json.code : "error";
  const msg =
    r.json && typeof r.json.message === "string"
      ? r.json.message
      : r.status === 0
        ? "the edge did not answer: " + r.text
        : r.text;
  box.append(
    el("p", { class: "error" }, el("strong", {}, (r.status || "") + " " + code + ": "), msg),
  );
}

// --- what the OpenAPI document says ------------------------------------

function schemaOf(collection) {
  const s = state.doc && state.doc.components && state.doc.components.schemas;
  return s && Object.prototype.hasOwnProperty.call(s, collection) ? s[collection] : null;
}

// A schema reference's collection: "#/components/schemas/Artists_flat" -> "Artists".
function refTarget(ref) {
  const m = /^#\/components\/schemas\/(.+?)(_flat)?$/.exec(ref || "");
  return m ? m[1] : null;
}

// Without the document (it failed to load): the attributes a sample
// object shows, relations and key unknown.
export function guessShape(shape, sample) {
  if (shape.attrs.length > 0 || Object.keys(shape.rels).length > 0 || !sample) return shape;
  for (const [name, v] of Object.entries(sample)) {
    if (v === null || typeof v !== "object") shape.attrs.push({ name, type: "string" });
  }
  return shape;
}

// Attributes (name, type) and relations (name -> {target, many}) of a collection.
export function shapeOf(collection) {
  const s = schemaOf(collection);
  const shape = { attrs: [], rels: {}, key: [] };
  if (s === null) return shape;
  shape.key = Array.isArray(s["x-primary-key"]) ? s["x-primary-key"] : [];
  for (const [name, p] of Object.entries(s.properties || {})) {
    if (p.type === "array" && p.items && p.items.$ref) {
      shape.rels[name] = { target: refTarget(p.items.$ref), many: true };
    } else if (p.$ref || (Array.isArray(p.anyOf) && p.anyOf.some((a) => a.$ref))) {
      const ref = p.$ref || p.anyOf.find((a) => a.$ref).$ref;
      shape.rels[name] = { target: refTarget(ref), many: false };
    } else {
      const types = Array.isArray(p.type) ? p.type : [p.type];
      shape.attrs.push({ name, type: types.find((t) => t !== "null") || "string" });
    }
  }
  return shape;
}

// The methods a collection takes: the document's operations, else GET /api's list.
export function allows(collection) {
  const paths = (state.doc && state.doc.paths) || {};
  const list = paths["/api/" + collection];
  const one = paths["/api/" + collection + "/{id}"];
  if (list || one) {
    return {
      create: !!(list && list.post),
      update: !!(one && (one.patch || one.put)),
      remove: !!(one && one.delete),
    };
  }
  const m = state.methods[collection] || [];
  return {
    create: m.includes("POST"),
    update: m.includes("PATCH") || m.includes("PUT"),
    remove: m.includes("DELETE"),
  };
}

// --- locations -----------------------------------------------------------

// The hash's API path and query: "#/Albums?page=2" -> {segs: ["Albums"], query}.
export function parseHash() {
  const h = location.hash.replace(/^#\/?/, "");
  const qmark = h.indexOf("?");
  const path = qmark < 0 ? h : h.slice(0, qmark);
  const query = new URLSearchParams(qmark < 0 ? "" : h.slice(qmark + 1));
  const segs = path === "" ? [] : path.split("/").map((s) => decodeURIComponent(s));
  return { segs, query };
}

export function hashOf(segs, query) {
  const q = query && query.toString();
  return "#/" + segs.map(encodeURIComponent).join("/") + (q ? "?" + q : "");
}

// An API URL (a Link header's, absolute) as a hash of this page: the
// path below /api and the query, whatever host the edge wrote.
export function hashOfApiUrl(u) {
  const url = new URL(u, location.origin);
  if (!url.pathname.startsWith("/api/")) return null;
  return "#" + url.pathname.slice(4) + url.search;
}

// An object's key as a path segment: composite keys joined by ','.
export function keyOf(shape, obj) {
  if (!obj || shape.key.length === 0) return null;
  const vals = shape.key.map((k) => obj[k]);
  if (vals.some((v) => v === undefined || v === null)) return null;
  return vals.map((v) => String(v)).join(",");
}

// The collection a path's objects belong to: /C, /C/id, /C/id/rel[/rid].
export function collectionOf(segs) {
  if (segs.length <= 2) return segs[0];
  const rel = shapeOf(segs[0]).rels[segs[2]];
  return rel ? rel.target : null;
}

// Link header -> {rel: url}.
export function parseLinks(header) {
  const links = {};
  for (const m of (header || "").matchAll(/<([^>]*)>\s*;\s*rel="([^"]*)"/g)) links[m[2]] = m[1];
  return links;
}

// --- rendering values ----------------------------------------------------

// A short label for a related object: its name or title, else its key.
function labelOf(obj, shape) {
  for (const f of ["name", "title", "first_name"]) {
    if (typeof obj[f] === "string") return obj[f];
  }
  const k = keyOf(shape, obj);
  return k !== null ? k : "(object)";
}

export function valueCell(v) {
  if (v === null || v === undefined) return el("span", { class: "null" }, "null");
  if (typeof v === "object") return el("code", {}, JSON.stringify(v));
  return String(v);
}

// A relation's value as a link: a to-one to the object, a to-many to
// its page (/C/id/rel).
export function relationCell(collection, id, name, rel, v) {
  if (rel.many) {
    const n = Array.isArray(v) ? " (" + v.length + ")" : "";
    if (id === null) return name + n;
    return el("a", { href: hashOf([collection, id, name]), class: "many" }, name + n);
  }
  if (v === null) return el("span", { class: "null" }, "none");
  const tshape = shapeOf(rel.target);
  const tkey = v && typeof v === "object" ? keyOf(tshape, v) : null;
  if (tkey !== null) {
    return el("a", { href: hashOf([rel.target, tkey]) }, labelOf(v, tshape));
  }
  if (id === null) return name;
  return el("a", { href: hashOf([collection, id, name]) }, name);
}
