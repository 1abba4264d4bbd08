/* SQL (and Jinja) syntax highlighting: one pass of a tokenizer, output as escaped HTML spans. */

const SQL_KEYWORDS = new Set((
  "select from where group by order having limit offset with as on join left right inner outer full cross " +
  "natural using union all intersect except distinct and or not in is null like ilike between case when then " +
  "else end create replace table view insert into values update set delete merge matched asc desc nulls first " +
  "last over partition rows range preceding following current row unbounded qualify window filter exists any " +
  "cast try_cast true false interval recursive lateral unnest pivot unpivot returning primary key references " +
  "default if temporary temp materialized schema database drop alter add column rename to grant semi anti " +
  "asof positional struct map array date timestamp time"
).split(" "));

const SQL_TYPES = new Set((
  "int integer bigint smallint tinyint hugeint double float real decimal numeric varchar text string char " +
  "boolean bool blob json uuid"
).split(" "));

const SQL_TOKEN = new RegExp(
  [
    "(\\{#[\\s\\S]*?#\\})", // 1 jinja comment
    "(\\{\\{[\\s\\S]*?\\}\\}|\\{%[\\s\\S]*?%\\})", // 2 jinja
    "(--[^\\n]*|/\\*[\\s\\S]*?\\*/)", // 3 sql comment
    "('(?:[^']|'')*'?)", // 4 string
    '("(?:[^"]|"")*"?)', // 5 quoted identifier
    "(\\b\\d+(?:\\.\\d+)?(?:e[+-]?\\d+)?\\b)", // 6 number
    "([A-Za-z_][A-Za-z0-9_$]*)(\\s*\\()?", // 7 word, 8 call
  ].join("|"),
  "gi"
);

function highlightSql(code) {
  let out = "";
  let last = 0;
  SQL_TOKEN.lastIndex = 0;
  let m;
  while ((m = SQL_TOKEN.exec(code)) !== null) {
    if (m.index > last) out += esc(code.slice(last, m.index));
    last = SQL_TOKEN.lastIndex;
    if (m[1]) out += '<span class="t-cm">' + esc(m[1]) + "</span>";
    else if (m[2]) out += '<span class="t-jj">' + esc(m[2]) + "</span>";
    else if (m[3]) out += '<span class="t-cm">' + esc(m[3]) + "</span>";
    else if (m[4]) out += '<span class="t-st">' + esc(m[4]) + "</span>";
    else if (m[5]) out += '<span class="t-id">' + esc(m[5]) + "</span>";
    else if (m[6]) out += '<span class="t-nu">' + esc(m[6]) + "</span>";
    else if (m[7]) {
      const word = m[7].toLowerCase();
      if (m[8]) out += '<span class="t-fn">' + esc(m[7]) + "</span>" + esc(m[8]);
      else if (SQL_KEYWORDS.has(word)) out += '<span class="t-kw">' + esc(m[7]) + "</span>";
      else if (SQL_TYPES.has(word)) out += '<span class="t-ty">' + esc(m[7]) + "</span>";
      else out += esc(m[7]);
    }
    if (m[0].length === 0) SQL_TOKEN.lastIndex++;
  }
  if (last < code.length) out += esc(code.slice(last));
  return out;
}

/* A code block with line numbers and a copy button. */
function codeBlock(code, label) {
  const lines = String(code || "").replace(/\s+$/, "").split("\n");
  const gutter = lines.map((_, i) => i + 1).join("\n");
  const pre = h("pre.code.sql", { "aria-label": label || "SQL" });
  pre.innerHTML =
    '<span class="gutter" aria-hidden="true">' + gutter + '</span><code>' + highlightSql(lines.join("\n")) + "</code>";
  const copy = h("button.copy", { type: "button", title: "Copy to the clipboard" }, "Copy");
  copy.addEventListener("click", () => {
    const done = () => {
      copy.textContent = "Copied";
      setTimeout(() => (copy.textContent = "Copy"), 1200);
    };
    if (navigator.clipboard && window.isSecureContext) navigator.clipboard.writeText(code).then(done, () => {});
    else {
      const area = h("textarea", { style: "position:fixed;opacity:0" });
      area.value = code;
      document.body.appendChild(area);
      area.select();
      try {
        document.execCommand("copy");
        done();
      } catch (e) {
        /* copying is a convenience */
      }
      area.remove();
    }
  });
  return h("div.codewrap", copy, pre);
}
