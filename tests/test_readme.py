"""The README's table of contents lists every section, and every link inside it lands on a heading."""

import re

from tests.paths import REPO

README = (REPO / "README.md").read_text()
FENCES = re.compile(r"^```.*?^```", re.M | re.S)


def anchor(heading: str) -> str:
    """GitHub's anchor of a heading: lower case, punctuation dropped, spaces to hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def headings(levels: str = "#{2,4}") -> list[tuple[str, str]]:
    text = FENCES.sub("", README)
    return [(m[1], m[2]) for m in re.finditer(rf"^({levels}) (.+)$", text, re.M)]


def test_every_link_to_a_section_lands_on_a_heading():
    anchors = {anchor(title) for _, title in headings()}
    links = set(re.findall(r"\]\(#([^)]+)\)", README))
    assert links and not links - anchors, sorted(links - anchors)


def test_the_contents_list_every_section_and_subsection_in_order():
    contents = README.split("## Contents", 1)[1].split("\n## ", 1)[0]
    listed = re.findall(r"\]\(#([^)]+)\)", contents)
    expected = [anchor(title) for level, title in headings("#{2,3}") if title != "Contents"]
    assert listed == expected


def test_the_parts_name_every_module_of_device_and_training_and_no_other():
    parts = README.split("## The parts\n", 1)[1].split("\n## ", 1)[0]
    listed = set(re.findall(r"`([\w/]+\.py)`", FENCES.sub("", parts)))
    modules = {path.name for package in ("device", "training") for path in (REPO / package).glob("*.py")
               if path.name != "__init__.py"}
    assert modules <= listed, sorted(modules - listed)
    assert not {name for name in listed if "/" not in name} - modules - {"demo.py", "servers.py"}


def test_the_results_table_says_what_the_checked_in_validation_report_says():
    import json

    from bench.validation import REPORT, rows

    expected = rows(json.loads(REPORT.read_text()))
    assert len(expected) >= 10
    missing = [row for row in expected if row not in README.splitlines()]
    assert not missing, "run .venv/bin/python bench/validation.py: " + "; ".join(missing)
