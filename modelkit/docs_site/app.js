/* The site: data loading, the sidebar tree, search and routing. Pages are drawn by pages.js. */

const T0 = performance.now();

function loadJson(id) {
  const node = document.getElementById(id);
  return node ? JSON.parse(node.textContent) : null;
}

const INDEX = loadJson("mk-index");
const MODEL = buildModel(INDEX);
const STATE = { view: "project", expanded: new Set(), current: null, dag: null, lineage: null, lineageBack: null };

function buildModel(index) {
  const nodes = index.nodes;
  const parents = nodes.map((n) => n.pa || []);
  const children = nodes.map(() => []);
  parents.forEach((ps, i) => ps.forEach((p) => children[p].push(i)));
  const byId = new Map();
  const byName = new Map();
  const testsOf = new Map();
  nodes.forEach((node, i) => {
    byId.set(node.id, i);
    if (!byName.has(node.n)) byName.set(node.n, []);
    byName.get(node.n).push(i);
    if (node.t === "test" && node.at != null) {
      if (!testsOf.has(node.at)) testsOf.set(node.at, []);
      testsOf.get(node.at).push(i);
    }
  });
  const search = nodes.map((node) => ({
    name: node.n.toLowerCase(),
    text: [node.p, node.sn, (node.g || []).join(" "), node.r, node.s].filter(Boolean).join(" ").toLowerCase(),
    desc: (node.d || "").toLowerCase(),
    cols: (node.c || []).join(" ").toLowerCase(),
  }));
  return { meta: index.meta, nodes, parents, children, byId, byName, testsOf, search, chunk: index.chunk, details: {} };
}

function detailOf(i) {
  const chunk = Math.floor(i / MODEL.chunk);
  if (!MODEL.details[chunk]) MODEL.details[chunk] = loadJson("mk-detail-" + chunk) || [];
  return MODEL.details[chunk][i % MODEL.chunk] || {};
}

function columnLineage() {
  if (!STATE.lineage) STATE.lineage = loadJson("mk-lineage") || {};
  return STATE.lineage;
}

/* Which columns read (node, column): built on first use from the whole lineage. */
function columnReaders() {
  if (!STATE.lineageBack) {
    const back = new Map();
    const all = columnLineage();
    for (const key of Object.keys(all)) {
      const cols = all[key].c || {};
      for (const col of Object.keys(cols)) {
        for (const up of cols[col][1] || []) {
          if (up[0] < 0) continue;
          const k = up[0] + "\u0000" + up[1].toLowerCase();
          if (!back.has(k)) back.set(k, []);
          back.get(k).push([Number(key), col]);
        }
      }
    }
    STATE.lineageBack = back;
  }
  return STATE.lineageBack;
}

/* -- links and names ------------------------------------------------------------------------- */
function nodeHref(i) {
  return "#!/node/" + encodeURIComponent(MODEL.nodes[i].id);
}

function displayName(i) {
  const node = MODEL.nodes[i];
  return node.t === "source" ? node.sn + "." + node.n : node.n;
}

/* A selector that names exactly this node (for focusing the graph on it): its name, else its fqn. */
function selectorFor(i) {
  const node = MODEL.nodes[i];
  if (node.t === "source") return "source:" + node.sn + "." + node.n;
  const candidates = [node.n, fqnOf(node).join("."), "unique_id:" + node.id];
  for (const text of candidates) {
    if (/[*?\s,+@]/.test(text)) continue;
    let atom;
    try {
      atom = parseAtom(text);
    } catch (e) {
      continue;
    }
    let only = true;
    for (let j = 0; j < MODEL.nodes.length && only; j++) if (j !== i && matchAtom(atom, MODEL.nodes[j])) only = false;
    if (only && matchAtom(atom, node)) return text;
  }
  return "unique_id:" + node.id;
}

function typeBadge(type, extra) {
  return h("span.badge.k-" + type, TYPE_LABEL[type] || type, extra ? " · " + extra : "");
}

function nodeLink(i, withType) {
  const node = MODEL.nodes[i];
  return h("a.nodelink", { href: nodeHref(i), title: node.id }, withType ? typeBadge(node.t) : null, displayName(i));
}

