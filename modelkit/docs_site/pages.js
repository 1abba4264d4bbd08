/* The pages: overview, one node, the lineage graph and a column's lineage. */

const STATUS_TITLE = {
  pass: "passed", fail: "failed", warn: "warned", error: "errored", skipped: "skipped", success: "succeeded",
};

function statusBadge(status) {
  if (!status) return h("span.st.st-none", { title: "no result in run_results.json" }, "not run");
  return h("span.st.st-" + status, { title: "last run: " + (STATUS_TITLE[status] || status) }, status);
}

function section(title, ...content) {
  return h("section.block", h("h2", title), ...content);
}

/* -- overview -------------------------------------------------------------------------------- */
function renderOverview(main) {
  const meta = MODEL.meta;
  const counts = {};
  MODEL.nodes.forEach((n) => (counts[n.t] = (counts[n.t] || 0) + 1));
  const page = h("section.page.overview");
  page.appendChild(h("h1", meta.project));
  page.appendChild(
    h("p.sub", "Generated " + new Date(meta.generated_at).toLocaleString() + " by modelkit " + meta.modelkit_version +
      " · target " + meta.target + " · " + meta.adapter)
  );
  const cards = h("div.cards");
  for (const type of ["model", "source", "seed", "snapshot", "analysis", "test"]) {
    if (!counts[type]) continue;
    const selector = type === "test" ? "" : "resource_type:" + type;
    cards.appendChild(
      h("a.card", { href: selector ? "#!/graph?select=" + encodeURIComponent(selector) : "#!/overview" },
        h("span.num", fmtInt(counts[type])), h("span.lbl", plural(counts[type], TYPE_LABEL[type]).replace(/^\d+ /, "")))
    );
  }
  page.appendChild(cards);
  if (meta.compiled === "none") {
    page.appendChild(h("p.notice", "No compiled SQL: the site was generated with --no-compile before anything was compiled, so compiled SQL and column lineage are missing."));
  } else if (meta.compiled === "target/compiled") {
    page.appendChild(h("p.notice", "Generated with --no-compile: compiled SQL comes from the last compile or run (target/compiled/)."));
  }
  if (!meta.catalog) page.appendChild(h("p.notice", "Generated with --empty-catalog: no column types or row counts from the database."));
  const leaves = MODEL.nodes
    .map((n, i) => i)
    .filter((i) => MODEL.nodes[i].t === "model" && !MODEL.children[i].some((j) => /^(model|snapshot)$/.test(MODEL.nodes[j].t)));
  leaves.sort((a, b) => (MODEL.nodes[a].n < MODEL.nodes[b].n ? -1 : 1));
  if (leaves.length) {
    const list = h("ul.nodelist");
    leaves.slice(0, 40).forEach((i) =>
      list.appendChild(h("li", nodeLink(i), MODEL.nodes[i].d ? h("span.desc", " — " + mdSummary(MODEL.nodes[i].d, 110)) : null))
    );
    page.appendChild(section("End models (" + fmtInt(leaves.length) + ")", list,
      leaves.length > 40 ? h("p.more", "and " + fmtInt(leaves.length - 40) + " more: search or browse the tree.") : null));
  }
  page.appendChild(
    section("Finding your way",
      h("ul.help",
        h("li", "Press ", h("kbd", "/"), " to search names, columns, paths and descriptions."),
        h("li", "The tree on the left lists every node by folder (Project) or by schema (Database)."),
        h("li", "The ", h("a", { href: "#!/graph" }, "lineage graph"), " takes dbt's selectors: ",
          h("code", "+orders"), ", ", h("code", "orders+2"), ", ", h("code", "tag:mart"), ", ", h("code", "path:models/staging"), "."),
        h("li", "On a model's page, a column's lineage shows where its values come from, column by column.")))
  );
  main.appendChild(page);
}

