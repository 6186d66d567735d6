"""MkDocs hook (`hooks: [hooks/api.py]`): the API reference lists every module of cnnref.MODULES.

docs/api.md holds the marker `<!-- cnnref:api-modules -->`; it becomes one mkdocstrings block
`::: cnnref.<module>` per module of cnnref.MODULES, in the package's own order, so a new module
appears on the API page without editing it. cnnref.checks (validation, used by every function but
called by none of a reader's programs) is left out.
"""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # hooks/ is a folder of the repository, not an installed package
    sys.path.append(str(ROOT))

import cnnref  # noqa: E402

from hooks.markers import expand  # noqa: E402

LEFT_OUT = {"checks"}


def modules():
    """The modules the API page documents, top to bottom."""
    return [name for name in cnnref.MODULES if name not in LEFT_OUT]


def on_page_markdown(markdown, page, config, files):
    return expand(markdown, page.file.src_uri, "api", lambda name: "\n\n".join(f"::: cnnref.{m}" for m in modules()))