/* -- sidebar tree ---------------------------------------------------------------------------- */
function treeInsert(root, path, leaf) {
  let cur = root;
  for (const part of path) {
    if (!cur.kids.has(part)) cur.kids.set(part, { label: part, kids: new Map(), leaves: [], key: cur.key + "/" + part });
    cur = cur.kids.get(part);
  }
  cur.leaves.push(leaf);
}

function buildTrees() {
  const project = { label: "", kids: new Map(), leaves: [], key: "p" };
  const database = { label: "", kids: new Map(), leaves: [], key: "d" };
  const where = { project: new Map(), database: new Map() };
  MODEL.nodes.forEach((node, i) => {
    let path;
    if (node.t === "source") path = ["Sources", node.sn];
    else if (node.t === "test") path = ["Tests"].concat((node.p || "").split("/").slice(0, -1));
    else path = [node.pk].concat((node.p || "").split("/").slice(0, -1));
    treeInsert(project, path, i);
    where.project.set(i, path);
    if (node.t === "test" || node.t === "analysis" || node.t === "unit_test" || node.t === "operation") return;
    let dbPath;
    if (node.m === "ephemeral") dbPath = ["(ephemeral: not in the database)"];
    else dbPath = [node.db || "(default)", node.s || "(default)"];
    treeInsert(database, dbPath, i);
    where.database.set(i, dbPath);
  });
  const order = (tree) => {
    const special = { Sources: 0, Tests: 2 };
    tree.kids = new Map(
      Array.from(tree.kids.entries()).sort((a, b) => {
        const sa = special[a[0]] === undefined ? 1 : special[a[0]], sb = special[b[0]] === undefined ? 1 : special[b[0]];
        return sa - sb || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0);
      })
    );
    tree.leaves.sort((a, b) => {
      const na = MODEL.nodes[a].r || MODEL.nodes[a].n, nb = MODEL.nodes[b].r || MODEL.nodes[b].n;
      return tree.key[0] === "d" ? (na < nb ? -1 : na > nb ? 1 : 0) : MODEL.nodes[a].n < MODEL.nodes[b].n ? -1 : 1;
    });
    tree.count = tree.leaves.length;
    for (const kid of tree.kids.values()) tree.count += order(kid);
    return tree.count;
  };
  order(project);
  order(database);
  return { project, database, where };
}

const TREES = buildTrees();

function renderTree() {
  const host = clear(document.getElementById("tree"));
  const root = TREES[STATE.view];
  const list = h("ul.tree");
  for (const kid of root.kids.values()) list.appendChild(treeFolder(kid, 0));
  host.appendChild(list);
  markCurrent();
}

function treeFolder(folder, depth) {
  const open = STATE.expanded.has(folder.key) || folder.count <= (depth === 0 ? 60 : 12) || MODEL.nodes.length <= 40;
  const item = h("li.folder" + (open ? ".open" : ""), { "data-key": folder.key });
  const label = h("button.fold", { type: "button", "aria-expanded": open ? "true" : "false" },
    h("span.caret"), h("span.flabel", folder.label), h("span.count", String(folder.count)));
  item.appendChild(label);
  const body = h("ul");
  item.appendChild(body);
  const fill = () => {
    for (const kid of folder.kids.values()) body.appendChild(treeFolder(kid, depth + 1));
    for (const leaf of folder.leaves) {
      const node = MODEL.nodes[leaf];
      body.appendChild(
        h("li.leaf", { "data-i": String(leaf) },
          h("a", { href: nodeHref(leaf), title: node.id },
            h("span.dot.k-" + node.t), leafLabel(leaf),
            node.st ? h("span.st.st-" + node.st, node.st) : null))
      );
    }
  };
  if (open) fill();
  label.addEventListener("click", () => {
    const opening = !item.classList.contains("open");
    item.classList.toggle("open", opening);
    label.setAttribute("aria-expanded", opening ? "true" : "false");
    if (opening) {
      STATE.expanded.add(folder.key);
      if (!body.firstChild) fill();
    } else STATE.expanded.delete(folder.key);
  });
  return item;
}