/* -- a node ---------------------------------------------------------------------------------- */
function renderNodePage(main, i) {
  const node = MODEL.nodes[i];
  const d = detailOf(i);
  const page = h("section.page.node", { "data-id": node.id });
  const title = h("div.titlebar",
    h("div", typeBadge(node.t, node.m), h("h1", displayName(i))),
    node.t !== "test" ? h("a.button", { href: "#!/graph?select=" + encodeURIComponent("2+" + selectorFor(i) + "+2") }, "Lineage graph") : null);
  page.appendChild(title);
  if (node.g && node.g.length) {
    page.appendChild(h("div.tags", node.g.map((t) => h("a.tag", { href: "#!/graph?select=" + encodeURIComponent("tag:" + t) }, t))));
  }
  const desc = h("div.desc.markdown");
  if (node.d) desc.innerHTML = markdown(node.d);
  else desc.appendChild(h("p.muted", "No description."));
  page.appendChild(desc);
  if (node.t === "source" && d.sd) {
    const sd = h("div.markdown.srcdesc");
    sd.innerHTML = markdown(d.sd);
    page.appendChild(section("Source " + node.sn, sd));
  }
  page.appendChild(detailsTable(i, d));
  if (node.t === "test") page.appendChild(testSummary(i, d));
  else page.appendChild(columnsSection(i, d));
  page.appendChild(relationsSection(i));
  const code = codeSection(i, d);
  if (code) page.appendChild(code);
  if (d.meta && Object.keys(d.meta).length) page.appendChild(section("Meta", h("pre.json", JSON.stringify(d.meta, null, 2))));
  main.appendChild(page);
}

function detailsTable(i, d) {
  const node = MODEL.nodes[i];
  const rows = [];
  const add = (label, value) => {
    if (value != null && value !== "") rows.push(h("div.kv", h("dt", label), h("dd", value)));
  };
  add("Owner", d.owner ? String(d.owner) : null);
  add("Relation", d.rn ? h("code", d.rn) : node.m === "ephemeral" ? "ephemeral: inlined as a CTE, not built" : null);
  add("In the database", d.kind ? (d.kind === "VIEW" ? "view" : "table") : node.r && node.t !== "test" ? "not built yet" : null);
  add("Rows", d.rows != null ? fmtInt(d.rows) : null);
  add("Materialization", node.m);
  add("Package", node.pk);
  add("File", node.p ? h("code", node.p) : null);
  add("Described in", d.yp ? h("code", d.yp) : null);
  add("Language", d.lang && d.lang !== "sql" ? d.lang : null);
  if (d.cfg) for (const k of Object.keys(d.cfg)) if (k !== "materialized") add(k.replace(/_/g, " "), typeof d.cfg[k] === "string" ? d.cfg[k] : JSON.stringify(d.cfg[k]));
  if (node.t === "source") {
    add("Identifier", d.idf);
    add("Loader", d.ld);
    add("Loaded at field", d.laf);
    add("Freshness", d.fr ? JSON.stringify(d.fr) : null);
  }
  if (d.res && node.t !== "test") add("Last run", h("span", statusBadge(d.res.st), d.res.msg ? " " + d.res.msg : ""));
  if (d.cmt) add("Comment", d.cmt);
  return h("dl.details", rows);
}

function testSummary(i, d) {
  const node = MODEL.nodes[i];
  const rows = [];
  rows.push(h("div.kv", h("dt", "Test"), h("dd", h("code", node.tn || node.n))));
  if (node.at != null) rows.push(h("div.kv", h("dt", "Tests"), h("dd", nodeLink(node.at, true), node.col ? h("span", " column ", h("code", node.col)) : null)));
  if (d.kw && Object.keys(d.kw).length) rows.push(h("div.kv", h("dt", "Arguments"), h("dd", h("code", JSON.stringify(d.kw)))));
  rows.push(h("div.kv", h("dt", "Last status"), h("dd", statusBadge(node.st), d.res && d.res.msg ? " " + d.res.msg : "")));
  if (node.dec) rows.push(h("p.muted", "Declared in YAML; its status comes from the last test run, when there was one."));
  return section("Test", h("dl.details", rows));
}

