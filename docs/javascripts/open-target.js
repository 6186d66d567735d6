// A link to a box inside a closed collapsible box (<details>, the notes' ??? admonitions) opens it:
// on load, on every change of the address's #fragment, and on a click on a link to the current one.
// And the target stays where the jump put it: the API reference lays its entries out only near the screen
// (content-visibility, docs/stylesheets/extra.css), so after the jump the entries around the target take
// their real height and can move it (by 200-300 px on a phone). For a second after a jump, each frame
// puts the target back while it moves, until the reader scrolls.
(function () {
  function follow(target) {
    var until = performance.now() + 1000, top = target.getBoundingClientRect().top, reader = false;
    var events = ["wheel", "touchstart", "keydown", "mousedown"];
    function stop() { reader = true; }
    events.forEach(function (name) { window.addEventListener(name, stop, { passive: true }); });
    (function frame() {
      if (reader || performance.now() > until) {  // done: no listener outlives its jump
        events.forEach(function (name) { window.removeEventListener(name, stop); });
        return;
      }
      var now = target.getBoundingClientRect().top;
      if (Math.abs(now - top) >= 1) target.scrollIntoView();  // Material's scroll-margin keeps it below the header
      top = target.getBoundingClientRect().top;
      window.requestAnimationFrame(frame);
    })();
  }
  function openTarget() {
    var id = decodeURIComponent(location.hash.slice(1));
    var target = id && document.getElementById(id);
    if (!target) return;
    var opened = false;
    for (var el = target; el; el = el.parentElement) {
      if (el.tagName === "DETAILS" && !el.open) {
        el.open = true;
        opened = true;
      }
    }
    if (opened) target.scrollIntoView();
    follow(target);
  }
  window.addEventListener("hashchange", openTarget);
  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest("a[href*='#']");
    if (link && link.hash === location.hash && link.pathname === location.pathname) setTimeout(openTarget, 0);
  });
  openTarget();
})();
