"""Sybil runs every Python fence of every page and every docstring example of cnnref (STYLE.md's pattern)."""

import os
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

if os.environ.get("CNNREF_WHOLE_PAGES"):  # `make mutation`: a page is one test, its examples run in order
    import pytest

    class WholePage(pytest.Item):
        def runtest(self):
            for example in pages.parse(self.path).examples():  # one namespace, top to bottom
                example.evaluate()

        def reportinfo(self):
            return self.path, 0, f"{self.path.name} (whole page)"

    class PageFile(pytest.File):
        def collect(self):
            yield WholePage.from_parent(self, name="page")

    def pytest_collect_file(file_path, parent, _each=pytest_collect_file):
        if pages.should_parse(file_path):
            return PageFile.from_parent(parent, path=file_path)
        return _each(file_path, parent)
