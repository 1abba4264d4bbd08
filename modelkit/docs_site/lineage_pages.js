/* The lineage pages: the graph of nodes, and the lineage of one column. */

/* -- the lineage graph ----------------------------------------------------------------------- */
function defaultSelection() {
  const visible = MODEL.nodes.filter((n) => n.t !== "test" && n.t !== "unit_test").length;
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
  const shown = Array.from(chosen).filter((i) => MODEL.nodes[i].t !== "test" && MODEL.nodes[i].t !== "unit_test");
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
          if (n.t !== "test" && n.t !== "unit_test" && matchAtom(atom, n) && out.length < 20) out.push(i);
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
  const LIST_MAX = 300;
  const listOf = (items, what) => items.length
    ? h("div", h("ul.linlist", items.slice(0, LIST_MAX).map((r) => h("li", { style: "margin-left:" + Math.min(r.depth - 1, 12) * 1.2 + "em" },
        r.ref ? refLink(r.ref) : h("span.unres", r.text), r.of && r.depth > 1 ? h("span.muted", " → " + r.of) : null))),
        items.length > LIST_MAX ? h("p.more", "and " + fmtInt(items.length - LIST_MAX) + " more, in the graph above") : null)
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
