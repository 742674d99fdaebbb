"""Every example in a docstring of ``device/`` and ``training/`` runs, from the repository root, as written.

An example that cannot run here (it needs MPD, a corpus, a Pi) is written as a literal block (``::``),
not as a ``>>>`` example marked ``+SKIP``: a skipped example is never checked, so it rots.
"""

import doctest
import importlib

import pytest

from tests.paths import REPO

MODULES = sorted(".".join(path.relative_to(REPO).with_suffix("").parts)
                 for package in ("device", "training") for path in (REPO / package).rglob("*.py")
                 if ">>> " in path.read_text())


def test_the_examples_are_found():
    assert {"device.audio", "device.machine", "device.panel", "device.recognizer"} <= set(MODULES)


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_run(name, monkeypatch):
    monkeypatch.chdir(REPO)  # the examples name files as `make demo` does: samples/..., config/...
    module = importlib.import_module(name)
    examples = [(test.name, example) for test in doctest.DocTestFinder().find(module) for example in test.examples]
    skipped = [f"{where}: {example.source.strip()}" for where, example in examples if example.options.get(doctest.SKIP)]
    assert not skipped, "make these examples run, or write them as a literal block (::):\n" + "\n".join(skipped)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.attempted and not result.failed, f"{result.failed} of {result.attempted} examples in {name} failed"
