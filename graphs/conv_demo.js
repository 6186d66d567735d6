/* The convolution demo of the CNN notes. graphs/conv_demo.py writes the controls and the notes' own
 * numbers; this script draws the volumes and gets every output, product and sum from cnnrefConv
 * (conv-demo-port.js: cnnref's conv2d_naive and conv_transpose2d, ported). No framework, no request.
 *
 * Keyboard: each grid (the input, the filters with their biases, the output) is one Tab stop; the arrow
 * keys move inside it (past a slice's right edge to the next depth slice), Home and End jump to a slice's
 * first and last cell. Enter, or typing a digit or a minus sign, edits a number. The live region speaks on
 * the reader's own actions only, never on the steps of autoplay. */
(function () {
  "use strict";
  const conv = window.cnnrefConv;

  function init(root) {
    if (root.dataset.ready) return;
    root.dataset.ready = "1";
    const data = JSON.parse(root.querySelector(".cnnref-demo__data").textContent);
    const $ = (sel) => root.querySelector(sel);
    const $$ = (sel) => [...root.querySelectorAll(sel)];
    const param = Object.fromEntries($$("select[data-param]").map((el) => [el.dataset.param, el]));
    const vols = $('[data-testid="demo-vols"]'), editor = $(".cnnref-editor"), sizeLine = $('[data-testid="demo-size-result"]');
    const play = $('[data-action="play"]');
    const [LO, HI] = data.edit;

    let s;          // the setting: mode, n, D_in, D_out, F, S, P, dilation, output_padding; numbers X (Y), W, b
    let r;          // what it computes: see compute()
    let step = 0, timer = null, editing = null, summary = "";
    const tabStop = {};  // grid -> "s,r,c" of its cell that Tab reaches

    // --- The setting and its numbers -------------------------------------------------------------------

    function readSetting() {
      const t = { mode: param.mode.value };
      for (const name of Object.keys(data.options)) t[name] = +param[name].value;
      return t;
    }
    // Convolution: X (n, n, D_in), W (D_out, F, F, D_in), b (D_out,). Transposed: Y (n, n, D_in) in X's
    // place, W (D_in, F, F, D_out) (the W of the convolution it is the adjoint of), b (D_out,).
    function shapes(t) {
      const W = t.mode === "conv" ? [t.D_out, t.F, t.F, t.D_in] : [t.D_in, t.F, t.F, t.D_out];
      return { X: [t.n, t.n, t.D_in], W, b: [t.D_out] };
    }
    const randint = ([lo, hi]) => lo + Math.floor(Math.random() * (hi - lo + 1));
    // An array of the given shape: old's entries where the shapes overlap, random numbers elsewhere.
    function fit(old, shape, range) {
      const [n, ...rest] = shape;
      return Array.from({ length: n }, (_, i) => rest.length ? fit(old && old[i], rest, range)
        : old && old[i] !== undefined ? old[i] : randint(range));
    }
    function withNumbers(t, old) {
      const shape = shapes(t);
      return { ...t, X: fit(old.X, shape.X, data.random.X), W: fit(old.W, shape.W, data.random.W), b: fit(old.b, shape.b, data.random.b) };
    }
    function setSelects(t) {
      for (const [name, el] of Object.entries(param)) el.value = String(t[name]);
      param.output_padding.closest("label").hidden = t.mode === "conv";
      for (const el of $$("[data-sym]")) el.textContent = data.labels[el.dataset.sym][t.mode === "conv" ? 1 : 2];
    }

    // --- What the setting computes ---------------------------------------------------------------------

    // r.input: the volume the window slides over (X_pad, or Z: Y stretched and padded), r.filters: the
    // filters it meets (W, or W turned 180 degrees with depths swapped), r.V: the output (conv2d_naive or
    // conv_transpose2d, from the port), r.refusal: the message of a refused setting.
    function compute(t) {
      const out = { refusal: null, floor: false, stride: t.mode === "conv" ? t.S : 1 };
      if (t.mode === "conv") {
        out.name = "X_pad";
        out.input = conv.zeroPad(t.X, t.P);
        out.filters = t.W;
        try {
          out.size = conv.outputSize(t.n, t.F, t.S, t.P, t.dilation);
        } catch (e) {
          out.refusal = e.message;
          try { out.size = conv.outputSize(t.n, t.F, t.S, t.P, t.dilation, false); out.floor = true; } catch (e2) { /* PyTorch refuses it too */ }
        }
        if (out.size) out.V = conv.conv2dNaive(t.X, t.W, t.b, t.S, t.P, t.dilation, !out.floor);
      } else {
        out.name = "Z";
        out.pad = t.dilation * (t.F - 1) - t.P;
        out.filters = conv.flipFilters(t.W);
        try {
          out.size = conv.transposeOutputSize(t.n, t.F, t.S, t.P, t.output_padding, t.dilation);
          out.input = conv.stretch(t.X, t.S, out.pad, t.output_padding);
          out.V = conv.convTranspose2d(t.X, t.W, t.b, t.S, t.P, t.output_padding, t.dilation);
        } catch (e) {
          out.refusal = e.message;
        }
      }
      out.tooWide = !!out.input && out.input.length > data.max_cells;
      if (out.tooWide) out.V = null;
      return out;
    }

    // Where a drawn number comes from: "X[i, j, d]" for X_pad's inside, "Y[i, j, k]" for Z's stretched
    // entries, "W[k, a, c, d]", "b[k]"; null for the zeros that padding and stretching add.
    function inputSource(y, x, d) {
      if (s.mode === "conv") {
        const i = y - s.P, j = x - s.P;
        return i >= 0 && j >= 0 && i < s.n && j < s.n ? `X[${i}, ${j}, ${d}]` : null;
      }
      const i = (y - r.pad) / s.S, j = (x - r.pad) / s.S;
      return Number.isInteger(i) && Number.isInteger(j) && i >= 0 && j >= 0 && i < s.n && j < s.n ? `Y[${i}, ${j}, ${d}]` : null;
    }
    function filterSource(k, a, c, d) {  // the drawn filter k's entry (a, c, d) is this entry of W
      return s.mode === "conv" ? `W[${k}, ${a}, ${c}, ${d}]` : `W[${d}, ${s.F - 1 - a}, ${s.F - 1 - c}, ${k}]`;
    }
    function setEntry(src, value) {
      const [, name, index] = src.match(/^(\w)\[(.*)\]$/);
      const path = index.split(", ").map(Number);
      let a = s[name === "Y" ? "X" : name];
      for (const i of path.slice(0, -1)) a = a[i];
      a[path[path.length - 1]] = value;
    }

    // --- Drawing -----------------------------------------------------------------------------------------

    // One depth slice as a table; td(i, j) returns a cell's markup.
    function slice(caption, label, rows, cols, td, cls) {
      let body = "";
      for (let i = 0; i < rows; i++) {
        body += "<tr>";
        for (let j = 0; j < cols; j++) body += td(i, j);
        body += "</tr>";
      }
      return `<figure class="cnnref-slice"><figcaption>${caption}</figcaption><table class="cnnref-grid ${cls}" ` +
        `aria-label="${label}"><tbody>${body}</tbody></table></figure>`;
    }
    // A number the reader can change: one of a grid's cells (grid g, slice s, row r, column c).
    function editable(src, value, nav, attrs, cls = "") {
      return `<td class="is-data ${cls}" tabindex="-1" data-src="${src}" data-nav="${nav}" aria-label="${src} = ${value}"${attrs}>${value}</td>`;
    }
    const vol = (cls, title, inner) => `<div class="cnnref-vol ${cls}"><p class="cnnref-vol__title">${title}</p>` +
      `<div class="cnnref-vol__slices">${inner}</div></div>`;
    const dims = (...n) => n.join("×");

    function drawInputs() {
      let html = "";
      const D = s.D_in, n = s.n;
      if (s.mode === "transposed") {
        html += vol("cnnref-vol--y", `Input Y: ${dims(n, n, D)}`, Array.from({ length: D }, (_, d) => slice(
          `Y[:, :, ${d}]`, `Y[:, :, ${d}]`, n, n, (i, j) => editable(`Y[${i}, ${j}, ${d}]`, s.X[i][j][d], `in,${d},${i},${j}`,
            ` data-vol="Y" data-i="${i}" data-j="${j}" data-d="${d}"`), "cnnref-grid--input")).join(""));
      }
      if (!r.input || r.tooWide) return html;
      const A = r.input, N = A.length;
      const unused = r.floor ? N - ((r.V.length - 1) * s.S + s.dilation * (s.F - 1) + 1) : 0;  // rows and columns the floor rule drops
      const title = s.mode === "conv"
        ? `Input X: ${dims(n, n, D)}, zero-padded (P = ${s.P}) to X_pad: ${dims(N, N, D)}`
        : `Z: Y stretched (S - 1 = ${s.S - 1} zeros between entries), ` +
          (r.pad >= 0 ? `padded by dilation (F - 1) - P = ${r.pad}` : `cropped by P - dilation (F - 1) = ${-r.pad}`) +
          (s.output_padding ? ` and output_padding = ${s.output_padding} at the bottom and right` : "") + `: ${dims(N, N, D)}`;
      html += vol("cnnref-vol--input", title, Array.from({ length: D }, (_, d) => slice(
        `${r.name}[:, :, ${d}]`, `${r.name}[:, :, ${d}]`, N, N, (y, x) => {
          const src = inputSource(y, x, d), v = A[y][x][d];
          const attrs = ` data-vol="${r.name}" data-i="${y}" data-j="${x}" data-d="${d}"`;
          const cls = y >= N - unused || x >= N - unused ? "is-unused" : "";
          if (src && s.mode === "conv") return editable(src, v, `in,${d},${y - s.P},${x - s.P}`, attrs, cls);
          return `<td class="${src ? "is-data" : "is-pad"} ${cls}"${attrs}>${v}</td>`;
        }, "cnnref-grid--input")).join(""));
      return html;
    }

    function drawFilters() {
      const Wd = r.filters, K = Wd.length, F = s.F, D = Wd[0][0][0].length;
      const boxes = Wd.map((w, k) => {
        const name = s.mode === "conv" ? `W[${k}]` : `W[:, ::-1, ::-1, ${k}]`;
        const slices = Array.from({ length: D }, (_, d) => slice(
          s.mode === "conv" ? `[:, :, ${d}]` : `k = ${d}`, `${name}, depth ${d}`, F, F,
          (a, c) => editable(filterSource(k, a, c, d), w[a][c][d], `W,${k * (D + 1) + d},${a},${c}`,
            ` data-vol="W" data-k="${k}" data-i="${a}" data-j="${c}" data-d="${d}"`), "cnnref-grid--filter"));
        const bias = slice(`b[${k}]`, `bias b[${k}]`, 1, 1, () => editable(`b[${k}]`, s.b[k], `W,${k * (D + 1) + D},0,0`,
          ` data-vol="b" data-k="${k}" data-testid="demo-bias-${k}"`), "cnnref-grid--bias");
        return `<div class="cnnref-filter" data-k="${k}"><p class="cnnref-filter__title">${name}: ${dims(F, F, D)}</p>` +
          `<div class="cnnref-vol__slices">${slices.join("")}${bias}</div></div>`;
      });
      const title = s.mode === "conv"
        ? `Filters W: ${dims(K, F, F, D)} and biases b`
        : `Filters of the equivalent convolution: W (${dims(D, F, F, K)}) turned 180° with its depths swapped, and biases b`;
      return `<div class="cnnref-vol cnnref-vol--filters"><p class="cnnref-vol__title">${title}</p>` +
        `<div class="cnnref-filters">${boxes.join("")}</div></div>`;
    }

    function drawOutput() {
      if (!r.V) return "";
      const V = r.V, H = V.length, Wd = V[0].length, K = V[0][0].length;
      const title = `Output V: ${dims(H, Wd, K)}` + (r.floor ? " (floored)" : "");
      const slices = Array.from({ length: K }, (_, k) => slice(`V[:, :, ${k}]`, `V[:, :, ${k}]`, H, Wd, (i, j) =>
        `<td><button type="button" class="cnnref-out" data-testid="demo-out-cell" tabindex="-1" data-nav="out,${k},${i},${j}" ` +
        `data-i="${i}" data-j="${j}" data-k="${k}" aria-label="V[${i}, ${j}, ${k}] = ${V[i][j][k]}">${V[i][j][k]}</button></td>`,
      "cnnref-grid--output"));
      const calc = '<div class="cnnref-calc" data-testid="demo-calc"><p class="cnnref-calc__head" data-testid="demo-current"></p>' +
        '<ol class="cnnref-calc__products" data-testid="demo-products"></ol><p class="cnnref-calc__total">sum of products ' +
        '<strong data-testid="demo-sum"></strong> + bias <strong data-testid="demo-bias"></strong> = ' +
        '<strong class="cnnref-calc__value" data-testid="demo-value"></strong></p></div>';
      return `<div class="cnnref-result">${vol("cnnref-vol--output", title, slices.join(""))}${calc}</div>`;
    }

    // Every product of every output is as wide as the widest: stepping never re-wraps the list (no layout shift).
    function widths() {
      const text = (v) => String(v).length, V = r.V;
      let term = 0, part = 0;
      for (let i = 0; i < V.length; i++) for (let j = 0; j < V[0].length; j++) for (let k = 0; k < V[0][0].length; k++) {
        const sums = {};
        for (const t of conv.products(r.input, r.filters, i, j, k, r.stride, s.dilation)) {
          term = Math.max(term, text(t.x_value) + 1 + (t.w_value < 0 ? text(t.w_value) + 2 : text(t.w_value)));
          sums[t.d] = (sums[t.d] || 0) + t.x_value * t.w_value;
        }
        for (const v of Object.values(sums)) part = Math.max(part, text(v) + 2);
      }
      return { term, part };
    }

    function sizeText() {
      const t = s;
      if (t.mode === "conv") {
        const span = t.dilation * (t.F - 1) + 1;  // output_size's formula, in its words
        const rule = t.dilation === 1 ? `(W1 - F + 2P)/S + 1 = (${t.n} - ${t.F} + ${2 * t.P})/${t.S} + 1`
          : `(W1 - dilation (F - 1) - 1 + 2P)/S + 1 = (${t.n} - ${t.dilation} (${t.F} - 1) - 1 + ${2 * t.P})/${t.S} + 1`;
        if (!r.refusal) return `Output size: ${rule} = ${r.size}, an output of ${dims(r.size, r.size, t.D_out)}.`;
        if (!r.floor) return `Refused: ${r.refusal}. PyTorch refuses it too.`;
        const dropped = t.n + 2 * t.P - ((r.size - 1) * t.S + span);
        return `Refused: ${r.refusal}. Below is what exact=False computes: the last ${dropped} row` +
          `${dropped > 1 ? "s" : ""} and column${dropped > 1 ? "s" : ""} of X_pad are never used (hatched).`;
      }
      if (r.refusal) return `Refused: ${r.refusal}.`;
      const rule = `S (H2 - 1) + dilation (F - 1) + 1 - 2P + output_padding = ${t.S} (${t.n} - 1) + ${t.dilation} (${t.F} - 1) ` +
        `+ 1 - ${2 * t.P} + ${t.output_padding}`;
      return `Output size: ${rule} = ${r.size}, an output of ${dims(r.size, r.size, t.D_out)}.`;
    }

    function render() {
      r = compute(s);
      let text = sizeText();
      if (r.tooWide) {
        text += ` Z would be ${r.input.length} cells wide: the demo draws at most ${data.max_cells} (what fits a phone); ` +
          "choose a smaller F, S or dilation, or a larger P.";
      }
      sizeLine.textContent = text;
      sizeLine.dataset.accepted = r.refusal ? "false" : "true";
      sizeLine.classList.toggle("is-refused", !!r.refusal || r.tooWide);
      vols.innerHTML = drawInputs() + drawOutput() + drawFilters();
      for (const g of ["in", "W", "out"]) {
        const cells = $$(`[data-nav^="${g},"]`);
        if (!cells.length) continue;
        const kept = cells.find((el) => el.dataset.nav === `${g},${tabStop[g]}`) || cells[0];
        kept.tabIndex = 0;
      }
      const hasOutput = !!r.V;
      for (const b of $$('.cnnref-controls [data-action="prev"], [data-action="play"], [data-action="next"]')) b.disabled = !hasOutput;
      if (!hasOutput) { stop(true); $('[data-testid="demo-position"]').textContent = "no output"; return; }
      const w = widths();
      $('[data-testid="demo-products"]').style.setProperty("--term", `${w.term}ch`);
      $('[data-testid="demo-products"]').style.setProperty("--part", `${w.part}ch`);
      show(step, false);
    }

    // --- The current output and its computation ---------------------------------------------------------

    function where(k) {  // step -> output position: depth slice by depth slice, then rows i, then columns j
      const [H, W, K] = [r.V.length, r.V[0].length, r.V[0][0].length];
      const n = H * W * K, m = ((k % n) + n) % n;
      return { m, n, k: Math.floor(m / (H * W)), i: Math.floor((m % (H * W)) / W), j: m % W };
    }

    function show(k, announce) {
      const p = where(k);
      step = p.m;
      const terms = conv.products(r.input, r.filters, p.i, p.j, p.k, r.stride, s.dilation);
      const taps = new Set(terms.map((t) => `${t.y},${t.x},${t.d}`));
      for (const td of $$(".cnnref-vol--input td")) td.classList.toggle("is-window", taps.has(`${td.dataset.i},${td.dataset.j},${td.dataset.d}`));
      if (s.mode === "transposed") {  // the entries of Y the window meets
        const fromY = new Set(terms.map((t) => inputSource(t.y, t.x, t.d)).filter(Boolean));
        for (const td of $$(".cnnref-vol--y td")) td.classList.toggle("is-window", fromY.has(td.dataset.src));
      }
      for (const f of $$(".cnnref-filter")) f.classList.toggle("is-active", +f.dataset.k === p.k);
      for (const b of $$(".cnnref-out")) {
        const on = +b.dataset.i === p.i && +b.dataset.j === p.j && +b.dataset.k === p.k;
        b.classList.toggle("is-current", on);
        if (on) { b.setAttribute("aria-current", "true"); moveTabStop(b); } else b.removeAttribute("aria-current");
      }

      const list = $('[data-testid="demo-products"]');
      list.textContent = "";
      let sum = 0;
      for (let d = 0; d < r.input[0][0].length; d++) {
        const li = document.createElement("li");
        let part = 0, html = "";
        terms.filter((t) => t.d === d).forEach((t, n) => {
          const w = t.w_value < 0 ? `(${t.w_value})` : t.w_value;
          html += `${n ? " + " : ""}<span class="cnnref-calc__product" data-testid="demo-product" data-x="${t.x_value}" ` +
            `data-w="${t.w_value}" data-d="${d}">${t.x_value}×${w}</span>`;
          part += t.x_value * t.w_value;
        });
        li.innerHTML = `<span class="cnnref-calc__depth">d = ${d}:</span><span>${html} <span class="cnnref-calc__part">= ${part}</span></span>`;
        list.appendChild(li);
        sum += part;
      }
      const y0 = p.i * r.stride, x0 = p.j * r.stride, span = s.dilation * (s.F - 1) + 1;
      const range = (a) => `${a}:${a + span}${s.dilation > 1 ? `:${s.dilation}` : ""}`;
      const filter = s.mode === "conv" ? `W[${p.k}]` : `W[:, ::-1, ::-1, ${p.k}]`;
      const name = `V[${p.i}, ${p.j}, ${p.k}]`, value = r.V[p.i][p.j][p.k], bias = s.b[p.k];
      const head = $('[data-testid="demo-current"]');
      head.textContent = `${name} = sum(${r.name}[${range(y0)}, ${range(x0)}, :] (blue) × ${filter} (orange)) + b[${p.k}]`;
      Object.assign(head.dataset, { i: p.i, j: p.j, k: p.k });
      $('[data-testid="demo-sum"]').textContent = sum;
      $('[data-testid="demo-bias"]').textContent = bias;
      $('[data-testid="demo-value"]').textContent = value;
      $('[data-testid="demo-position"]').textContent = `output ${p.m + 1} of ${p.n}`;
      summary = `Output ${p.m + 1} of ${p.n}, ${name}: sum of products ${sum}, plus bias b[${p.k}] = ${bias}, gives ${value}.`;
      if (announce !== false) say(summary);
    }
    function say(text) { $('[data-testid="demo-live"]').textContent = text; }

    // After a tap or click on an output cell: the window, the cell and the worked sum on screen together
    // if they fit (on a phone the sum is under the output and the window above it); else the window's last
    // depth slice (the nearest), the cell and the sum; else the cell and the sum.
    function reveal(cell) {
      const header = document.querySelector(".md-header"), top0 = header ? header.getBoundingClientRect().bottom : 0;
      const box = (els) => els.reduce((b, el) => {
        const e = el.getBoundingClientRect();
        return { top: Math.min(b.top, e.top), bottom: Math.max(b.bottom, e.bottom) };
      }, { top: Infinity, bottom: -Infinity });
      const near = [cell, $(".cnnref-calc")], win = $$(".cnnref-vol--input td.is-window");
      const last = win.filter((td) => td.dataset.d === win[win.length - 1].dataset.d);  // its last depth slice
      const all = near.concat(win.slice(0, 1)), nearest = near.concat(last.slice(0, 1));
      const view = window.innerHeight - top0 - 16;
      const fits = (els) => box(els).bottom - box(els).top <= view;
      const b = box(fits(all) ? all : fits(nearest) ? nearest : near);
      if (b.top < top0 + 8) window.scrollBy(0, b.top - top0 - 8);
      else if (b.bottom > window.innerHeight - 8) window.scrollBy(0, Math.min(b.bottom - window.innerHeight + 8, b.top - top0 - 8));
    }

    // --- Playing ------------------------------------------------------------------------------------------

    function stop(quiet) {
      const was = !!timer;
      clearInterval(timer);
      timer = null;
      play.setAttribute("aria-pressed", "false");
      play.textContent = "Play";
      if (was && !quiet) say(`Paused. ${summary}`);
    }
    function start() {
      timer = setInterval(() => show(step + 1, false), 1500);
      play.setAttribute("aria-pressed", "true");
      play.textContent = "Pause";
      say("Playing: the next output every 1.5 seconds.");
    }

    // --- Keyboard: one Tab stop per grid, arrow keys inside -------------------------------------------------

    function moveTabStop(el) {
      const [g, ...pos] = el.dataset.nav.split(",");
      for (const other of $$(`[data-nav^="${g},"][tabindex="0"]`)) other.tabIndex = -1;
      el.tabIndex = 0;
      tabStop[g] = pos.join(",");
    }
    function cellAt(g, sl, row, col) { return $(`[data-nav="${g},${sl},${row},${col}"]`); }
    // The cell an arrow key (or Home, End) leads to from el; past a slice's right or left edge, the next or
    // previous slice, same row (or its last row).
    function neighbour(el, key) {
      const [g, ...pos] = el.dataset.nav.split(",");
      const [sl, row, col] = pos.map(Number);
      const rows = (x) => $$(`[data-nav^="${g},${x},"][data-nav$=",0"]`).length;
      const cols = (x) => $$(`[data-nav^="${g},${x},0,"]`).length;
      const go = (x, i, j) => cellAt(g, x, Math.min(i, rows(x) - 1), j === -1 ? cols(x) - 1 : Math.min(j, cols(x) - 1));
      switch (key) {
        case "ArrowUp": return cellAt(g, sl, Math.max(row - 1, 0), col);
        case "ArrowDown": return cellAt(g, sl, Math.min(row + 1, rows(sl) - 1), col);
        case "ArrowLeft": return col > 0 ? cellAt(g, sl, row, col - 1) : sl > 0 ? go(sl - 1, row, -1) : el;
        case "ArrowRight": return col < cols(sl) - 1 ? cellAt(g, sl, row, col + 1) : rows(sl + 1) ? go(sl + 1, row, 0) : el;
        case "Home": return cellAt(g, sl, 0, 0);
        case "End": return cellAt(g, sl, rows(sl) - 1, cols(sl) - 1);
        default: return null;
      }
    }
    function choose(cell, announce) {  // an output cell, chosen by the reader
      stop(true);
      const H = r.V.length, W = r.V[0].length;
      show(+cell.dataset.k * H * W + +cell.dataset.i * W + +cell.dataset.j, announce);
      reveal(cell);
    }

    // --- Editing a number: a field over the cell ------------------------------------------------------------

    function openEditor(cell, typed) {
      stop(true);
      editing = cell;
      const c = cell.getBoundingClientRect(), base = root.getBoundingClientRect();
      editor.style.left = `${c.left - base.left + c.width / 2}px`;
      editor.style.top = `${c.top - base.top + c.height / 2}px`;
      editor.setAttribute("aria-label", `${cell.dataset.src}: a whole number from ${LO} to ${HI}`);
      editor.value = typed === undefined ? cell.textContent : typed;
      editor.hidden = false;
      editor.focus();
      if (typed === undefined) editor.select();
    }
    function closeEditor(commit) {
      if (!editing) return;
      const src = editing.dataset.src, text = editor.value.trim(), v = Number(text);
      editing = null;
      editor.hidden = true;
      if (commit && text !== "" && Number.isInteger(v)) {
        setEntry(src, Math.max(LO, Math.min(HI, v)));
        render();
        say(`${src} is now ${Math.max(LO, Math.min(HI, v))}. ${r.V ? summary : sizeLine.textContent}`);
      }
      const cell = $(`[data-src="${src}"]`);
      if (cell) { moveTabStop(cell); cell.focus(); }
    }

    // --- Events ---------------------------------------------------------------------------------------------

    root.addEventListener("change", (e) => {
      const name = e.target.dataset && e.target.dataset.param;
      if (!name) return;
      stop(true);
      let t = readSetting();
      if (name === "mode") {  // the other mode, with the same W: it maps this output's size back to the input's
        const back = { ...t, D_in: s.D_out, D_out: s.D_in, output_padding: 0 };
        if (r.V && data.options.n.includes(r.V.length)) back.n = r.V.length;
        if (back.mode === "transposed" && r.floor) {  // output_padding brings back what the floor rule dropped
          back.output_padding = s.n + 2 * s.P - ((r.size - 1) * s.S + s.dilation * (s.F - 1) + 1);
        }
        setSelects(back);
        s = withNumbers(readSetting(), { W: s.W });
      } else {
        s = withNumbers(t, s);
      }
      step = 0;
      render();
      say(sizeLine.textContent);
    });

    root.addEventListener("click", (e) => {
      const t = e.target.closest("button, td[data-src]");
      if (!t || !root.contains(t)) return;
      const action = t.dataset.action;
      if (action === "play") { if (timer) stop(); else { show(step + 1, false); start(); } }
      else if (action === "prev") { stop(true); show(step - 1); }
      else if (action === "next") { stop(true); show(step + 1); }
      else if (action === "random") {
        stop(true);
        s = withNumbers(readSetting(), {});
        render();
        say(`New random numbers. ${r.V ? summary : sizeLine.textContent}`);
      } else if (action === "reset") {
        stop(true);
        setSelects(data.setting);
        s = { ...data.setting, X: data.X, W: data.W, b: data.b };
        s = withNumbers(s, s);  // copies
        step = 0;
        render();
        say(`The notes' setting and numbers. ${summary}`);
      } else if (t.classList.contains("cnnref-out")) choose(t);
      else if (t.dataset.src) openEditor(t);
    });

    root.addEventListener("keydown", (e) => {
      const t = e.target;
      if (t === editor) {
        if (e.key === "Enter" || e.key === "Tab") { e.preventDefault(); closeEditor(true); }
        else if (e.key === "Escape") { e.preventDefault(); closeEditor(false); }
        return;
      }
      if (!t.dataset || !t.dataset.nav) return;
      const next = neighbour(t, e.key);
      if (next) {
        e.preventDefault();
        moveTabStop(next);
        next.focus();
        if (next.classList.contains("cnnref-out")) choose(next);
      } else if (t.dataset.src && (e.key === "Enter" || e.key === "F2" || e.key === " ")) {
        e.preventDefault();
        openEditor(t);
      } else if (t.dataset.src && /^[0-9-]$/.test(e.key)) {
        e.preventDefault();
        openEditor(t, e.key);
      }
    });
    editor.addEventListener("blur", () => closeEditor(true));

    setSelects(data.setting);
    s = withNumbers({ ...data.setting, X: data.X, W: data.W, b: data.b }, { X: data.X, W: data.W, b: data.b });
    render();
  }

  function initAll() {
    document.querySelectorAll(".cnnref-demo").forEach(init);
  }
  // Material's instant navigation swaps pages without reloading scripts: it publishes each page on document$.
  if (window.document$ && typeof window.document$.subscribe === "function") window.document$.subscribe(initAll);
  else initAll();  // the script follows the demo's markup, which is therefore already parsed
})();