/* In the database view a leaf is the relation (a source's table may be named otherwise). */
function leafLabel(i) {
  const node = MODEL.nodes[i];
  if (node.t === "test") return node.n;
  if (STATE.view === "database" && node.r) return node.r;
  return node.n;
}

function revealInTree(i) {
  const path = TREES.where[STATE.view].get(i);
  if (!path) return;
  let key = STATE.view === "project" ? "p" : "d";
  let changed = false;
  for (const part of path) {
    key += "/" + part;
    if (!STATE.expanded.has(key)) {
      STATE.expanded.add(key);
      changed = true;
    }
  }
  if (changed) renderTree();
  else markCurrent();
}

function markCurrent() {
  document.querySelectorAll("#tree li.leaf.on").forEach((el) => el.classList.remove("on"));
  if (STATE.current == null) return;
  const el = document.querySelector('#tree li.leaf[data-i="' + STATE.current + '"]');
  if (el) {
    el.classList.add("on");
    const box = el.getBoundingClientRect(), side = document.getElementById("side").getBoundingClientRect();
    if (box.top < side.top || box.bottom > side.bottom) el.scrollIntoView({ block: "center" });
  }
}

/* -- search ---------------------------------------------------------------------------------- */
function searchNodes(query, limit) {
  const q = query.trim().toLowerCase();
  if (!q) return [];
  const words = q.split(/\s+/);
  const scored = [];
  MODEL.search.forEach((s, i) => {
    let score = 0;
    for (const w of words) {
      let best = 0;
      if (s.name === w) best = 100;
      else if (s.name.startsWith(w)) best = 80;
      else if (s.name.includes(w)) best = 60;
      else if ((" " + s.cols + " ").includes(" " + w + " ")) best = 45;
      else if (s.cols.includes(w)) best = 35;
      else if (s.text.includes(w)) best = 30;
      else if (s.desc.includes(w)) best = 20;
      if (!best) return;
      score += best;
    }
    const type = MODEL.nodes[i].t;
    // tests come after the models and sources they test (their names repeat their models' names)
    score += type === "model" ? 3 : type === "source" ? 2 : type === "test" || type === "unit_test" ? -40 : 0;
    scored.push([score, i]);
  });
  scored.sort((a, b) => b[0] - a[0] || (MODEL.nodes[a[1]].n < MODEL.nodes[b[1]].n ? -1 : 1));
  return scored.slice(0, limit || 50).map((x) => x[1]);
}

function renderResults(query) {
  const panel = document.getElementById("results");
  clear(panel);
  const found = searchNodes(query, 60);
  if (!query.trim()) {
    panel.hidden = true;
    return;
  }
  panel.hidden = false;
  if (!found.length) {
    panel.appendChild(h("div.none", "Nothing matches “" + query + "”."));
    return;
  }
  const q = query.trim().toLowerCase().split(/\s+/)[0];
  found.forEach((i, k) => {
    const node = MODEL.nodes[i];
    const col = (node.c || []).find((c) => c.toLowerCase().includes(q) && !node.n.toLowerCase().includes(q));
    panel.appendChild(
      h("a.result" + (k === 0 ? ".active" : ""), { href: nodeHref(i), "data-i": String(i) },
        typeBadge(node.t), h("span.rname", displayName(i)),
        col ? h("span.rcol", "column " + col) : null,
        h("span.rpath", node.p || ""),
        node.d ? h("span.rdesc", mdSummary(node.d, 120)) : null)
    );
  });
}

function closeResults() {
  const panel = document.getElementById("results");
  panel.hidden = true;
}

