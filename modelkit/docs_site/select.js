/* dbt's selector syntax over the site's index, as `modelkit ls --select` reads it:
   union of space-separated terms, intersection of comma-separated atoms,
   atom := ["@"] [N] ["+"] [method ":"] value ["+" [N]]. */

const SELECT_METHODS = new Set([
  "fqn", "tag", "path", "file", "config", "resource_type", "source", "package", "unique_id", "test_name", "test_type",
]);

function SelectorError(message) {
  this.message = message;
}

function parseAtom(text) {
  let pos = 0;
  const end = text.length;
  const at = text.startsWith("@");
  if (at) pos = 1;
  const digitsStart = pos;
  while (pos < end && /\d/.test(text[pos])) pos++;
  let parents = false;
  let parentsDepth = null;
  if (pos < end && text[pos] === "+") {
    parents = true;
    parentsDepth = pos > digitsStart ? Number(text.slice(digitsStart, pos)) : null;
    pos++;
  } else if (pos > digitsStart) pos = digitsStart;
  let stop = end;
  let tail = stop;
  while (tail > pos && /\d/.test(text[tail - 1])) tail--;
  let children = false;
  let childrenDepth = null;
  if (tail > pos && text[tail - 1] === "+") {
    children = true;
    childrenDepth = tail < stop ? Number(text.slice(tail, stop)) : null;
    stop = tail - 1;
  }
  const body = text.slice(pos, stop);
  if (!body) throw new SelectorError("Invalid selector '" + text + "': nothing to select");
  if (at && (parents || children)) throw new SelectorError("Invalid selector '" + text + "': '@' cannot be combined with '+'");
  const colon = body.indexOf(":");
  let method = "fqn";
  let value = body;
  if (colon >= 0) {
    method = body.slice(0, colon);
    value = body.slice(colon + 1);
  }
  if (!SELECT_METHODS.has(method.split(".")[0])) {
    throw new SelectorError("Unknown selection method '" + method + "' in '" + text + "'");
  }
  if (!value) throw new SelectorError("Invalid selector '" + text + "': '" + method + ":' needs a value");
  return { method, value, parents, parentsDepth, children, childrenDepth, at, text };
}

function fqnOf(node) {
  if (node.t === "source") return [node.pk, node.sn, node.n];
  if (node.q) return node.q.split(".");
  const parts = (node.p || "").split("/");
  return [node.pk].concat(parts.slice(1, -1), [parts[parts.length - 1].replace(/\.[^.]*$/, "")]);
}

function matchAtom(atom, node) {
  const value = atom.value;
  const method = atom.method;
  if (method === "fqn") {
    if (value.includes("/") || value.endsWith(".sql") || value.endsWith(".csv")) {
      const trimmed = value.replace(/\/+$/, "");
      return node.p === trimmed || node.p.startsWith(trimmed + "/") || node.p.endsWith("/" + trimmed);
    }
    if (glob(value, node.n)) return true;
    const parts = value.split(".");
    const fqn = fqnOf(node);
    if (parts.length > fqn.length) return false;
    return parts.every((p, i) => glob(p, fqn[i]));
  }
  if (method === "tag") return (node.g || []).some((t) => glob(value, t));
  if (method === "path" || method === "file") {
    const path = node.p || "";
    const file = path.split("/").pop();
    if (method === "file") return glob(value, file) || glob(value, file.replace(/\.[^.]*$/, ""));
    const v = value.replace(/\/+$/, "");
    return path === v || path.startsWith(v + "/") || glob(v, path);
  }
  if (method.startsWith("config.")) {
    const key = method.slice(7);
    if (key === "materialized") return glob(value, node.m);
    if (key === "tags") return (node.g || []).some((t) => glob(value, t));
    return false;
  }
  if (method === "resource_type") return node.t === value;
  if (method === "source") {
    if (node.t !== "source") return false;
    let parts = value.split(".");
    if (parts.length === 3 && parts[0] === node.pk) parts = parts.slice(1);
    const names = [node.sn, node.n];
    return parts.every((p, i) => i >= names.length || glob(p, names[i]));
  }
  if (method === "package") return glob(value, node.pk);
  if (method === "unique_id") return glob(value, node.id);
  if (method === "test_name") return node.t === "test" && glob(value, node.tn);
  if (method === "test_type") return node.t === "test" && (value === "generic" || value === "data");
  return false;
}

function walkGraph(start, edges, depth) {
  const seen = new Set();
  let frontier = [start];
  let d = 0;
  while (frontier.length && (depth == null || d < depth)) {
    const next = [];
    for (const i of frontier) {
      for (const j of edges[i] || []) {
        if (!seen.has(j)) {
          seen.add(j);
          next.push(j);
        }
      }
    }
    frontier = next;
    d++;
  }
  return seen;
}

/* Set of node positions selected by `select` (all when empty) minus `exclude`. */
function selectNodes(model, select, exclude) {
  const evaluate = (text) => {
    const found = new Set();
    for (const term of String(text).split(/\s+/).filter(Boolean)) {
      let inter = null;
      for (const part of term.split(",").filter(Boolean)) {
        const atom = parseAtom(part);
        const matched = new Set();
        model.nodes.forEach((node, i) => {
          if (matchAtom(atom, node)) matched.add(i);
        });
        const base = Array.from(matched);
        for (const i of base) {
          if (atom.parents) walkGraph(i, model.parents, atom.parentsDepth).forEach((j) => matched.add(j));
          if (atom.children || atom.at) {
            const kids = walkGraph(i, model.children, atom.childrenDepth);
            kids.forEach((j) => matched.add(j));
            if (atom.at) {
              kids.add(i);
              kids.forEach((k) => walkGraph(k, model.parents, null).forEach((j) => matched.add(j)));
            }
          }
        }
        inter = inter === null ? matched : new Set(Array.from(inter).filter((i) => matched.has(i)));
      }
      if (inter) inter.forEach((i) => found.add(i));
    }
    return found;
  };
  let chosen;
  if (select && select.trim()) chosen = evaluate(select);
  else chosen = new Set(model.nodes.map((_, i) => i));
  if (exclude && exclude.trim()) evaluate(exclude).forEach((i) => chosen.delete(i));
  return chosen;
}
