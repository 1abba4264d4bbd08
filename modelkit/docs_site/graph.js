/* The lineage graph: a layered left-to-right layout drawn on a canvas, with pan, zoom and click.
   Nodes: [{key, label, sub, kind, parents: [key], cls}]. Only what is on screen is drawn, and labels
   are left out when zoomed far out, so that thousands of nodes stay responsive. */

const DAG_W = 240;
const DAG_H = 30;
const DAG_COL = 320;
const DAG_ROW = 42;

const KIND_COLORS = {
  source: "#2f9e44",
  seed: "#7048e8",
  model: "#1c7ed6",
  snapshot: "#e8590c",
  analysis: "#868e96",
  test: "#c2255c",
  column: "#1c7ed6",
  external: "#868e96",
  unresolved: "#e03131",
};

function layoutDag(nodes) {
  const n = nodes.length;
  const index = new Map();
  nodes.forEach((node, i) => index.set(node.key, i));
  const parents = nodes.map((node) => (node.parents || []).map((k) => index.get(k)).filter((j) => j !== undefined));
  const children = nodes.map(() => []);
  parents.forEach((ps, i) => ps.forEach((p) => children[p].push(i)));
  // rank: longest path from the roots (Kahn's order)
  const rank = new Array(n).fill(0);
  const pending = parents.map((ps) => ps.length);
  const queue = [];
  for (let i = 0; i < n; i++) if (!pending[i]) queue.push(i);
  const order = [];
  for (let q = 0; q < queue.length; q++) {
    const v = queue[q];
    order.push(v);
    for (const c of children[v]) {
      rank[c] = Math.max(rank[c], rank[v] + 1);
      if (--pending[c] === 0) queue.push(c);
    }
  }
  const columns = [];
  // first order within columns: depth-first from the roots, so that families start together
  const seen = new Uint8Array(n);
  const visit = (start) => {
    const stack = [start];
    while (stack.length) {
      const v = stack.pop();
      if (seen[v]) continue;
      seen[v] = 1;
      (columns[rank[v]] = columns[rank[v]] || []).push(v);
      for (let k = children[v].length - 1; k >= 0; k--) if (!seen[children[v][k]]) stack.push(children[v][k]);
    }
  };
  const roots = order.filter((v) => !parents[v].length);
  roots.sort((a, b) => (nodes[a].label < nodes[b].label ? -1 : 1));
  roots.forEach(visit);
  for (let v = 0; v < n; v++) if (!seen[v]) visit(v);
  for (let r = 0; r < columns.length; r++) columns[r] = columns[r] || [];
  const y = new Float64Array(n);
  const place = (col, desired) => {
    let prev = -Infinity;
    let shift = 0;
    for (let k = 0; k < col.length; k++) {
      const v = col[k];
      y[v] = Math.max(desired[k], prev + DAG_ROW);
      prev = y[v];
      shift += desired[k] - y[v];
    }
    shift /= col.length || 1;
    for (const v of col) y[v] += shift;
  };
  columns.forEach((col) => place(col, col.map((_, k) => (k - (col.length - 1) / 2) * DAG_ROW)));
  const sweep = (cols, neighbours) => {
    for (const col of cols) {
      if (col.length < 1) continue;
      const bary = new Map();
      for (const v of col) {
        const ns = neighbours[v];
        if (ns.length) {
          let s = 0;
          for (const u of ns) s += y[u];
          bary.set(v, s / ns.length);
        } else bary.set(v, y[v]);
      }
      col.sort((a, b) => bary.get(a) - bary.get(b));
      place(col, col.map((v) => bary.get(v)));
    }
  };
  for (let it = 0; it < 3; it++) {
    sweep(columns.slice(1), parents);
    sweep(columns.slice(0, -1).reverse(), children);
  }
  const pos = nodes.map((_, i) => ({ x: rank[i] * DAG_COL, y: y[i] }));
  return { pos, parents, children, rank, columns: columns.length };
}

class DagView {
  constructor(container, options) {
    this.options = options || {};
    this.container = container;
    this.canvas = h("canvas.dag", { tabindex: "0", role: "img", "aria-label": "Lineage graph" });
    container.appendChild(this.canvas);
    this.ctx = this.canvas.getContext("2d");
    this.nodes = [];
    this.layout = { pos: [], parents: [], children: [] };
    this.scale = 1;
    this.tx = 0;
    this.ty = 0;
    this.selected = -1;
    this.lit = null;
    this.focus = new Set();
    this.stats = { nodes: 0, edges: 0, drawnNodes: 0, drawMs: 0, layoutMs: 0 };
    this.frame = 0;
    this.bind();
    if (window.ResizeObserver) {
      this.resizer = new ResizeObserver(() => this.resize());
      this.resizer.observe(container);
    }
    this.resize();
  }

