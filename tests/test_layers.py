"""The package's shape: one folder per step, and no module importing from a later step of its flow.

A newcomer reads the folders in this order. Checking: catalog (registry entry) -> artifacts (source and
verified cache file) -> model (runtime) -> reid (features, metrics) -> verification (report). Writing back:
render (card data -> README) -> importer -> review (a published card read as written) -> maintain (a maintainer's
own zoo: init, add, golden) -> release (publish). Below both: core, then the shared layers cards and markdown. A new
folder is added here, at its step, or this test fails naming it.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ZOO = Path(__file__).resolve().parent.parent / "zoo"
STEPS = ["core", "catalog", "cards", "markdown", "artifacts", "model", "reid", "verification", "render", "importer",
         "review", "maintain", "release"]
TOP = {"__init__", "__main__", "api", "demo", "cli"}  # above every step: they may import any of them


def _step(module: str) -> str:
    """``zoo.model.runtime`` -> ``model``; ``zoo.api`` -> ``api``."""
    return module.split(".")[1]


def _imports(path: Path) -> list[tuple[int, str]]:
    """Every ``zoo.*`` module a file imports, wherever the import stands (a function's lazy import counts)."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("zoo.") and node.level == 0:
            found.append((node.lineno, node.module))
        elif isinstance(node, ast.ImportFrom) and node.module == "zoo":
            found += [(node.lineno, f"zoo.{alias.name}") for alias in node.names if alias.name != "__version__"]
        elif isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names if a.name.startswith("zoo.")]
    return found


def _modules() -> list[Path]:
    return sorted(p for p in ZOO.rglob("*.py") if "_data" not in p.parts)


def test_every_folder_is_a_step_and_the_top_holds_at_most_six_modules():
    folders = {p.name for p in ZOO.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    assert folders - {"cli"} <= set(STEPS), f"add {sorted(folders - {'cli'} - set(STEPS))} to STEPS at its step"
    top_modules = [p.name for p in ZOO.glob("*.py")]
    assert len(top_modules) <= 6, top_modules


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(ZOO)))
def test_no_module_imports_from_a_later_step(path):
    here = path.relative_to(ZOO).parts[0].removesuffix(".py")
    if here in TOP:
        return
    rank = STEPS.index(here)
    later = [f"line {line}: {module}" for line, module in _imports(path)
             if _step(module) in TOP or STEPS.index(_step(module)) > rank]
    assert not later, f"zoo/{path.relative_to(ZOO)} ({here}) imports from a later step: {later}"


def test_subpackages_import_nothing_on_their_own():
    """A step's ``__init__`` is empty, so importing one module of it never drags the rest in (start-up time)."""
    for init in ZOO.glob("*/__init__.py"):
        if init.parent.name == "cli":
            continue
        body = [n for n in ast.parse(init.read_text(encoding="utf-8")).body
                if not (isinstance(n, ast.Expr) and isinstance(n.value, ast.Constant))]
        assert not body, f"{init.relative_to(ZOO)} runs code on import"
