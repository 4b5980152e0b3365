// warren's explorer: lists the collections (GET /api), pages through one as
// a table (the Link header), builds q searches and sorts from the OpenAPI
// document, follows relations, shows the raw JSON and the curl command of
// what is on screen, and writes where METHODS allows. Every value from the
// API is hostile: it reaches the page through textContent and DOM calls
// only, never as markup. The URL's hash is the API path: #/Albums?page=2
// shows /api/Albums?page=2, so the back button and bookmarks work. This
// file is the views; lib.js the plumbing they share (ES modules, no build).
import {
  state,
  $,
  el,
  clear,
  call,
  setStatus,
  showError,
  guessShape,
  shapeOf,
  allows,
  parseHash,
  hashOf,
  hashOfApiUrl,
  keyOf,
  collectionOf,
  parseLinks,
  valueCell,
  relationCell,
} from "./lib.js";

const OPERATORS = [
  ["==", "equals (==)"],
  ["!=", "does not equal (!=)"],
  ["<", "less than (<)"],
  ["<=", "at most (<=)"],
  [">", "greater than (>)"],
  [">=", "at least (>=)"],
  ["like", "like (% is any text)"],
  ["ilike", "like, any case"],
  ["in", "one of (a, b, c)"],
  ["not_in", "none of (a, b, c)"],
  ["is_null", "is empty (null)"],
  ["is_not_null", "is not empty"],
];
const NO_VALUE = new Set(["is_null", "is_not_null"]);
const LISTS = new Set(["in", "not_in"]);
const PAGE_SIZES = [5, 10, 25, 50, 100];

// --- the collections -----------------------------------------------------

async function loadCollections() {
  const r = await call("GET", "/api");
  const list = $("collection-list");
  clear(list);
  if (!r.ok || !r.json || !Array.isArray(r.json.collections)) {
    $("collections-status").textContent = "Could not list the collections.";
    showError(r);
    return;
  }
  $("collections-status").textContent = r.json.collections.length + " collections";
  for (const c of r.json.collections) {
    if (typeof c.name !== "string") continue;
    state.methods[c.name] = Array.isArray(c.methods) ? c.methods : [];
    list.append(el("li", {}, el("a", { href: hashOf([c.name]), "data-collection": c.name }, c.name)));
  }
  markCurrent();
}

function markCurrent() {
  const cur = parseHash().segs[0];
  for (const a of $("collection-list").querySelectorAll("a")) {
    if (a.dataset.collection === cur) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
  }
}

// --- the search form ---------------------------------------------------

// The filters of a q this page wrote (flat and-ed, or one "or" group).
function filtersOf(q) {
  const f = q && Array.isArray(q.filters) ? q.filters : [];
  if (f.length === 1 && f[0] && Array.isArray(f[0].or)) return { any: true, rows: f[0].or };
  return { any: false, rows: f };
}

// A value typed as the attribute's type: numbers as numbers when they read as one.
function typed(type, s) {
  const t = s.trim();
  if ((type === "integer" || type === "number") && t !== "" && !isNaN(Number(t))) return Number(t);
  if (type === "boolean" && (t === "true" || t === "false")) return t === "true";
  return s;
}

function filterRow(shape, f, n) {
  const id = "f" + n + "-";
  const field = el("select", { id: id + "field" });
  for (const a of shape.attrs) field.append(el("option", { value: a.name }, a.name));
  if (f && f.name) field.value = f.name;
  const op = el("select", { id: id + "op" });
  for (const [v, label] of OPERATORS) op.append(el("option", { value: v }, label));
  op.value = f && f.op ? f.op : "==";
  const shown = f && f.val !== undefined ? (Array.isArray(f.val) ? f.val.join(", ") : String(f.val)) : "";
  const value = el("input", { id: id + "value", type: "text", value: shown });
  const sync = () => {
    value.disabled = NO_VALUE.has(op.value);
  };
  op.addEventListener("change", sync);
  sync();
  const row = el(
    "div",
    { class: "filter-row", role: "group", "aria-label": "Condition " + (n + 1) },
    el("label", { for: id + "field" }, "Field"),
    field,
    el("label", { for: id + "op" }, "Operator"),
    op,
    el("label", { for: id + "value" }, "Value"),
    value,
    el("button", { type: "button", class: "small", onclick: () => row.remove() }, "Remove"),
  );
  row.read = () => {
    const attr = shape.attrs.find((a) => a.name === field.value) || { type: "string" };
    const out = { name: field.value, op: op.value };
    if (NO_VALUE.has(op.value)) return out;
    out.val = LISTS.has(op.value)
      ? value.value.split(",").map((s) => typed(attr.type, s.trim()))
      : typed(attr.type, value.value);
    return out;
  };
  return row;
}

