"""The browser checks themselves: each one catches a page built to break it, and CI never skips them.

A green run of test_browser_pages.py means something only if every check can fail; this page
breaks every rule once, and each check must name the offending element.
"""

import gzip
import urllib.error
import urllib.request

import pytest
from sitecheck import (
    AXE,
    AXE_TAGS,
    COLOUR_RULES,
    DESKTOP,
    GENERIC_ALT,
    LIGHTHOUSE_RULES,
    PHONE,
    LinkChecker,
    Visitor,
    unavailable,
)
from static_server import StaticServer

BAD_PAGE = r"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>A page that breaks every rule</title></head>
<body><main>
<h1 id="top">Bad page</h1>
<h2>Images</h2>
<img src="missing.png" alt="A figure that is not there">
<img src="https://example.com/hotlinked.png">
<img src="dot.svg" alt="Image title">
<svg role="img" width="10" height="10"><rect width="10" height="10"/></svg>
<h2>Links</h2>
<p><a href="other/#there">fine</a> <a href="nowhere/">no page</a> <a href="other/#nope">no anchor</a>
<a href="#gone">no anchor here</a> <a href="https://example.com/">elsewhere is allowed</a></p>
<h2>Math</h2>
<p>Raw $$ x^2 $$ and \( y \) left in the text, but <code>$$ in code $$</code> is fine.</p>
<p><span class="arithmatex">\(z\)</span></p>
<h2>Layout</h2>
<div id="wide" style="width: 600px">a box wider than a phone</div>
<p id="faint" style="color: #eeeeee; background: #ffffff">text too faint to read</p>
<div role="dialog" id="nameless">a dialog with no name</div>
</main>
<script>setTimeout(() => fetch("https://example.com/late.json").catch(() => null), 400);</script>
<script>console.error("a console error"); throw new Error("an uncaught error");</script>
</body></html>
"""
OTHER_PAGE = '<!doctype html><html lang="en"><head><title>Other</title></head><body><h1 id="there">Other</h1></body></html>'
DOT = '<svg xmlns="http://www.w3.org/2000/svg" width="4" height="4"><rect width="4" height="4"/></svg>'


@pytest.fixture(scope="module")
def bad_site(tmp_path_factory):
    site = tmp_path_factory.mktemp("bad-site")
    (site / "index.html").write_text(BAD_PAGE)
    (site / "other").mkdir()
    (site / "other" / "index.html").write_text(OTHER_PAGE)
    (site / "dot.svg").write_text(DOT)
    (site / "404.html").write_text("<!doctype html><title>404</title><p>Not found</p>")
    with StaticServer(site, base="/project/") as server:
        yield site, server


@pytest.fixture(scope="module")
def bad(browser, bad_site):
    site, server = bad_site
    visitor = Visitor(browser, server.url, site)
    return visitor, visitor("/"), visitor("/", "light", PHONE)


def texts(items):
    return "\n".join(map(str, items))


def test_errors_and_requests_are_caught(bad):
    visitor, shown, _ = bad
    assert any("an uncaught error" in e for e in shown.page_errors), shown.page_errors
    assert any("a console error" in e for e in shown.console_errors), shown.console_errors
    # ... the late one too: a request made 400 ms after the load, when the network had been quiet a while
    assert [u for u in shown.requests if not visitor.local(u)] == ["https://example.com/hotlinked.png",
                                                                   "https://example.com/late.json"]
    assert any("404" in f and "missing.png" in f for f in shown.failed), shown.failed


def test_images_and_alt_text_are_checked(bad):
    _, shown, _ = bad
    images = {img["src"].rsplit("/", 1)[-1]: img for img in shown.shown["images"]}
    assert images["missing.png"]["naturalWidth"] == 0 and images["hotlinked.png"]["naturalWidth"] == 0
    assert images["dot.svg"]["naturalWidth"] == 4
    assert images["hotlinked.png"]["alt"] is None
    assert GENERIC_ALT.match(images["dot.svg"]["alt"]) and not GENERIC_ALT.match(images["missing.png"]["alt"])
    assert len(shown.shown["unnamed"]) == 1 and shown.shown["unnamed"][0].startswith("svg"), shown.shown["unnamed"]


def test_broken_links_and_anchors_are_named(bad, bad_site):
    visitor, shown, _ = bad
    problems = LinkChecker(bad_site[0], visitor.base_url).problems(shown)
    assert len(problems) == 3, texts(problems)
    assert "'nowhere/' -> no file" in problems[0] and 'under "Links"' in problems[0], problems[0]
    assert "no id 'nope' on /project/other/" in problems[1]
    assert "no id 'gone' on /project/" in problems[2]


def test_raw_and_untypeset_math_are_found(bad):
    _, shown, _ = bad
    math = shown.shown["math"]
    assert len(math["raw"]) == 2 and "$$ x^2" in math["raw"][0] and 'under "Math"' in math["raw"][0], math["raw"]
    assert math["arithmatex"] == 1 and len(math["untypeset"]) == 1 and math["typeset"] == 0


def test_axe_and_overflow_name_the_element(bad):
    _, shown, phone = bad
    ids = {v["id"]: v for v in shown.axe}
    assert "color-contrast" in ids and "#faint" in ids["color-contrast"]["nodes"][0]["target"], shown.axe
    assert "image-alt" in ids and "svg-img-alt" in ids, sorted(ids)
    assert "aria-dialog-name" in ids and not set(ids["aria-dialog-name"]["tags"]) & set(AXE_TAGS)
    assert shown.overflow["scrollWidth"] <= DESKTOP
    assert phone.overflow["width"] == PHONE and phone.overflow["scrollWidth"] > PHONE
    assert any(c.startswith("div#wide") for c in phone.overflow["culprits"]), phone.overflow["culprits"]
    assert phone.axe is None  # axe runs once per scheme, on the desktop visits


def test_the_dark_audit_runs_the_colour_rules(bad):
    visitor, shown, _ = bad
    dark = visitor("/", "dark")  # the same load as the light visit, audited again after the switch
    assert dark.requests is shown.requests and not dark.palette["toggle"]
    assert dark.axe_ran == set(COLOUR_RULES), sorted(dark.axe_ran)
    assert [v["id"] for v in dark.axe] == ["color-contrast"] and "#faint" in dark.axe[0]["nodes"][0]["target"], dark.axe
    assert LIGHTHOUSE_RULES <= shown.axe_ran and "image-alt" in shown.axe_ran


def test_the_server_serves_like_a_static_host(tmp_path):
    (tmp_path / "index.html").write_text("<p>" + "home " * 200 + "</p>")
    (tmp_path / "dir").mkdir()
    (tmp_path / "dir" / "index.html").write_text("<p>dir</p>")
    (tmp_path / "404.html").write_text("<p>not found page</p>")
    with StaticServer(tmp_path, gzip=True, base="/project/") as server:
        request = urllib.request.Request(server.url, headers={"Accept-Encoding": "gzip"})
        with urllib.request.urlopen(request) as response:
            assert response.headers["Content-Encoding"] == "gzip"
            assert gzip.decompress(response.read()).decode().startswith("<p>home home")
        with urllib.request.urlopen(server.url + "dir") as response:  # redirected to dir/
            assert response.url.endswith("/project/dir/") and response.read() == b"<p>dir</p>"
        for missing in (server.url + "nope.html", server.url.replace("/project/", "/index.html"),
                        server.url + "../../etc/passwd"):
            with pytest.raises(urllib.error.HTTPError) as error:
                urllib.request.urlopen(missing)
            assert error.value.code == 404 and error.value.read() == b"<p>not found page</p>", missing


def test_no_browser_fails_in_ci_and_skips_locally(monkeypatch):
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI=true"):
        unavailable("no Chromium found")
    monkeypatch.setenv("CI", "")
    with pytest.raises(pytest.skip.Exception, match="no Chromium found"):
        unavailable("no Chromium found")


def test_the_rule_lists_name_real_axe_rules(browser):
    """A misspelt rule id would make the Lighthouse-rules test pass without checking anything."""
    page = browser.new_page()
    try:
        page.set_content("<!doctype html><title>axe</title>")
        page.add_script_tag(content=AXE.read_text())
        rules = page.evaluate("() => axe.getRules().map(r => [r.ruleId, r.tags])")
    finally:
        page.close()
    ids = {rule for rule, _ in rules}
    assert LIGHTHOUSE_RULES <= ids, f"not axe-core rules: {sorted(LIGHTHOUSE_RULES - ids)}"
    tagged = {rule for rule, tags in rules if set(tags) & set(AXE_TAGS)}
    assert {"color-contrast", "image-alt", "link-in-text-block", "frame-title"} <= tagged
