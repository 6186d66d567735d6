// A link to a box inside a closed collapsible box (<details>, the notes' ??? admonitions) opens it:
// on load, on every change of the address's #fragment, and on a click on a link to the current one.
(function () {
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
  }
  window.addEventListener("hashchange", openTarget);
  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest("a[href*='#']");
    if (link && link.hash === location.hash && link.pathname === location.pathname) setTimeout(openTarget, 0);
  });
  openTarget();
})();