  setData(nodes, focusKeys) {
    const t0 = performance.now();
    this.nodes = nodes;
    this.keyIndex = new Map(nodes.map((node, i) => [node.key, i]));
    this.layout = layoutDag(nodes);
    this.version = (this.version || 0) + 1;
    this.stats.layoutMs = Math.round(performance.now() - t0);
    this.stats.nodes = nodes.length;
    this.stats.edges = this.layout.parents.reduce((s, ps) => s + ps.length, 0);
    this.focus = new Set((focusKeys || []).map((k) => this.keyIndex.get(k)).filter((i) => i !== undefined));
    this.selected = -1;
    this.lit = null;
    if (this.focus.size === 1) this.select(Array.from(this.focus)[0], false);
    this.fit(this.focus.size ? this.focus : null);
  }

  bounds(only) {
    let x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
    const pick = only && only.size ? Array.from(only) : this.layout.pos.map((_, i) => i);
    for (const i of pick) {
      const p = this.layout.pos[i];
      x0 = Math.min(x0, p.x); y0 = Math.min(y0, p.y);
      x1 = Math.max(x1, p.x + DAG_W); y1 = Math.max(y1, p.y + DAG_H);
    }
    return x0 === Infinity ? { x0: 0, y0: 0, x1: DAG_W, y1: DAG_H } : { x0, y0, x1, y1 };
  }

  /* Fit everything, or keep the zoom readable and centre the given nodes. */
  fit(around) {
    const w = this.width || 800, hgt = this.height || 600;
    const all = this.bounds(null);
    const fitScale = Math.min(w / (all.x1 - all.x0 + 80), hgt / (all.y1 - all.y0 + 80));
    let scale = Math.min(1.2, fitScale);
    let b = all;
    if (around && around.size && scale < 0.55) {
      scale = 0.8; // a big graph: open readable, centred on the focus
      b = this.bounds(around);
    }
    this.scale = Math.max(0.02, scale);
    this.tx = w / 2 - ((b.x0 + b.x1) / 2) * this.scale;
    this.ty = hgt / 2 - ((b.y0 + b.y1) / 2) * this.scale;
    this.redraw();
  }

  zoom(factor, cx, cy) {
    const w = this.width || 800, hgt = this.height || 600;
    const x = cx == null ? w / 2 : cx, y = cy == null ? hgt / 2 : cy;
    const next = Math.min(3, Math.max(0.02, this.scale * factor));
    this.tx = x - ((x - this.tx) * next) / this.scale;
    this.ty = y - ((y - this.ty) * next) / this.scale;
    this.scale = next;
    this.redraw();
  }

  resize() {
    const rect = this.container.getBoundingClientRect();
    const dpr = window.devicePixelRatio || 1;
    this.width = Math.max(200, rect.width);
    this.height = Math.max(200, rect.height);
    this.canvas.width = Math.round(this.width * dpr);
    this.canvas.height = Math.round(this.height * dpr);
    this.canvas.style.width = this.width + "px";
    this.canvas.style.height = this.height + "px";
    this.dpr = dpr;
    this.redraw();
  }

