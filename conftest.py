"""Sybil runs every Python fence of every page and every docstring example of cnnref (STYLE.md's pattern)."""

from doctest import ELLIPSIS, NORMALIZE_WHITESPACE

from sybil import Sybil
from sybil.parsers.markdown import PythonCodeBlockParser, SkipParser
from sybil.parsers.rest import DocTestParser

FLAGS = ELLIPSIS | NORMALIZE_WHITESPACE

pages = Sybil(
    parsers=[PythonCodeBlockParser(doctest_optionflags=FLAGS), SkipParser()],
    patterns=["*.md"],
)
docstrings = Sybil(parsers=[DocTestParser(optionflags=FLAGS)], patterns=["cnnref/*.py"])

pytest_collect_file = (pages + docstrings).pytest()
