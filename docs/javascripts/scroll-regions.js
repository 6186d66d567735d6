// A table too wide for the page scrolls sideways inside Material's wrapper, a display formula inside
// its box (hooks/katex_math.py), a figure on a phone inside its box (hooks/figures.py); a keyboard must
// be able to reach them (axe: scrollable-region-focusable). The wrapper takes focus, with a name,
// exactly while it scrolls (checked again when its size changes: a phone turned sideways), and says in
// data-more ("left", "right", "left right") on which side more is hidden: figures fade that edge (an
// opaque picture hides the edge shadows that tables, formulas and code get from docs/stylesheets/extra.css).
(function () {
  var labels = new Map();  // watched box -> its name while it scrolls
  function measure(box) {  // reads only
    var scrolls = box.scrollWidth > box.clientWidth;
    var left = box.scrollLeft > 1, right = box.scrollLeft + box.clientWidth < box.scrollWidth - 1;
    return { box: box, scrolls: scrolls, more: ((left ? "left " : "") + (right ? "right" : "")).trim() };
  }
  function apply(m) {  // writes only
    if (m.scrolls) {
      m.box.tabIndex = 0;
      m.box.setAttribute("role", "region");
      m.box.setAttribute("aria-label", labels.get(m.box));
    } else {
      m.box.removeAttribute("tabindex");
      m.box.removeAttribute("role");
      m.box.removeAttribute("aria-label");
    }
    if (m.more) m.box.setAttribute("data-more", m.more);
    else m.box.removeAttribute("data-more");
  }
  // All boxes are measured first, then all are written: one layout for the page, not one per box.
  function update(boxes) {
    boxes.map(measure).forEach(apply);
  }
  var observer = window.ResizeObserver ? new ResizeObserver(function (entries) {
    update(entries.map(function (entry) { return entry.target; }));
  }) : null;
  function watch(box, label) {
    labels.set(box, label);
    box.addEventListener("scroll", function () { apply(measure(box)); }, { passive: true });
    if (observer) observer.observe(box);  // its first callback measures every box at once
  }
  function mount() {
    document.querySelectorAll(".md-typeset__scrollwrap").forEach(function (wrap) { watch(wrap, "Table, scrolls sideways"); });
    document.querySelectorAll(".md-typeset .katex-block").forEach(function (box) { watch(box, "Formula, scrolls sideways"); });
    document.querySelectorAll(".md-typeset .cnnref-figure").forEach(function (box) {
      var img = box.querySelector("img");
      watch(box, "Figure, scrolls sideways" + (img && img.alt ? ": " + img.alt.split(/[.:]/)[0] : ""));
    });
    document.querySelectorAll(".md-typeset .cnnref-plot").forEach(function (box) { watch(box, "Figure, scrolls sideways"); });
    if (!observer) update(Array.from(labels.keys()));
  }
  if (window.document$) window.document$.subscribe(mount);
  else document.addEventListener("DOMContentLoaded", mount);
})();

// Code blocks: Material makes a block that scrolls sideways focusable when it mounts the block, and
// with the content.lazy feature (mkdocs.yml) it mounts a block only once it scrolls into view. So each
// block is measured here whenever its size changes (a ResizeObserver: when it is first laid out, when a
// box around it opens, when the screen turns), never all at once at load: on the API reference most
// blocks are in sections that the browser lays out only when they come near the screen
// (content-visibility, docs/stylesheets/extra.css), and measuring them all would lay out the whole page
// (about 2,600 elements). Until a block is measured it is focusable, so that a keyboard can reach it if
// it scrolls (axe: scrollable-region-focusable); Material's own check takes over once it mounts a block.
(function () {
  if (!window.ResizeObserver) return;
  var observer = new ResizeObserver(function (entries) {
    var blocks = entries.map(function (entry) { return entry.target; });
    var scrolls = blocks.map(function (code) { return code.scrollWidth > code.clientWidth; });  // all reads first
    blocks.forEach(function (code, i) {
      if (scrolls[i]) code.setAttribute("tabindex", "0");
      else code.removeAttribute("tabindex");
    });
  });
  function mount() {
    document.querySelectorAll(".md-typeset pre > code").forEach(function (code) {
      if (!code.hasAttribute("tabindex")) code.setAttribute("tabindex", "0");
      observer.observe(code);
    });
  }
  if (window.document$) window.document$.subscribe(mount);
  else document.addEventListener("DOMContentLoaded", mount);
})();
