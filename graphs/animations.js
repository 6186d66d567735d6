// The animations of the Convolution arithmetic pages (hooks/figures.py writes the markup): each loops, so
// each has a Pause button (WCAG 2.2.2). Pressed, it shows the animation's frame strip instead, as
// prefers-reduced-motion does (the <picture>'s <source> then matches always); pressed again, it plays.
document.addEventListener("click", (event) => {
  const button = event.target.closest ? event.target.closest(".cnnref-animation-toggle") : null;
  let box = button ? button.previousElementSibling : null;  // the figure's box, before its "Open full size" link
  while (box && !box.matches(".cnnref-figure")) box = box.previousElementSibling;
  const source = box ? box.querySelector("picture.cnnref-animation > source") : null;
  if (!source) return;
  const paused = button.getAttribute("aria-pressed") !== "true";
  button.setAttribute("aria-pressed", String(paused));
  source.media = paused ? "all" : source.dataset.media;
});