function bindSearch() {
  const input = document.getElementById("search");
  const results = h("div.results", { id: "results", hidden: true, role: "listbox" });
  document.getElementById("searchbox").appendChild(results);
  const run = debounce(() => renderResults(input.value), 60);
  input.addEventListener("input", run);
  input.addEventListener("focus", () => input.value && renderResults(input.value));
  input.addEventListener("keydown", (e) => {
    const items = Array.from(results.querySelectorAll(".result"));
    const at = items.findIndex((el) => el.classList.contains("active"));
    if (e.key === "ArrowDown" || e.key === "ArrowUp") {
      e.preventDefault();
      if (!items.length) return;
      const next = (at + (e.key === "ArrowDown" ? 1 : -1) + items.length) % items.length;
      items.forEach((el, k) => el.classList.toggle("active", k === next));
      items[next].scrollIntoView({ block: "nearest" });
    } else if (e.key === "Enter") {
      renderResults(input.value);
      const first = results.querySelector(".result.active") || results.querySelector(".result");
      if (first) location.hash = first.getAttribute("href");
      closeResults();
    } else if (e.key === "Escape") {
      closeResults();
      input.blur();
    }
  });
  results.addEventListener("click", () => setTimeout(closeResults, 0));
  document.addEventListener("click", (e) => {
    if (!document.getElementById("searchbox").contains(e.target)) closeResults();
  });
  document.addEventListener("keydown", (e) => {
    const tag = (e.target && e.target.tagName) || "";
    if (e.key === "/" && !/INPUT|TEXTAREA|SELECT/.test(tag)) {
      e.preventDefault();
      input.focus();
      input.select();
    }
  });
}

/* -- routing --------------------------------------------------------------------------------- */
function parseHash() {
  const raw = location.hash.replace(/^#!?\/?/, "");
  const [path, query] = raw.split("?");
  const params = new URLSearchParams(query || "");
  const parts = path.split("/").map((p) => {
    try {
      return decodeURIComponent(p);
    } catch (e) {
      return p;
    }
  });
  return { page: parts[0] || "overview", args: parts.slice(1), params };
}

function route() {
  const { page, args, params } = parseHash();
  const main = document.getElementById("main");
  if (STATE.dag) {
    STATE.dag.destroy();
    STATE.dag = null;
  }
  clear(main);
  main.scrollTop = 0;
  STATE.current = null;
  document.querySelectorAll("#topnav a").forEach((a) => a.classList.toggle("on", a.dataset.nav === page));
  document.body.dataset.page = page;
  let title = MODEL.meta.project;
  if (page === "node" && MODEL.byId.has(args[0])) {
    const i = MODEL.byId.get(args[0]);
    STATE.current = i;
    renderNodePage(main, i);
    revealInTree(i);
    title = displayName(i) + " · " + title;
  } else if (page === "graph") {
    renderGraphPage(main, params);
    title = "Lineage · " + title;
  } else if (page === "column" && MODEL.byId.has(args[0])) {
    const i = MODEL.byId.get(args[0]);
    STATE.current = i;
    renderColumnPage(main, i, args.slice(1).join("/"));
    revealInTree(i);
    title = displayName(i) + "." + args.slice(1).join("/") + " · " + title;
  } else if (page === "node" || page === "column") {
    main.appendChild(h("section.page", h("h1", "Not found"), h("p", "No node " + (args[0] || "") + " in this project.")));
  } else {
    renderOverview(main);
  }
  markCurrent();
  document.title = title + " · modelkit docs";
}

function start() {
  document.getElementById("brand").textContent = MODEL.meta.project;
  document.querySelectorAll("#sidetabs button").forEach((b) =>
    b.addEventListener("click", () => {
      STATE.view = b.dataset.view;
      document.querySelectorAll("#sidetabs button").forEach((x) => x.classList.toggle("on", x === b));
      renderTree();
      if (STATE.current != null) revealInTree(STATE.current);
    })
  );
  bindSearch();
  document.getElementById("menu").addEventListener("click", () => document.body.classList.toggle("side-open"));
  window.addEventListener("hashchange", () => document.body.classList.remove("side-open"));
  renderTree();
  window.addEventListener("hashchange", route);
  route();
  window.modelkitDocs.ready = true;
  window.modelkitDocs.startMs = Math.round(performance.now() - T0);
}

window.modelkitDocs = {
  model: MODEL,
  select: (select, exclude) => Array.from(selectNodes(MODEL, select, exclude)).map((i) => MODEL.nodes[i].id).sort(),
  search: (q) => searchNodes(q, 20).map((i) => MODEL.nodes[i].id),
  markdown,
  highlightSql,
  state: STATE,
  ready: false,
};

start();