function lineageSummary(i, column) {
  const all = columnLineage()[i];
  if (!all) return h("span.muted", "—");
  const entry = (all.c || {})[column];
  if (!entry) return h("span.lin.unresolved", "unresolved: " + (all.e || "not in the compiled SQL"));
  const [status, upstream, reason] = entry;
  const wrap = h("span.lin." + status);
  const ups = (upstream || []).map((u) =>
    u[0] >= 0
      ? h("a", { href: "#!/column/" + encodeURIComponent(MODEL.nodes[u[0]].id) + "/" + encodeURIComponent(u[1]) }, displayName(u[0]) + "." + u[1])
      : h("span.ext", { title: "not a node of this project" }, u[2] + "." + u[1])
  );
  if (status === "direct") wrap.append("= ");
  else if (status === "derived") wrap.append("from ");
  else if (status === "none") wrap.append("no upstream column (literal or aggregate)");
  ups.forEach((u, k) => {
    if (k) wrap.append(", ");
    wrap.appendChild(u);
  });
  if (status === "unresolved") {
    wrap.prepend(h("span.unres", "unresolved" + (reason ? ": " + reason : "")), ups.length ? " · reads " : "");
  }
  return wrap;
}

function columnsSection(i, d) {
  const node = MODEL.nodes[i];
  const cols = d.cols || [];
  if (!cols.length) {
    const why = node.t === "source" ? "No columns documented, and the table was not found in the database."
      : "No columns known: document them in YAML, or build the node and generate the docs again.";
    return section("Columns", h("p.muted", why));
  }
  const hasLineage = !!columnLineage()[i];
  const table = h("table.columns",
    h("thead", h("tr", h("th", "Column"), h("th", "Type"), h("th", "Description"), h("th", "Tests"), hasLineage ? h("th", "Lineage") : null)));
  const body = h("tbody");
  cols.forEach((c) => {
    const descCell = h("td.markdown");
    if (c.d) descCell.innerHTML = markdown(c.d);
    const tests = h("td.tests", (c.ts || []).map((t) => {
      const tn = MODEL.nodes[t];
      return h("a.test", { href: nodeHref(t), title: tn.n }, tn.tn || tn.n, " ", statusBadge(tn.st));
    }));
    const type = c.ty ? h("code", c.ty) : h("span.muted", c.o === "yaml" ? "not in the database" : "unknown");
    if (c.o === "sql" && c.ty == null) type.title = "taken from the SQL: the relation is not in the database";
    const name = h("td.cname", { "data-column": c.n }, h("span", c.n),
      hasLineage && c.o !== "yaml" ? h("a.collink", { href: "#!/column/" + encodeURIComponent(node.id) + "/" + encodeURIComponent(c.n), title: "Column lineage graph" }, "lineage ›") : null);
    body.appendChild(h("tr", name, h("td", type), descCell, tests,
      hasLineage ? h("td.lincell", c.o !== "yaml" ? lineageSummary(i, c.n) : h("span.muted", "—")) : null));
  });
  table.appendChild(body);
  const lerr = d.lerr ? h("p.notice", "Column lineage: " + d.lerr) : null;
  return section("Columns", lerr, h("div.tablewrap", table));
}

function relationsSection(i) {
  const parents = MODEL.parents[i].filter((j) => MODEL.nodes[j].t !== "test");
  const children = MODEL.children[i].filter((j) => MODEL.nodes[j].t !== "test");
  const tests = (MODEL.testsOf.get(i) || []).filter((t) => !MODEL.nodes[t].col);
  const list = (items) => items.length ? h("ul.nodelist", items.map((j) => h("li", nodeLink(j, true)))) : h("p.muted", "None.");
  const blocks = h("div.relations",
    h("div", h("h3", "Depends on (" + parents.length + ")"), list(parents)),
    h("div", h("h3", "Referenced by (" + children.length + ")"), list(children.slice(0, 200)),
      children.length > 200 ? h("p.more", "and " + (children.length - 200) + " more") : null));
  const out = section("Relationships", blocks);
  if (tests.length) out.appendChild(h("div", h("h3", "Tests on the whole " + MODEL.nodes[i].t), h("ul.nodelist",
    tests.map((t) => h("li", nodeLink(t), " ", statusBadge(MODEL.nodes[t].st))))));
  return out;
}

