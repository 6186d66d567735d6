// Typeset TeX with KaTeX for the MkDocs hook hooks/katex_math.py.
//
// One process serves a whole build. Each stdin line is a JSON array of formulas,
// [{"tex": "...", "display": true}, ...]; the answer is one stdout line, a JSON array in the same
// order of {"html": "..."} or {"error": "..."}. A formula KaTeX cannot parse is an error (the hook
// fails the build with it), never red text on the page.
//
// The output is MathML only: Chromium, Firefox and Safari lay out MathML Core natively and screen
// readers read it, so no stylesheet or web font is needed, and a page has a third of the elements of
// KaTeX's HTML-plus-MathML output (start-up time: benchmarks/lighthouse-notes.md).
"use strict";

const readline = require("node:readline");
const katex = require("katex");

const OPTIONS = {
  throwOnError: true,
  strict: "error", // non-standard LaTeX fails too, instead of a console warning
  output: "mathml", // one <math> per formula: the browser lays it out, screen readers read it
  trust: false,
};

function render({ tex, display }) {
  try {
    return { html: katex.renderToString(tex, { ...OPTIONS, displayMode: Boolean(display) }) };
  } catch (err) {
    return { error: String((err && err.message) || err) };
  }
}

const lines = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
lines.on("line", (line) => {
  if (!line.trim()) return;
  process.stdout.write(JSON.stringify(JSON.parse(line).map(render)) + "\n");
});