function searchForm(collection, shape, q, query) {
  const { any, rows } = filtersOf(q);
  const box = el("div", { id: "filter-rows" });
  let n = 0;
  for (const f of rows) box.append(filterRow(shape, f, n++));
  const match = el(
    "select",
    { id: "match" },
    el("option", { value: "all" }, "all conditions (and)"),
    el("option", { value: "any" }, "any condition (or)"),
  );
  match.value = any ? "any" : "all";
  const size = el("select", { id: "per-page" });
  for (const s of PAGE_SIZES) size.append(el("option", { value: String(s) }, String(s)));
  size.value = query.get("results_per_page") || "10";
  const form = el(
    "form",
    { id: "search", class: "search", onsubmit: (e) => {
      e.preventDefault();
      const filters = [...box.children].map((r) => r.read());
      const next = {};
      if (filters.length > 0) next.filters = match.value === "any" ? [{ or: filters }] : filters;
      if (q && Array.isArray(q.order_by)) next.order_by = q.order_by;
      go(collection, next, size.value);
    } },
    el(
      "fieldset",
      {},
      el("legend", {}, "Filter " + collection),
      box,
      el("div", { class: "row" },
        el("button", { type: "button", id: "add-filter", onclick: () => {
          const r = filterRow(shape, null, n++);
          box.append(r);
          r.querySelector("select").focus();
        } }, "Add a condition"),
        el("label", { for: "match" }, "Match"),
        match,
        el("label", { for: "per-page" }, "Per page"),
        size,
        el("button", { type: "submit", id: "apply" }, "Apply"),
        el("button", { type: "button", onclick: () => go(collection, {}, size.value) }, "Clear"),
      ),
    ),
  );
  return form;
}

// Shows a collection's first page for a search (an empty one: none).
function go(collection, q, perPage) {
  const query = new URLSearchParams();
  if (q.filters || q.order_by) query.set("q", JSON.stringify(q));
  if (perPage && perPage !== "10") query.set("results_per_page", perPage);
  location.hash = hashOf([collection], query);
}

// --- views -----------------------------------------------------------------

function title(text) {
  $("view-title").textContent = text;
}

async function render() {
  markCurrent();
  const { segs, query } = parseHash();
  const seq = ++state.seq;
  const view = $("view");
  const pathKey = segs.join("/");
  const moved = state.path !== pathKey;
  state.path = pathKey;
  showError(null);
  if (segs.length === 0 || segs.length > 4) {
    clear(view);
    title("Pick a collection");
    setStatus("");
    view.append(el("p", {}, "Choose a collection from the list to browse its objects."));
    return;
  }
  const apiPath = "/api/" + segs.map(encodeURIComponent).join("/") + (query.toString() ? "?" + query : "");
  setStatus("Loading " + apiPath + "…");
  const r = await call("GET", apiPath);
  if (seq !== state.seq) return; // the user moved on while this loaded
  clear(view);
  const collection = collectionOf(segs);
  if (!r.ok) {
    title(segs.join(" / "));
    setStatus("The request failed.");
    showError(r);
  } else if (r.json && Array.isArray(r.json.objects)) {
    renderPage(view, segs, query, collection, r);
  } else {
    renderObject(view, segs, collection, r.json);
  }
  if (state.notice !== "") setStatus(state.notice + " " + $("status").textContent);
  state.notice = "";
  if (moved) $("view-title").focus();
  watchChanges(collection);
}

