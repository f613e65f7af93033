"""Every import points down the floors: ``navigator`` (wiring, command line) → ``web`` → ``actions`` →
``support_requests`` and ``index`` (the ground floor, where ``index`` imports nothing of ours but itself).

The imports are read from the source with :mod:`ast`, so an import inside a function or under
``TYPE_CHECKING`` counts as much as one at the top.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

FLOORS = {"navigator": 3, "web": 2, "actions": 1, "support_requests": 0, "index": 0}
"""A package may import packages on its own floor or below; ``index`` and ``support_requests`` share the
ground floor, but only ``support_requests`` may use ``index`` (see ALSO_FORBIDDEN)."""

ALSO_FORBIDDEN = {("index", "support_requests")}
"""(importer, imported) pairs refused although on the same floor: the engine knows nothing of requests."""


def imported_packages(path: Path) -> set[tuple[str, int]]:
    """The first-party top-level packages ``path`` imports, with the line of each import."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: set[tuple[str, int]] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        else:
            continue
        for name in names:
            top = name.split(".")[0]
            if top in FLOORS:
                found.add((top, node.lineno))
    return found


def violations(root: Path) -> list[str]:
    """Every import that climbs a floor or crosses a forbidden pair, as ``file:line: a imports b``."""
    problems = []
    for package, floor in FLOORS.items():
        for path in sorted((root / package).rglob("*.py")):
            for imported, line in sorted(imported_packages(path)):
                if FLOORS[imported] > floor or (package, imported) in ALSO_FORBIDDEN:
                    problems.append(f"{path.relative_to(root)}:{line}: {package} imports {imported}")
    return problems


def test_no_import_climbs_a_floor() -> None:
    assert violations(ROOT) == []


def test_bot_channels_import_nothing_of_ours() -> None:
    """The Rasa project's own channels run in Rasa's environment, where our packages are not installed."""
    problems = [f"{path.name}: {imported}" for path in sorted((ROOT / "bot").glob("*.py"))
                for imported, _ in imported_packages(path)]
    assert problems == []


@pytest.mark.parametrize(("importer", "source", "expected"), [
    ("index", "from support_requests.store import RequestStore\n", "index imports support_requests"),
    ("actions", "def f():\n    from web.services import SERVICES_KEY\n", "actions imports web"),
    ("support_requests", "import navigator.settings\n", "support_requests imports navigator"),
    ("web", "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from navigator.settings import Settings\n",
     "web imports navigator"),
])
def test_the_walk_finds_an_import_that_climbs(tmp_path: Path, importer: str, source: str, expected: str) -> None:
    for package in FLOORS:
        (tmp_path / package).mkdir()
    (tmp_path / importer / "module.py").write_text(source, encoding="utf-8")
    assert [problem.split(": ", 1)[1] for problem in violations(tmp_path)] == [expected]


def test_imports_on_the_same_floor_or_below_pass(tmp_path: Path) -> None:
    for package in FLOORS:
        (tmp_path / package).mkdir()
    (tmp_path / "web" / "ok.py").write_text("from actions import slots\nfrom index.engine import Hit\n")
    (tmp_path / "support_requests" / "ok.py").write_text("from index.text import shorten\n")
    assert violations(tmp_path) == []