function codeSection(i, d) {
  const node = MODEL.nodes[i];
  if (node.t === "source" || node.t === "seed") {
    if (node.t === "seed") return section("Code", h("p.muted", "A seed: loaded from ", h("code", node.p), "."));
    return null;
  }
  const tabs = [];
  if (d.raw) tabs.push(["Source", d.raw]);
  if (d.sql) tabs.push(["Compiled", d.sql]);
  if (!tabs.length) return null;
  const holder = h("div.codebody");
  const bar = h("div.tabs", { role: "tablist" });
  const show = (k) => {
    Array.from(bar.children).forEach((b, n) => b.classList.toggle("on", n === k));
    clear(holder).appendChild(codeBlock(tabs[k][1], tabs[k][0]));
  };
  tabs.forEach((t, k) => bar.appendChild(h("button", { type: "button", role: "tab", "data-tab": t[0].toLowerCase(), onclick: () => show(k) }, t[0])));
  show(0);
  const note = !d.sql && node.t !== "test" ? h("p.muted", "Not compiled: run `modelkit docs generate` without --no-compile.") : null;
  return section("Code", bar, holder, note);
}

/* -- the lineage graph ----------------------------------------------------------------------- */
function defaultSelection() {
  const visible = MODEL.nodes.filter((n) => n.t !== "test").length;
  if (visible <= 150) return "";
  let best = -1, bestDegree = -1;
  MODEL.nodes.forEach((n, i) => {
    if (n.t !== "model") return;
    const degree = MODEL.parents[i].length + MODEL.children[i].length;
    if (degree > bestDegree) { best = i; bestDegree = degree; }
  });
  if (best < 0) return "";
  for (const depth of [2, 1]) {
    const sel = depth + "+" + selectorFor(best) + "+" + depth;
    if (selectNodes(MODEL, sel, "").size <= 300 || depth === 1) return sel;
  }
  return "";
}

function renderGraphPage(main, params) {
  let select = params.has("select") ? params.get("select") : defaultSelection();
  const exclude = params.get("exclude") || "";
  const page = h("section.graphpage");
  const selInput = h("input", { id: "gselect", type: "text", value: select, placeholder: "--select, e.g. +orders tag:mart", spellcheck: "false", "aria-label": "Select" });
  const exInput = h("input", { id: "gexclude", type: "text", value: exclude, placeholder: "--exclude", spellcheck: "false", "aria-label": "Exclude" });
  const apply = () => {
    const q = new URLSearchParams();
    q.set("select", selInput.value.trim());
    if (exInput.value.trim()) q.set("exclude", exInput.value.trim());
    location.hash = "#!/graph?" + q.toString();
  };
  [selInput, exInput].forEach((inp) => inp.addEventListener("keydown", (e) => e.key === "Enter" && apply()));
  const status = h("span.gstatus");
  const toolbar = h("div.gtools",
    h("label", "select ", selInput), h("label", "exclude ", exInput),
    h("button", { type: "button", onclick: apply }, "Apply"),
    h("button", { type: "button", title: "Everything (may be large)", onclick: () => { selInput.value = ""; exInput.value = ""; apply(); } }, "All"),
    h("button", { type: "button", title: "Fit to the window (0)", onclick: () => STATE.dag && STATE.dag.fit(null) }, "Fit"),
    status);
  const focusBar = h("div.gfocus");
  const canvasBox = h("div.canvasbox");
  const info = h("aside.ginfo", h("p.muted", "Click a node to see it here; double-click to open its page. Drag to pan, scroll to zoom."));
  page.appendChild(toolbar);
  page.appendChild(focusBar);
  page.appendChild(h("div.gmain", canvasBox, info));
  page.appendChild(legend());
  main.appendChild(page);

  let chosen;
  try {
    chosen = selectNodes(MODEL, select, exclude);
  } catch (err) {
    if (!(err instanceof SelectorError)) throw err;
    status.textContent = err.message;
    status.classList.add("error");
    return;
  }
  const shown = Array.from(chosen).filter((i) => MODEL.nodes[i].t !== "test");
  status.textContent = plural(shown.length, "node") + (select ? " selected" : "");
  if (!shown.length) {
    canvasBox.appendChild(h("p.empty", "Nothing matches this selection."));
    return;
  }
  const keep = new Set(shown);
  const nodes = shown.map((i) => ({
    key: i, label: displayName(i), kind: MODEL.nodes[i].t, parents: MODEL.parents[i].filter((p) => keep.has(p)),
  }));
  const focus = focusOf(select).filter((i) => keep.has(i));
  STATE.dag = new DagView(canvasBox, {
    onSelect: (n) => showGraphInfo(info, n ? n.key : null),
    onOpen: (n) => (location.hash = nodeHref(n.key)),
  });
  STATE.dag.setData(nodes, focus);
  if (focus.length === 1) {
    showGraphInfo(info, focus[0]);
    focusControls(focusBar, focus[0], select);
  }
  const names = h("details.nodelist-a11y", h("summary", "Nodes in this graph (" + shown.length + ")"),
    h("ul", shown.slice(0, 500).map((i) => h("li", nodeLink(i, true)))));
  page.appendChild(names);
}