function renderPage(view, segs, query, collection, r) {
  const page = r.json;
  const shape = guessShape(shapeOf(collection), page.objects[0]);
  const top = segs.length === 1;
  let q = null;
  try {
    q = query.has("q") ? JSON.parse(query.get("q")) : null;
  } catch (e) {
    q = null;
  }
  title(segs.length === 1 ? collection : segs.join(" / "));
  const total = page.num_results;
  const pages = page.total_pages;
  const summary =
    page.objects.length +
    " shown" +
    (total !== null && total !== undefined ? " of " + total : "") +
    ", page " +
    page.page +
    (pages ? " of " + pages : "");
  setStatus(collection + ": " + summary);
  if (top) view.append(searchForm(collection, shape, q, query));
  if (top && allows(collection).create) {
    view.append(
      el("p", {}, el("button", { type: "button", id: "create", onclick: () => editForm(collection, null) }, "New object in " + collection)),
    );
  }
  const order = q && Array.isArray(q.order_by) && q.order_by[0] ? q.order_by[0] : null;
  const head = el("tr");
  // the key first, then the other attributes in the document's order
  const attrs = shape.key.concat(shape.attrs.map((a) => a.name).filter((n) => !shape.key.includes(n)));
  const rels = Object.keys(shape.rels);
  for (const name of attrs) {
    const sorted = order && order.field === name ? order.direction : null;
    const th = el("th", {
      scope: "col",
      "aria-sort": sorted === "asc" ? "ascending" : sorted === "desc" ? "descending" : null,
    });
    if (top) {
      th.append(
        el(
          "button",
          {
            type: "button",
            class: "sort",
            onclick: () => {
              const next = Object.assign({}, q || {});
              next.order_by = [{ field: name, direction: sorted === "asc" ? "desc" : "asc" }];
              go(collection, next, query.get("results_per_page") || "10");
            },
          },
          name,
          el("span", { class: "arrow", "aria-hidden": "true" }, sorted === "asc" ? " ▲" : sorted === "desc" ? " ▼" : ""),
        ),
      );
    } else {
      th.textContent = name;
    }
    head.append(th);
  }
  for (const name of rels) head.append(el("th", { scope: "col" }, name));
  const body = el("tbody");
  for (const obj of page.objects) {
    const id = keyOf(shape, obj);
    const tr = el("tr");
    for (const name of attrs) {
      const v = obj[name];
      const isKey = shape.key.length === 1 && shape.key[0] === name && id !== null;
      tr.append(el("td", {}, isKey ? el("a", { href: hashOf([collection, id]) }, String(v)) : valueCell(v)));
    }
    for (const name of rels) {
      tr.append(el("td", {}, relationCell(collection, id, name, shape.rels[name], obj[name])));
    }
    if (shape.key.length > 1 && id !== null) {
      tr.append(el("td", {}, el("a", { href: hashOf([collection, id]) }, "open")));
    }
    body.append(tr);
  }
  if (shape.key.length > 1) head.append(el("th", { scope: "col" }, "object"));
  const table = el(
    "table",
    { id: "objects" },
    el("caption", {}, collection + ", " + summary + (order ? ", sorted by " + order.field + " " + order.direction : "")),
    el("thead", {}, head),
    body,
  );
  view.append(el("div", { class: "scroll", tabindex: "0", role: "region", "aria-label": collection + " table" }, table));
  const links = parseLinks(r.headers.get("Link"));
  const nav = el("nav", { class: "pager", "aria-label": "Pages" });
  for (const [rel, label] of [["first", "First"], ["prev", "Previous"], ["next", "Next"], ["last", "Last"]]) {
    const h = links[rel] ? hashOfApiUrl(links[rel]) : null;
    nav.append(h ? el("a", { href: h, rel: rel === "prev" || rel === "next" ? rel : null, id: "page-" + rel }, label) : el("span", { class: "off" }, label));
  }
  view.append(nav);
}

function renderObject(view, segs, collection, obj) {
  title(segs.join(" / "));
  if (obj === null) {
    setStatus("No related object.");
    view.append(el("p", {}, "No related object."));
    return;
  }
  const shape = guessShape(shapeOf(collection), obj);
  const id = keyOf(shape, obj);
  setStatus(collection + " " + (id !== null ? id : ""));
  const body = el("tbody");
  for (const a of shape.attrs) {
    if (!(a.name in obj)) continue;
    body.append(el("tr", {}, el("th", { scope: "row" }, a.name), el("td", {}, valueCell(obj[a.name]))));
  }
  for (const [name, rel] of Object.entries(shape.rels)) {
    body.append(el("tr", {}, el("th", { scope: "row" }, name), el("td", {}, relationCell(collection, id, name, rel, obj[name]))));
  }
  view.append(el("table", { id: "object", class: "object" }, el("caption", {}, collection + " " + (id || "")), body));
  const can = allows(collection);
  if (id === null || !(can.update || can.remove)) return;
  const actions = el("p", { class: "actions" });
  if (can.update) actions.append(el("button", { type: "button", id: "edit", onclick: () => editForm(collection, obj) }, "Edit"));
  if (can.remove) {
    actions.append(
      el("button", { type: "button", id: "delete", onclick: () => confirmDelete(actions, collection, id) }, "Delete"),
    );
  }
  view.append(actions);
}

