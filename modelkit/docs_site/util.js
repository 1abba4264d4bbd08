/* Small helpers shared by the site's scripts. */

function esc(text) {
  return String(text == null ? "" : text)
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;")
    .replace(/'/g, "&#39;");
}

/* h("div.card", {title: "x", onclick: fn}, child, "text", [more]) -> element */
function h(spec, attrs) {
  const parts = spec.split(".");
  const node = document.createElement(parts[0] || "div");
  if (parts.length > 1) node.className = parts.slice(1).join(" ");
  let start = 1;
  if (attrs && typeof attrs === "object" && !(attrs instanceof Node) && !Array.isArray(attrs)) {
    for (const key of Object.keys(attrs)) {
      const value = attrs[key];
      if (value == null || value === false) continue;
      if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
      else if (key === "html") node.innerHTML = value;
      else if (key === "text") node.textContent = value;
      else node.setAttribute(key, value === true ? "" : value);
    }
    start = 2;
  }
  for (let i = start; i < arguments.length; i++) append(node, arguments[i]);
  return node;
}

function append(node, child) {
  if (child == null || child === false) return;
  if (Array.isArray(child)) child.forEach((c) => append(node, c));
  else node.appendChild(child instanceof Node ? child : document.createTextNode(String(child)));
}

function clear(node) {
  while (node.firstChild) node.removeChild(node.firstChild);
  return node;
}

function debounce(fn, ms) {
  let timer = null;
  return function () {
    const args = arguments;
    clearTimeout(timer);
    timer = setTimeout(() => fn.apply(null, args), ms);
  };
}

function plural(n, word) {
  return n + " " + word + (n === 1 ? "" : "s");
}

function fmtInt(n) {
  return n == null ? "" : Number(n).toLocaleString("en-US");
}

/* Glob match with * and ? (like fnmatch), case-sensitive as dbt's selectors are. */
const globCache = new Map();
function glob(pattern, value) {
  if (value == null) return false;
  let re = globCache.get(pattern);
  if (!re) {
    const src = pattern.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*").replace(/\?/g, ".");
    re = new RegExp("^" + src + "$");
    globCache.set(pattern, re);
  }
  return re.test(String(value));
}

const TYPE_LABEL = {
  model: "model",
  seed: "seed",
  snapshot: "snapshot",
  source: "source",
  analysis: "analysis",
  test: "test",
  unit_test: "unit test",
  operation: "operation",
};
