/* The convolution demo of the CNN notes (graphs/conv_demo.py writes the markup and the numbers).
 * Every number comes from the JSON that cnnref computed at build time; this script only highlights
 * the current output activation and writes out its elementwise products, their sum and the bias.
 * No framework, no network request. */
(function () {
  "use strict";

  function init(root) {
    if (root.dataset.ready) return;
    root.dataset.ready = "1";
    var d = JSON.parse(root.querySelector(".cnnref-demo__data").textContent);
    var H2 = d.V.length, W2 = d.V[0].length, K = d.K, F = d.F, S = d.S, D = d.D1;
    var n = H2 * W2 * K, step = 0, timer = null, summary = "";
    var q = function (sel) { return root.querySelector(sel); };
    var qa = function (sel) { return Array.prototype.slice.call(root.querySelectorAll(sel)); };
    var inputs = qa(".cnnref-grid--input td");
    var filters = qa(".cnnref-vol--filter");
    var outs = qa(".cnnref-out");
    var play = q('[data-action="play"]');

    function where(s) {  // step -> output position, depth slice by depth slice (k outer, then rows i, columns j)
      var k = Math.floor(s / (H2 * W2)), r = s % (H2 * W2);
      return { i: Math.floor(r / W2), j: r % W2, k: k };
    }
    function el(tag, cls, text) {
      var e = document.createElement(tag);
      if (cls) e.className = cls;
      if (text !== undefined) e.textContent = text;
      return e;
    }

    function show(s, announce) {
      step = (s + n) % n;
      var p = where(step), i0 = p.i * S, j0 = p.j * S;
      inputs.forEach(function (td) {
        var i = +td.dataset.i, j = +td.dataset.j;
        td.classList.toggle("is-window", i >= i0 && i < i0 + F && j >= j0 && j < j0 + F);
      });
      filters.forEach(function (f) { f.classList.toggle("is-active", +f.dataset.k === p.k); });
      outs.forEach(function (b) {
        var on = +b.dataset.i === p.i && +b.dataset.j === p.j && +b.dataset.k === p.k;
        b.classList.toggle("is-current", on);
        if (on) b.setAttribute("aria-current", "true"); else b.removeAttribute("aria-current");
      });

      var list = q('[data-testid="demo-products"]'), sum = 0;
      list.textContent = "";
      for (var dd = 0; dd < D; dd++) {
        var li = el("li"), part = 0;
        li.appendChild(el("span", "cnnref-calc__slice cnnref-calc__slice--long",
          "X_pad[" + i0 + ":" + (i0 + F) + ", " + j0 + ":" + (j0 + F) + ", " + dd + "] · W[" + p.k + ", :, :, " + dd + "]: "));
        li.appendChild(el("span", "cnnref-calc__slice cnnref-calc__slice--short", "depth " + dd + ": "));
        for (var a = 0; a < F; a++) {
          for (var b = 0; b < F; b++) {
            var x = d.X_pad[i0 + a][j0 + b][dd], w = d.W[p.k][a][b][dd];
            var t = el("span", "cnnref-calc__product", x + "×" + (w < 0 ? "(" + w + ")" : w));
            t.setAttribute("data-testid", "demo-product");
            t.dataset.x = x; t.dataset.w = w; t.dataset.d = dd;
            if (a || b) li.appendChild(document.createTextNode(" + "));
            li.appendChild(t);
            part += x * w;
          }
        }
        li.appendChild(el("span", "cnnref-calc__part", " = " + part));
        list.appendChild(li);
        sum += part;
      }
      var value = d.V[p.i][p.j][p.k], bias = d.b[p.k];
      var name = "V[" + p.i + ", " + p.j + ", " + p.k + "]";
      var head = q('[data-testid="demo-current"]');
      head.textContent = name + " = sum(window X_pad[" + i0 + ":" + (i0 + F) + ", " + j0 + ":" + (j0 + F) +
        ", :] (blue) × filter W[" + p.k + "] (orange)) + b[" + p.k + "]:";
      head.dataset.i = p.i; head.dataset.j = p.j; head.dataset.k = p.k;
      q('[data-testid="demo-sum"]').textContent = sum;
      q('[data-testid="demo-bias"]').textContent = bias;
      q('[data-testid="demo-value"]').textContent = value;
      q('[data-testid="demo-position"]').textContent = "output " + (step + 1) + " of " + n;
      summary = "Output " + (step + 1) + " of " + n + ", " + name + ": sum of products " + sum + ", plus bias b[" +
        p.k + "] = " + bias + ", gives " + value + ".";
      if (announce !== false) say(summary);
    }
    // The live region speaks on the reader's own actions only: not on every step of autoplay.
    function say(text) { q('[data-testid="demo-live"]').textContent = text; }

    function stop(quiet) {
      var was = !!timer;
      if (timer) clearInterval(timer);
      timer = null;
      play.setAttribute("aria-pressed", "false");
      play.textContent = "Play";
      if (was && !quiet) say("Paused. " + summary);
    }
    function start() {
      timer = setInterval(function () { show(step + 1, false); }, 1500);
      play.setAttribute("aria-pressed", "true");
      play.textContent = "Pause";
      say("Playing: the next output every 1.5 seconds.");
    }

    root.addEventListener("click", function (e) {
      var t = e.target.closest("button");
      if (!t || !root.contains(t)) return;
      if (t.dataset.action === "play") { if (timer) stop(); else { show(step + 1, false); start(); } return; }
      if (t.dataset.action === "prev") { stop(true); show(step - 1); return; }
      if (t.dataset.action === "next") { stop(true); show(step + 1); return; }
      if (t.classList.contains("cnnref-out")) {
        stop(true);
        show(+t.dataset.k * H2 * W2 + +t.dataset.i * W2 + +t.dataset.j);
      }
    });

    // Arrow keys move between the output cells of a depth slice; Home/End jump to the first/last.
    root.addEventListener("keydown", function (e) {
      var t = e.target;
      if (!t.classList || !t.classList.contains("cnnref-out")) return;
      var i = +t.dataset.i, j = +t.dataset.j, k = +t.dataset.k;
      var moves = { ArrowLeft: [0, -1], ArrowRight: [0, 1], ArrowUp: [-1, 0], ArrowDown: [1, 0] };
      var m = moves[e.key];
      if (m) { i = Math.min(H2 - 1, Math.max(0, i + m[0])); j = Math.min(W2 - 1, Math.max(0, j + m[1])); }
      else if (e.key === "Home") { i = 0; j = 0; }
      else if (e.key === "End") { i = H2 - 1; j = W2 - 1; }
      else return;
      e.preventDefault();
      var next = root.querySelector('.cnnref-out[data-i="' + i + '"][data-j="' + j + '"][data-k="' + k + '"]');
      stop(true);
      next.focus();
      show(k * H2 * W2 + i * W2 + j);
    });

    // Other hyperparameters: the answer of output_size and its message, both computed by cnnref at build time.
    var sizes = d.sizes, result = q('[data-testid="demo-size-result"]');
    function pick(name) { return +q('select[data-param="' + name + '"]').value; }
    function size() {
      var key = pick("F") + "," + pick("S") + "," + pick("P");
      var ans = sizes.table[key], ok = typeof ans === "number";
      result.classList.toggle("is-refused", !ok);
      result.dataset.accepted = ok ? "true" : "false";
      result.textContent = ok
        ? "Accepted: " + sizes.messages[key] + ", an output volume of " + ans + "×" + ans + "×" + K + "."
        : "Refused: " + sizes.messages[key] + ".";
    }
    qa("select[data-param]").forEach(function (s) { s.addEventListener("change", size); });

    size();
    show(0, false);
  }

  function initAll() {
    Array.prototype.forEach.call(document.querySelectorAll(".cnnref-demo"), init);
  }
  // Material's instant navigation swaps pages without reloading scripts: it publishes each page on document$.
  if (window.document$ && typeof window.document$.subscribe === "function") window.document$.subscribe(initAll);
  else if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", initAll);
  else initAll();
})();
