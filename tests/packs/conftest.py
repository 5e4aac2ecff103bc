"""Helpers for pack tests: where the packs live, and a small valid pack to break on purpose."""

from __future__ import annotations

import shutil
import textwrap
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PACKS = REPO / "packs"
CORE_PROGRAMS = ("opm", "tcm", "iop", "mn", "coc", "reg")

GOOD_RULE = """\
rules:
  - id: demo.daily-units
    implements: [TCM-02]
    title: Daily unit limit
    explanation: At most {daily_unit_limit} units a day; {units_fit} fit.
    parameters:
      daily_unit_limit:
        type: integer
        value: 16
        unit: units
        description: Units per day.
    condition: {type: unit_cap, requested: units_requested, daily_limit: {param: daily_unit_limit}}
    cases:
      - {name: "16 fit", given: {units_requested: 16, units_used_today: 0}, expect: met}
      - {name: "17 do not", given: {units_requested: 17, units_used_today: 0}, expect: not_met}
"""


def write_pack(
    root: Path, rule_text: str = GOOD_RULE, *, program: str = "demo", version: str = "2026.1"
) -> Path:
    """A pack folder under ``root`` (with the real rule catalog beside it); returns the folder."""
    root.mkdir(parents=True, exist_ok=True)
    if not (root / "rule-catalog.yaml").exists():
        shutil.copy(PACKS / "rule-catalog.yaml", root / "rule-catalog.yaml")
    folder = root / program / version
    (folder / "rules").mkdir(parents=True, exist_ok=True)
    (folder / "pack.yaml").write_text(
        textwrap.dedent(
            f"""\
            id: {program}
            program: {program}
            version: "{version}"
            title: Demo pack
            effective_from: 2026-01-01
            source: test
            description: A pack written by a test.
            """
        )
    )
    (folder / "rules" / "rules.yaml").write_text(rule_text)
    return folder


@pytest.fixture
def pack_root(tmp_path: Path) -> Path:
    return tmp_path / "packs"
