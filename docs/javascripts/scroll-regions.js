// A table too wide for the page scrolls sideways inside Material's wrapper, and a display formula
// inside its box (hooks/katex_math.py); a keyboard must be able to reach them (axe:
// scrollable-region-focusable). The wrapper takes focus, with a name, exactly while it scrolls
// (checked again when its size changes: a phone turned sideways). The edge shadows that show there
// is more are CSS (docs/stylesheets/extra.css).
(function () {
  function watch(wrap, label) {
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
    }
    update();
    if (window.ResizeObserver) new ResizeObserver(update).observe(wrap);
  }
  function mount() {
    document.querySelectorAll(".md-typeset__scrollwrap").forEach(function (wrap) { watch(wrap, "Table, scrolls sideways"); });
    document.querySelectorAll(".md-typeset .katex-block").forEach(function (box) { watch(box, "Formula, scrolls sideways"); });
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