// A two-step delete (no window.confirm: a page of its own, keyboard first).
function confirmDelete(actions, collection, id) {
  const box = el(
    "div",
    { class: "confirm", role: "group", "aria-label": "Confirm the delete" },
    el("p", {}, "Delete " + collection + " " + id + "? This cannot be undone."),
    el("button", { type: "button", id: "delete-yes", class: "danger", onclick: async () => {
      const r = await call("DELETE", "/api/" + encodeURIComponent(collection) + "/" + encodeURIComponent(id));
      if (!r.ok) {
        showError(r);
        return;
      }
      state.notice = "Deleted " + collection + " " + id + ".";
      location.hash = hashOf([collection]);
    } }, "Yes, delete"),
    el("button", { type: "button", onclick: () => box.remove() }, "Cancel"),
  );
  actions.after(box);
  box.querySelector("button").focus();
}

// The create (obj null) or edit form of one object: an input a writable
// attribute. A create sends the filled ones; an edit the changed ones.
function editForm(collection, obj) {
  const shape = shapeOf(collection);
  const view = $("view");
  const old = $("edit-form");
  if (old) old.remove();
  const inputs = [];
  const fields = el("fieldset", {}, el("legend", {}, (obj ? "Edit " : "New object in ") + collection));
  for (const a of shape.attrs) {
    const id = "w-" + a.name;
    const isKey = shape.key.includes(a.name);
    const v = obj ? obj[a.name] : undefined;
    const input = el("input", {
      id,
      type: "text",
      value: v === null || v === undefined ? "" : String(v),
      readonly: obj !== null && isKey,
    });
    inputs.push({ a, input, before: input.value });
    fields.append(
      el("div", { class: "field" }, el("label", { for: id }, a.name + (isKey && !obj ? " (optional)" : "")), input),
    );
  }
  const form = el("form", { id: "edit-form", class: "edit", onsubmit: async (e) => {
    e.preventDefault();
    const body = {};
    for (const { a, input, before } of inputs) {
      if (obj && (input.readOnly || input.value === before)) continue;
      if (!obj && input.value === "") continue;
      body[a.name] = input.value === "" ? null : typed(a.type, input.value);
    }
    const base = "/api/" + encodeURIComponent(collection);
    const r = obj
      ? await call("PATCH", base + "/" + encodeURIComponent(keyOf(shape, obj)), body)
      : await call("POST", base, body);
    if (!r.ok) {
      showError(r);
      setStatus("The write was refused.");
      return;
    }
    showError(null);
    const id = keyOf(shape, r.json);
    state.notice = (obj ? "Saved " : "Created ") + collection + " " + (id || "") + ".";
    const target = id !== null ? hashOf([collection, id]) : hashOf([collection]);
    if (location.hash === target) render();
    else location.hash = target;
  } }, fields, el("p", {}, el("button", { type: "submit", id: "save" }, obj ? "Save" : "Create"), " ",
    el("button", { type: "button", onclick: () => form.remove() }, "Cancel")));
  view.append(form);
  const first = inputs.find((i) => !i.input.readOnly);
  if (first) first.input.focus();
}

// LIVE CHANGES: the edge has no events endpoint yet (issue 13). When it
// exists, subscribe here (an EventSource on it: connect-src 'self' allows
// it), show what changed in the #live section and refresh the rows on
// screen that a change names. Until then nothing is shown: no polling
// pretends to be live.
function watchChanges(/* collection */) {}

async function start() {
  $("key-form").addEventListener("submit", (e) => e.preventDefault());
  $("api-key").addEventListener("input", (e) => {
    state.key = e.target.value;
  });
  window.addEventListener("hashchange", render);
  const doc = await fetch("/api/openapi.json", { headers: { Accept: "application/json" } })
    .then((r) => (r.ok ? r.json() : null))
    .catch(() => null);
  state.doc = doc;
  await loadCollections();
  await render();
}

start();