/* The nodes a selection is centred on: the plain names in it (with their +/N operators stripped). */
function focusOf(select) {
  const out = [];
  for (const term of (select || "").split(/\s+/).filter(Boolean)) {
    for (const part of term.split(",")) {
      let atom;
      try {
        atom = parseAtom(part);
      } catch (e) {
        continue;
      }
      if (atom.method === "fqn" || atom.method === "unique_id" || atom.method === "source") {
        MODEL.nodes.forEach((n, i) => {
          if (n.t !== "test" && matchAtom(atom, n) && out.length < 20) out.push(i);
        });
      }
    }
  }
  return out;
}

function focusControls(bar, i, select) {
  const m = /^(\d*)\+?(.*?)\+?(\d*)$/.exec(select.trim());
  const up = h("input", { type: "number", min: "0", max: "99", value: (m && m[1]) || "2", "aria-label": "Levels upstream" });
  const down = h("input", { type: "number", min: "0", max: "99", value: (m && m[3]) || "2", "aria-label": "Levels downstream" });
  const go = () => {
    const sel = (up.value === "0" ? "" : up.value + "+") + selectorFor(i) + (down.value === "0" ? "" : "+" + down.value);
    location.hash = "#!/graph?select=" + encodeURIComponent(sel);
  };
  [up, down].forEach((inp) => inp.addEventListener("change", go));
  clear(bar).append(
    h("span", "Focus on ", h("strong", displayName(i)), ": "),
    h("label", up, " levels up"), h("label", down, " levels down"),
    h("button", { type: "button", onclick: () => { up.value = ""; down.value = ""; go(); } }, "All ancestors and descendants")
  );
}

function showGraphInfo(info, i) {
  clear(info);
  if (i == null) {
    info.appendChild(h("p.muted", "Click a node to see it here; double-click to open its page."));
    return;
  }
  const node = MODEL.nodes[i];
  info.appendChild(h("div", typeBadge(node.t, node.m)));
  info.appendChild(h("h3", h("a", { href: nodeHref(i) }, displayName(i))));
  if (node.d) info.appendChild(h("p", mdSummary(node.d, 240)));
  info.appendChild(h("p.actions",
    h("a.button", { href: nodeHref(i) }, "Open"), " ",
    h("a.button", { href: "#!/graph?select=" + encodeURIComponent("2+" + selectorFor(i) + "+2") }, "Focus")));
  const cols = node.c || [];
  if (cols.length) {
    const lineage = columnLineage()[i];
    info.appendChild(h("h4", "Columns"));
    info.appendChild(h("ul.cols", cols.slice(0, 60).map((c) =>
      h("li", lineage ? h("a", { href: "#!/column/" + encodeURIComponent(node.id) + "/" + encodeURIComponent(c), title: "Column lineage" }, c) : c))));
  }
}

function legend() {
  return h("div.legend", ["source", "seed", "model", "snapshot", "analysis"].map((k) => h("span", h("i", { style: "background:" + KIND_COLORS[k] }), TYPE_LABEL[k])));
}

