// Typeset TeX with KaTeX for the MkDocs hook hooks/katex_math.py.
//
// One process serves a whole build. Each stdin line is a JSON array of formulas,
// [{"tex": "...", "display": true}, ...]; the answer is one stdout line, a JSON array in the same
// order of {"html": "..."} or {"error": "..."}. A formula KaTeX cannot parse is an error (the hook
// fails the build with it), never red text on the page.
//
// The output is KaTeX's HTML, which the eye reads (laid out by KaTeX's stylesheet and fonts, which the
// hook ships with the site), plus MathML, which screen readers read (visually hidden). MathML alone is
// not enough: Chromium's MathML Core has no columnalign (an align* environment's "=" signs do not line
// up) and, without a math font on the machine (Linux, Android), shows \mathbb{R} as a plain R and sets
// sums and integrals at text size.
"use strict";

const readline = require("node:readline");
const katex = require("katex");

const OPTIONS = {
  throwOnError: true,
  strict: "error", // non-standard LaTeX fails too, instead of a console warning
  output: "htmlAndMathml", // HTML for the eye, MathML for screen readers
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
