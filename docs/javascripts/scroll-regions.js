// A table too wide for the page scrolls sideways inside Material's wrapper; a keyboard must be able to
// reach it (axe: scrollable-region-focusable). The wrapper takes focus, with a name, exactly while it
// scrolls (checked again when its size changes: a phone turned sideways).
(function () {
  function watch(wrap) {
    function update() {
      if (wrap.scrollWidth > wrap.clientWidth) {
        wrap.tabIndex = 0;
        wrap.setAttribute("role", "region");
        wrap.setAttribute("aria-label", "Table, scrolls sideways");
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
    document.querySelectorAll(".md-typeset__scrollwrap").forEach(watch);
  }
  if (window.document$) window.document$.subscribe(mount);
  else document.addEventListener("DOMContentLoaded", mount);
})();
