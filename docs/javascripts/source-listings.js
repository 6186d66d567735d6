// API reference: each "Source code in cnnref/..." box keeps its listing in a <template> until it is
// opened (hooks/html_fixes.py). The listings are two thirds of the page's elements (about 16,000 of
// 23,000): left out of the document, they cost no style, layout or script time when the page loads.
// Opening a box puts its listing in place; a listing that scrolls sideways is made focusable, as
// scroll-regions.js does for the code blocks present at load (axe: scrollable-region-focusable).
(function () {
  function fill(details) {
    var template = details.querySelector(":scope > template.cnnref-source");
    if (!template) return;
    template.replaceWith(template.content);
    var blocks = Array.prototype.slice.call(details.querySelectorAll("pre > code"));
    var scrolls = blocks.map(function (code) { return code.scrollWidth > code.clientWidth; });
    blocks.forEach(function (code, i) {
      if (scrolls[i]) code.setAttribute("tabindex", "0");
    });
  }
  // "toggle" does not bubble: listen in the capture phase. It fires after the box has opened.
  document.addEventListener("toggle", function (event) {
    var box = event.target;
    if (box.tagName === "DETAILS" && box.open && box.classList.contains("mkdocstrings-source")) fill(box);
  }, true);
  document.querySelectorAll("details.mkdocstrings-source[open]").forEach(fill);
})();