/* -- a column's lineage ---------------------------------------------------------------------- */
function renderColumnPage(main, i, column) {
  const node = MODEL.nodes[i];
  const all = columnLineage();
  const readers = columnReaders();
  const graph = new Map();
  const rows = { up: [], down: [] };
  const keyOf = (j, c) => j + "\u0000" + c.toLowerCase();
  const realName = (j, c) => {
    const cols = MODEL.nodes[j].c || [];
    return cols.find((x) => x.toLowerCase() === c.toLowerCase()) || c;
  };
  const addNode = (key, label, kind, cls, ref) => {
    if (!graph.has(key)) graph.set(key, { key, label, kind, cls, parents: [], ref });
    return graph.get(key);
  };
  const start = keyOf(i, column);
  addNode(start, displayName(i) + "." + column, node.t, "focus", [i, column]);
  // upstream, breadth first
  const queue = [[i, column, 0]];
  const seen = new Set([start]);
  while (queue.length) {
    const [j, c, depth] = queue.shift();
    const entry = all[j] && (all[j].c || {})[realName(j, c)];
    const me = graph.get(keyOf(j, c));
    if (!entry) continue;
    const [status, upstream, reason] = entry;
    if (status === "unresolved") {
      const key = "unres\u0000" + keyOf(j, c);
      addNode(key, "unresolved: " + (reason || "unknown"), "unresolved", "unresolved");
      me.parents.push(key);
      rows.up.push({ depth: depth + 1, text: "unresolved: " + (reason || ""), of: displayName(j) + "." + c });
    }
    for (const u of upstream || []) {
      let key;
      if (u[0] < 0) {
        key = "ext\u0000" + u[2] + "\u0000" + u[1];
        addNode(key, u[2] + "." + u[1], "external", "external");
        rows.up.push({ depth: depth + 1, text: u[2] + "." + u[1] + " (not a node of this project)", of: displayName(j) + "." + c });
      } else {
        key = keyOf(u[0], u[1]);
        addNode(key, displayName(u[0]) + "." + u[1], MODEL.nodes[u[0]].t, "", [u[0], u[1]]);
        if (!seen.has(key)) {
          seen.add(key);
          queue.push([u[0], u[1], depth + 1]);
          rows.up.push({ depth: depth + 1, ref: [u[0], u[1]], status, of: displayName(j) + "." + c });
        }
      }
      if (!me.parents.includes(key)) me.parents.push(key);
    }
  }
  // downstream
  const down = [[i, column, 0]];
  const seenDown = new Set([start]);
  while (down.length) {
    const [j, c, depth] = down.shift();
    for (const [k, kc] of readers.get(keyOf(j, c)) || []) {
      const key = keyOf(k, kc);
      const child = addNode(key, displayName(k) + "." + kc, MODEL.nodes[k].t, "", [k, kc]);
      if (!child.parents.includes(keyOf(j, c))) child.parents.push(keyOf(j, c));
      if (!seenDown.has(key)) {
        seenDown.add(key);
        down.push([k, kc, depth + 1]);
        rows.down.push({ depth: depth + 1, ref: [k, kc] });
      }
    }
  }
  const page = h("section.page.columnpage");
  page.appendChild(h("div.titlebar", h("div", h("span.badge.k-column", "column"), h("h1", displayName(i) + "." + column)),
    h("a.button", { href: nodeHref(i) }, "Back to " + displayName(i))));
  const own = all[i] && (all[i].c || {})[realName(i, column)];
  page.appendChild(h("p.colsummary", own ? lineageSummary(i, realName(i, column)) : h("span.muted", "No column lineage for this column.")));
  const box = h("div.canvasbox.small");
  page.appendChild(box);
  page.appendChild(legend());
  const refLink = (r) => h("a", { href: "#!/column/" + encodeURIComponent(MODEL.nodes[r[0]].id) + "/" + encodeURIComponent(r[1]) }, displayName(r[0]) + "." + r[1]);
  const listOf = (items, what) => items.length
    ? h("ul.linlist", items.map((r) => h("li", { style: "margin-left:" + (r.depth - 1) * 1.2 + "em" },
        r.ref ? refLink(r.ref) : h("span.unres", r.text), r.of && r.depth > 1 ? h("span.muted", " → " + r.of) : null)))
    : h("p.muted", what);
  page.appendChild(h("div.relations",
    h("div", h("h3", "Upstream"), listOf(rows.up, "Nothing upstream.")),
    h("div", h("h3", "Downstream"), listOf(rows.down, "No model reads this column."))));
  main.appendChild(page);
  STATE.dag = new DagView(box, {
    onOpen: (n) => {
      if (n.ref) location.hash = "#!/column/" + encodeURIComponent(MODEL.nodes[n.ref[0]].id) + "/" + encodeURIComponent(n.ref[1]);
    },
  });
  STATE.dag.setData(Array.from(graph.values()), [start]);
}
