"""The content spec: every admonition and worked number of the author's notes is in the CNN notes.

The notes are a few pages under docs/dl/cnn/, one per section of the notes (the page's title is the
section); they are read in the order mkdocs.yml's nav lists them, as one text.

NOTES lists the notes' admonitions in their order (kind, title), titles with the notes' typos fixed
("Impact Sum" -> "Impulse Sums"; the dice example's "Not a Good Example" -> "a Toy Example").
"""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# The nav's entries under "CNN notes", in order: `- dl/cnn/index.md` or `- Title: dl/cnn/<page>.md`.
NAV_ENTRY = re.compile(r"^\s+- (?:[^:\n]+: )?(dl/cnn/[\w-]+\.md)\s*$", re.MULTILINE)
PAGES = [ROOT / "docs" / path for path in NAV_ENTRY.findall((ROOT / "mkdocs.yml").read_text())]

NOTES = [
    ("Convolutions", "df", "Definition", "Convolutions"),
    ("Convolutions", "eg", "Example", "Dice: a Toy Example"),
    ("Convolutions", "im", "Important Note", "Convolutions are Impulse Sums"),
    ("Architecture Overview", "im", "Important Note", "Layers in ConvNets"),
    ("Architecture Overview", "eg", "Example", "ConvNet Architecture for CIFAR-10 Classification"),
    ("Convolutional Layer", "df", "Definition", "Filter - Receptive Fields"),
    ("Convolutional Layer", "im", "Important Note", "Intuition about Filters"),
    ("Convolutional Layer", "df", "Definition", "Stride"),
    ("Convolutional Layer", "im", "Important Note", "Why Stride 1"),
    ("Convolutional Layer", "df", "Definition", "Zero-Padding"),
    ("Convolutional Layer", "im", "Important Note", "Why Padding?"),
    ("Convolutional Layer", "df", "Definition", "Computing the Output Volume"),
    ("Convolutional Layer", "im", "Important Note", "Convolution Demo"),
    ("Convolutional Layer", "im", "Important Note", "Implementation as Matrix Multiplication"),
    ("Convolutional Layer", "nt", "Note", "1x1 Convolution"),
    ("Pooling Layer", "df", "Definition", "Pooling Layer"),
    ("Fully Connected (FC) Layer", "im", "Important Note", "Converting FC Layers to CONV Layers"),
    ("Fully Connected (FC) Layer", "eg", "Example", "FC-CONV Conversion in AlexNet"),
]

# Worked numbers of the notes, as the page must show them (prose or checked snippet output).
NUMBERS = [
    "f(1)g(3) + f(2)g(2) + f(3)g(1)", "3/36",  # dice
    "32x32x3", "32x32x12", "16x16x12", "1x1x10",  # CIFAR-10 volumes
    "(5 - 3 + 2)/2 + 1 = 3", "F = 3", "S = 1", "P = 1",  # the demo and the common setting
    "34848, 96, 34944)",  # AlexNet conv1 parameters, printed by conv_params
    "363", "3025", "96 x 363", "96 x 3025", "55x55x96",  # im2col
    "75%",  # pooling discards
    "7x7x512", "1x1x4096", "1x1x1000", "224/2/2/2/2/2 = 7",  # FC to CONV
    "384/32 = 12", "12x12x512", "(12 - 7)/1 + 1 = 6", "6x6x1000", "36",  # sliding
]

ADMONITION = re.compile(r'^(?:!!!|\?\?\?\+?) (\w+) "\*\*([^*]+)\*\* \((.+)\)"\s*$', re.MULTILINE)
HEADING = re.compile(r"^# (.+)$", re.MULTILINE)


def notes_text() -> str:
    return "\n\n".join(page.read_text() for page in PAGES)


def test_the_notes_pages_are_in_the_nav():
    names = [page.name for page in PAGES]
    assert names[0] == "index.md" and len(names) > 1, f"the CNN notes' pages in mkdocs.yml's nav: {names}"
    on_disk = sorted(p.name for p in (ROOT / "docs" / "dl" / "cnn").glob("*.md"))
    assert sorted(names) == on_disk, f"nav lists {names}, docs/dl/cnn/ has {on_disk}"


def page_items():
    text = notes_text()
    items, section = [], None
    for match in re.finditer(f"{HEADING.pattern}|{ADMONITION.pattern}", text, re.MULTILINE):
        if match.group(1):
            section = match.group(1).strip()
        else:
            items.append((section, match.group(2), match.group(3), match.group(4)))
    return text, items


def test_every_admonition_of_the_notes_is_on_the_page_in_the_notes_order():
    _, items = page_items()
    found = [item for item in items if item in NOTES]
    missing = [item for item in NOTES if item not in items]
    assert not missing, f"admonitions of the notes missing from the notes (section, kind, label, title): {missing}"
    assert found == NOTES, "the notes' admonitions appear out of order"


def test_admonition_kinds_carry_their_labels():
    _, items = page_items()
    labels = {"df": "Definition", "eg": "Example", "im": "Important Note", "nt": "Note"}
    assert items, "no admonitions found"
    for section, kind, label, title in items:
        assert labels.get(kind) == label, f"{kind} admonition '{title}' is labelled '{label}'"


def test_the_notes_worked_numbers_are_on_the_page():
    text = re.sub(r"\s+", " ", notes_text())
    missing = [number for number in NUMBERS if number not in text]
    assert not missing, f"worked numbers of the notes not on the page: {missing}"


def test_the_notes_empty_note_is_filled_in():
    text = notes_text()
    start = text.index("(Convolutions are Impulse Sums)")
    body = text[start : re.compile(r"^#{1,2} ", re.MULTILINE).search(text, start).start()]
    assert len(re.findall(r"\w+", body)) > 150 and "superposition" in body
