"""Docs that cannot rot: every ``xlr.<dotted.name>`` the docs mention exists, every module says what it
holds, and the examples in docstrings run."""

from __future__ import annotations

import ast
import doctest
import importlib
import pkgutil
import re
from pathlib import Path

import pytest

import xlr

ROOT = Path(__file__).resolve().parents[1]
# ``xlr.a.b`` as prose or reST names it; not inside a string literal (``"xlr.url"`` is a session key),
# a path (``docs/xlr.md``) or a longer word.
DOTTED = re.compile(r"(?<![\w./\"'-])xlr(?:\.[A-Za-z_]\w*)+")
HISTORY = re.compile(r"\b(split from|moved (from|to|out of)|formerly|renamed from|used to live)\b", re.I)
MODULES = sorted(m.name for m in pkgutil.walk_packages(xlr.__path__, "xlr.") if not m.name.endswith("__main__"))


def _docstrings(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    nodes = [
        n for n in ast.walk(tree) if isinstance(n, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
    ]
    return [d for n in nodes if (d := ast.get_docstring(n, clean=False))]


def _resolves(name: str) -> bool:
    parts = name.split(".")
    for i in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:i]))
        except ModuleNotFoundError:
            continue
        for attr in parts[i:]:
            if not hasattr(obj, attr):
                return False
            obj = getattr(obj, attr)
        return True
    return False


def _mentions() -> dict[str, set[str]]:
    texts = [(p, "\n".join(_docstrings(p))) for p in sorted((ROOT / "xlr").rglob("*.py"))]
    texts += [(p, p.read_text(encoding="utf-8")) for p in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]]
    found: dict[str, set[str]] = {}
    for path, text in texts:
        for m in DOTTED.finditer(text):
            found.setdefault(m.group(0), set()).add(str(path.relative_to(ROOT)))
    return found


def test_every_dotted_name_in_docstrings_and_docs_exists():
    found = _mentions()
    assert len(found) > 50  # the scan sees the docs
    dead = {name: sorted(where) for name, where in found.items() if not _resolves(name)}
    assert not dead, dead


def test_the_scan_catches_a_dead_name():
    assert not _resolves("xlr.scoring.Scorer") and _resolves("xlr.retrieval.scoring.Scorer")
    assert DOTTED.findall('see :mod:`xlr.pipeline` and ~xlr.ui.context; "xlr.url" is a key') == [
        "xlr.pipeline",
        "xlr.ui.context",
    ]


@pytest.mark.parametrize("name", ["xlr", *MODULES])
def test_every_module_says_what_it_holds(name):
    module = importlib.import_module(name)
    doc = (module.__doc__ or "").strip()
    first = doc.splitlines()[0] if doc else ""
    assert len(first.split()) >= 4, f"{name}: {first!r} does not say what the module holds"
    assert not HISTORY.search(doc), f"{name}: the docstring tells history, not contents"


@pytest.mark.parametrize("name", ["xlr", *MODULES])
def test_docstring_examples_run(name):
    module = importlib.import_module(name)
    finder = doctest.DocTestFinder(exclude_empty=True)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    for test in finder.find(module, name):
        runner.run(test)
    result = runner.summarize(verbose=False)
    assert result.failed == 0, f"{name}: {result.failed} of {result.attempted} doctest examples failed"