  redraw() {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.draw();
    });
  }

  select(i, notify) {
    this.selected = i;
    if (i < 0) this.lit = null;
    else {
      const lit = new Set([i]);
      const walk = (edges) => {
        const stack = [i];
        while (stack.length) for (const j of edges[stack.pop()]) if (!lit.has(j)) { lit.add(j); stack.push(j); }
      };
      walk(this.layout.parents);
      walk(this.layout.children);
      this.lit = lit;
    }
    this.redraw();
    if (notify !== false && this.options.onSelect) this.options.onSelect(i < 0 ? null : this.nodes[i]);
  }

  hit(sx, sy) {
    const x = (sx - this.tx) / this.scale, y = (sy - this.ty) / this.scale;
    const pos = this.layout.pos;
    for (let i = pos.length - 1; i >= 0; i--) {
      const p = pos[i];
      if (x >= p.x && x <= p.x + DAG_W && y >= p.y && y <= p.y + DAG_H) return i;
    }
    return -1;
  }

  bind() {
    const c = this.canvas;
    let drag = null;
    c.addEventListener("pointerdown", (e) => {
      drag = { x: e.clientX, y: e.clientY, tx: this.tx, ty: this.ty, moved: false };
      c.setPointerCapture(e.pointerId);
    });
    c.addEventListener("pointermove", (e) => {
      if (!drag) {
        const r = c.getBoundingClientRect();
        c.style.cursor = this.hit(e.clientX - r.left, e.clientY - r.top) >= 0 ? "pointer" : "grab";
        return;
      }
      const dx = e.clientX - drag.x, dy = e.clientY - drag.y;
      if (Math.abs(dx) + Math.abs(dy) > 3) drag.moved = true;
      if (drag.moved) {
        this.tx = drag.tx + dx;
        this.ty = drag.ty + dy;
        c.style.cursor = "grabbing";
        this.redraw();
      }
    });
    c.addEventListener("pointerup", (e) => {
      const wasDrag = drag && drag.moved;
      drag = null;
      if (wasDrag) return;
      const r = c.getBoundingClientRect();
      this.select(this.hit(e.clientX - r.left, e.clientY - r.top));
    });
    c.addEventListener("dblclick", (e) => {
      const r = c.getBoundingClientRect();
      const i = this.hit(e.clientX - r.left, e.clientY - r.top);
      if (i >= 0 && this.options.onOpen) this.options.onOpen(this.nodes[i]);
    });
    c.addEventListener("wheel", (e) => {
      e.preventDefault();
      const r = c.getBoundingClientRect();
      this.zoom(Math.exp(-e.deltaY * (e.deltaMode ? 0.05 : 0.0015)), e.clientX - r.left, e.clientY - r.top);
    }, { passive: false });
    c.addEventListener("keydown", (e) => {
      const step = 60;
      if (e.key === "+" || e.key === "=") this.zoom(1.25);
      else if (e.key === "-") this.zoom(0.8);
      else if (e.key === "0") this.fit(null);
      else if (e.key === "ArrowLeft") { this.tx += step; this.redraw(); }
      else if (e.key === "ArrowRight") { this.tx -= step; this.redraw(); }
      else if (e.key === "ArrowUp") { this.ty += step; this.redraw(); }
      else if (e.key === "ArrowDown") { this.ty -= step; this.redraw(); }
      else if (e.key === "Enter" && this.selected >= 0 && this.options.onOpen) this.options.onOpen(this.nodes[this.selected]);
      else if (e.key === "Escape") this.select(-1);
      else return;
      e.preventDefault();
    });
  }

  draw() {
    const t0 = performance.now();
    const ctx = this.ctx, s = this.scale, dpr = this.dpr || 1;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, this.width, this.height);
    let drawn;
    const bitmap = s < 0.2 && this.lastScale === s ? this.bitmapFor(s) : null;
    if (bitmap) {
      // far out and only panning: the whole graph was drawn once at this zoom, move the picture
      ctx.drawImage(bitmap.canvas, this.tx - bitmap.ox, this.ty - bitmap.oy, bitmap.w, bitmap.h);
      drawn = this.countVisible();
    } else {
      drawn = this.paint(ctx, s, dpr, this.tx, this.ty, this.width, this.height);
    }
    this.lastScale = s;
    this.stats.drawnNodes = drawn;
    this.stats.drawMs = Math.round((performance.now() - t0) * 10) / 10;
    this.stats.scale = Math.round(s * 1000) / 1000;
    this.canvas.dataset.drawn = String(drawn);
  }

  countVisible() {
    const s = this.scale, vx0 = -this.tx / s - DAG_W, vy0 = -this.ty / s - DAG_H;
    const vx1 = (this.width - this.tx) / s, vy1 = (this.height - this.ty) / s;
    let n = 0;
    for (const p of this.layout.pos) if (p.x >= vx0 && p.x <= vx1 && p.y >= vy0 && p.y <= vy1) n++;
    return n;
  }

  /* The whole graph drawn at zoom `s` on an offscreen canvas (null when that would be too big). */
  bitmapFor(s) {
    const key = s + "|" + this.selected + "|" + this.version;
    if (this.bitmap && this.bitmap.key === key) return this.bitmap;
    this.bitmap = null;
    const b = this.bounds(null), pad = 8, dpr = this.dpr || 1;
    const w = (b.x1 - b.x0) * s + 2 * pad, hgt = (b.y1 - b.y0) * s + 2 * pad;
    // worth it only when the picture is not much bigger than the window (drawing it costs more)
    if (w * hgt > 3 * this.width * this.height || w * dpr > 16384 || hgt * dpr > 16384) return null;
    const canvas = document.createElement("canvas");
    canvas.width = Math.ceil(w * dpr);
    canvas.height = Math.ceil(hgt * dpr);
    const ox = pad - b.x0 * s, oy = pad - b.y0 * s;
    this.paint(canvas.getContext("2d"), s, dpr, ox, oy, w, hgt);
    this.bitmap = { key, canvas, ox, oy, w, h: hgt };
    return this.bitmap;
  }

  /* Draw what is visible through a (width x height) window at offset (tx, ty); returns the nodes drawn. */
  paint(ctx, s, dpr, tx, ty, width, height) {
    ctx.setTransform(dpr * s, 0, 0, dpr * s, dpr * tx, dpr * ty);
    const vx0 = -tx / s - DAG_W, vy0 = -ty / s - DAG_H;
    const vx1 = (width - tx) / s, vy1 = (height - ty) / s;
    const pos = this.layout.pos, parents = this.layout.parents, lit = this.lit;
    const visible = (p) => p.x >= vx0 && p.x <= vx1 && p.y >= vy0 && p.y <= vy1;
    // edges: dim ones first, highlighted ones on top
    const paths = [new Path2D(), new Path2D()];
    for (let i = 0; i < pos.length; i++) {
      const b = pos[i];
      for (const p of parents[i]) {
        const a = pos[p];
        if ((a.x > vx1 || b.x < vx0) || (Math.max(a.y, b.y) < vy0 || Math.min(a.y, b.y) > vy1)) continue;
        const on = lit && lit.has(i) && lit.has(p) ? 1 : 0;
        const x0 = a.x + DAG_W, y0 = a.y + DAG_H / 2, x1 = b.x, y1 = b.y + DAG_H / 2;
        paths[on].moveTo(x0, y0);
        if (s < 0.2) paths[on].lineTo(x1, y1); // far out: straight lines draw much faster
        else {
          const mid = (x0 + x1) / 2;
          paths[on].bezierCurveTo(mid, y0, mid, y1, x1, y1);
        }
      }
    }
    ctx.lineWidth = 1 / s; // one-pixel lines at every zoom: the fastest to draw
    ctx.strokeStyle = lit || s < 0.2 ? "rgba(134,142,150,0.18)" : "rgba(134,142,150,0.7)";
    ctx.stroke(paths[0]);
    ctx.strokeStyle = "#f08c00";
    ctx.lineWidth = Math.max(1.5, 2 / s);
    ctx.stroke(paths[1]);
    // nodes
    const labels = s >= 0.35;
    ctx.font = "13px system-ui, -apple-system, 'Segoe UI', sans-serif";
    ctx.textBaseline = "middle";
    let drawn = 0;
    for (let i = 0; i < pos.length; i++) {
      const p = pos[i];
      if (!visible(p)) continue;
      drawn++;
      const node = this.nodes[i];
      const dim = lit && !lit.has(i);
      ctx.globalAlpha = dim ? 0.3 : 1;
      const color = KIND_COLORS[node.kind] || KIND_COLORS.model;
      if (s < 0.2) {
        // far out: a solid block per node, at least a couple of pixels high
        ctx.fillStyle = i === this.selected ? "#f08c00" : color;
        ctx.fillRect(p.x, p.y, DAG_W, Math.max(DAG_H, 2 / s));
        continue;
      }
      ctx.fillStyle = node.cls === "unresolved" ? "#fff5f5" : "#ffffff";
      ctx.fillRect(p.x, p.y, DAG_W, DAG_H);
      ctx.fillStyle = color;
      ctx.fillRect(p.x, p.y, 6, DAG_H);
      const focused = this.focus.has(i), chosen = i === this.selected;
      ctx.lineWidth = chosen || focused ? Math.max(2, 2.5 / s) : Math.max(1, 1 / s);
      ctx.strokeStyle = chosen ? "#f08c00" : focused ? "#212529" : "#adb5bd";
      ctx.strokeRect(p.x, p.y, DAG_W, DAG_H);
      if (labels) {
        ctx.fillStyle = "#212529";
        ctx.fillText(this.fitText(node.label, DAG_W - 18), p.x + 12, p.y + DAG_H / 2);
      }
    }
    ctx.globalAlpha = 1;
    return drawn;
  }

  fitText(text, width) {
    const cache = this.textCache || (this.textCache = new Map());
    const hit = cache.get(text);
    if (hit !== undefined) return hit;
    let out = text;
    if (this.ctx.measureText(out).width > width) {
      let lo = 0, hi = text.length;
      while (lo < hi) {
        const mid = (lo + hi + 1) >> 1;
        if (this.ctx.measureText(text.slice(0, mid) + "…").width <= width) lo = mid;
        else hi = mid - 1;
      }
      out = text.slice(0, lo) + "…";
    }
    cache.set(text, out);
    return out;
  }

  destroy() {
    if (this.resizer) this.resizer.disconnect();
    if (this.frame) cancelAnimationFrame(this.frame);
  }
}
