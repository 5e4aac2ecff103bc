"""The domain and policy layers stay pure: no wall clock, no framework, no database (ARCHITECTURE.md).

import-linter (run by `make lint`) enforces the import layers; this test catches what it cannot:
reading the clock through an allowed module (datetime.now(), date.today(), time.time())."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src" / "bhum"
PURE_PACKAGES = ("domain", "policy")
CLOCK_CALLS = {"now", "utcnow", "today", "time", "monotonic", "perf_counter"}


def _pure_modules() -> list[Path]:
    return sorted(p for pkg in PURE_PACKAGES for p in (SRC / pkg).rglob("*.py"))


@pytest.mark.parametrize("path", _pure_modules(), ids=lambda p: str(p.relative_to(SRC)))
def test_pure_layers_never_read_the_clock(path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    offenders = [
        f"line {node.lineno}: .{node.func.attr}()"
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr in CLOCK_CALLS
        and isinstance(node.func.value, ast.Name)
        and node.func.value.id in {"datetime", "date", "time"}
    ]
    assert offenders == [], f"{path.name} reads the wall clock: {offenders}; pass time in as an argument"


def test_the_check_finds_a_clock_read(tmp_path: Path) -> None:
    """Guard against a test that cannot fail: the same walk flags a planted datetime.now()."""
    planted = "from datetime import datetime\nx = datetime.now()\n"
    tree = ast.parse(planted)
    calls = [
        n
        for n in ast.walk(tree)
        if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.func.attr in CLOCK_CALLS
    ]
    assert len(calls) == 1
