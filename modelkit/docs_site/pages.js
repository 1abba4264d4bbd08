/* The pages: the overview and one node (the lineage pages are in lineage_pages.js). */

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
