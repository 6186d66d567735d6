"""The Architectures pages (docs/architectures/): their generated tables (hooks/architectures.py) and its claims."""

import re
import sys
from pathlib import Path

import pytest
from properdocs.exceptions import PluginError

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from hooks import architectures as hook  # noqa: E402
from hooks import markers  # noqa: E402

PAGES = {p.name: p.read_text() for p in sorted((ROOT / "docs" / "architectures").glob("*.md"))}
PAGE = PAGES["index.md"]


def cells(table):
    return [[c.strip() for c in line.strip("|").split("|")] for line in table.splitlines() if line.startswith("|")][2:]


def test_every_published_number_agrees_at_its_precision():
    rows = cells(hook.published())
    assert len(rows) == sum(len(q) for q in hook.PUBLISHED.values()) == 12
    assert all(row[4] == "yes" and row[2] == row[3] for row in rows), rows


def test_the_agreement_column_can_say_no(monkeypatch):
    monkeypatch.setitem(hook.PUBLISHED, "AlexNet", {"parameters": ("61,100,841", 1, "a typo")})
    assert "**no**" in hook.published()


def test_cs231n_walkthrough_weights_are_exact_and_memory_rounded():
    """The page says: the notes round each volume's memory, and their weights are exact (without biases)."""
    rows = cells(hook.vgg_cs231n())
    body, total = rows[:-1], rows[-1]
    scale = {"K": 1e3, "M": 1e6}
    for name, _, memory, typed_memory, weights, typed_weights, _ in body:
        assert weights == typed_weights, name
        computed = int(memory.replace(",", ""))
        typed = float(typed_memory[:-1]) * scale[typed_memory[-1]] if typed_memory[-1] in scale else float(typed_memory)
        assert abs(computed - typed) / computed < 0.05, (name, memory, typed_memory)
    assert total[2] == "**15,237,608**" and total[3] == "24M"  # the typed total is no rounding of the rows' sum


def test_a_wrong_layer_name_stops_the_build(monkeypatch):
    monkeypatch.setattr(hook, "CS231N_VGG", [("CONV3-32", "150K", "0")] + hook.CS231N_VGG[1:])
    with pytest.raises(PluginError, match="INPUT in the notes' terms, but the walk-through has CONV3-32"):
        hook.vgg_cs231n()


def test_the_pages_use_every_marker_of_the_hook_once_and_they_all_expand():
    used = [m for text in PAGES.values() for m in re.findall(r"<!-- cnnref:(arch-[^\s>]*) -->", text)]
    assert sorted(used) == markers.known("architectures")
    for slug in hook.SLUGS:  # each net's page shows its own table
        assert f"<!-- cnnref:arch-table-{slug} -->" in PAGES[f"{slug}.md"]
    out = "".join(markers.expand(text, name, "architectures", hook.render) for name, text in PAGES.items())
    assert "cnnref:arch-" not in out
    assert out.count('<div class="cnnref-summary" markdown>') == 6
    with pytest.raises(PluginError, match=r"index.md: <!-- cnnref:arch-tabel-vgg16 -->: unknown marker"):
        markers.expand("<!-- cnnref:arch-tabel-vgg16 -->", "index.md", "architectures", hook.render)


def test_the_pages_comparisons_hold():
    """The prose after the comparison: VGG-16 costs most; ResNet-18 vs AlexNet; MobileNet v1 vs AlexNet."""
    s = hook.summaries()
    for quantity in ("params", "macs", "bytes"):
        assert max(s, key=lambda name: getattr(s[name], quantity)) == "VGG-16"
    assert s["ResNet-18"].params < s["AlexNet"].params and s["ResNet-18"].macs > s["AlexNet"].macs
    assert s["MobileNet v1"].macs < s["AlexNet"].macs and s["MobileNet v1"].activations > s["AlexNet"].activations
    for phrase in ("VGG-16 costs the most parameters, multiply-adds and memory", "ResNet-18 has fewer parameters than",
                   "MobileNet v1 needs fewer multiply-adds than AlexNet yet stores more activations"):
        assert phrase in " ".join(PAGE.split()), phrase
