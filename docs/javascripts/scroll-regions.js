// A table too wide for the page scrolls sideways inside Material's wrapper, a display formula inside
// its box (hooks/katex_math.py), a figure on a phone inside its box (hooks/figures.py); a keyboard must
// be able to reach them (axe: scrollable-region-focusable). The wrapper takes focus, with a name,
// exactly while it scrolls (checked again when its size changes: a phone turned sideways), and says in
// data-more ("left", "right", "left right") on which side more is hidden: figures fade that edge (an
// opaque picture hides the edge shadows that tables, formulas and code get from docs/stylesheets/extra.css).
(function () {
  function watch(wrap, label) {
    function more() {
      var left = wrap.scrollLeft > 1, right = wrap.scrollLeft + wrap.clientWidth < wrap.scrollWidth - 1;
      var value = (left ? "left " : "") + (right ? "right" : "");
      if (value.trim()) wrap.setAttribute("data-more", value.trim());
      else wrap.removeAttribute("data-more");
    }
    function update() {
      if (wrap.scrollWidth > wrap.clientWidth) {
        wrap.tabIndex = 0;
        wrap.setAttribute("role", "region");
        wrap.setAttribute("aria-label", label);
      } else {
        wrap.removeAttribute("tabindex");
        wrap.removeAttribute("role");
        wrap.removeAttribute("aria-label");
      }
      more();
    }
    update();
    wrap.addEventListener("scroll", more, { passive: true });
    if (window.ResizeObserver) new ResizeObserver(update).observe(wrap);
  }
  function mount() {
    document.querySelectorAll(".md-typeset__scrollwrap").forEach(function (wrap) { watch(wrap, "Table, scrolls sideways"); });
    document.querySelectorAll(".md-typeset .katex-block").forEach(function (box) { watch(box, "Formula, scrolls sideways"); });
    document.querySelectorAll(".md-typeset .cnnref-figure").forEach(function (box) {
      var img = box.querySelector("img");
      watch(box, "Figure, scrolls sideways" + (img && img.alt ? ": " + img.alt.split(/[.:]/)[0] : ""));
    });
    document.querySelectorAll(".md-typeset .cnnref-plot").forEach(function (box) { watch(box, "Figure, scrolls sideways"); });
  }
  if (window.document$) window.document$.subscribe(mount);
  else document.addEventListener("DOMContentLoaded", mount);
})();

// Code blocks: Material makes a block that scrolls sideways focusable when it mounts the block, and
// with the content.lazy feature (mkdocs.yml) it mounts a block only once it scrolls into view. So
// every block is checked here at load and on resize (Material's own check
// takes over, and removes the attribute if the block no longer scrolls, once it mounts the block): all widths read first, then the attributes set
// (one layout for the page, not one per block).
(function () {
  function update() {
    var blocks = Array.prototype.slice.call(document.querySelectorAll(".md-typeset pre > code"));
    var scrolls = blocks.map(function (code) { return code.scrollWidth > code.clientWidth; });
    blocks.forEach(function (code, i) {
      if (scrolls[i]) code.setAttribute("tabindex", "0");
    });
  }
  var pending = false;
  function schedule() {
    if (pending) return;
    pending = true;
    window.requestAnimationFrame(function () { pending = false; update(); });
  }
  if (window.document$) window.document$.subscribe(schedule);
  else document.addEventListener("DOMContentLoaded", schedule);
  window.addEventListener("resize", schedule);
})();
