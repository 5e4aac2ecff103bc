"""`bhum packs` through typer's CliRunner, on packs written to tmp_path."""

from __future__ import annotations

import shutil
from pathlib import Path

from typer.testing import CliRunner

from bhum.entrypoints.cli import app
from tests.packs.conftest import GOOD_RULE, PACKS, write_pack

runner = CliRunner()


def _run(root: Path, *args: str):  # type: ignore[no-untyped-def]
    return runner.invoke(app, ["packs", *args], env={"BHUM_PACKS_DIR": str(root), "COLUMNS": "200"})


def test_list_shows_program_version_rules_cases(pack_root: Path) -> None:
    write_pack(pack_root)
    write_pack(pack_root, version="2026.2")
    result = _run(pack_root, "list")
    assert result.exit_code == 0, result.output
    assert "demo" in result.output and "2026.1" in result.output and "2026.2" in result.output
    # one rule, two cases per version
    assert result.output.count("│ 1     │ 2 ") == 2


def test_show_a_rule(pack_root: Path) -> None:
    write_pack(pack_root)
    result = _run(pack_root, "show", "demo@2026.1", "--rule", "demo.daily-units")
    assert result.exit_code == 0, result.output
    assert "TCM-02" in result.output and "daily_unit_limit" in result.output and "16 units" in result.output
    missing = _run(pack_root, "show", "demo", "--rule", "demo.nothing")
    assert missing.exit_code == 1


def test_test_runs_every_case_and_prints_the_summary(pack_root: Path) -> None:
    write_pack(pack_root)
    result = _run(pack_root, "test")
    assert result.exit_code == 0, result.output
    assert "2 passed, 0 failed" in result.output


def test_test_exits_1_when_a_case_fails(pack_root: Path) -> None:
    write_pack(pack_root, GOOD_RULE.replace("expect: not_met", "expect: met"))
    result = _run(pack_root, "test", "demo")
    assert result.exit_code == 1
    assert "1 passed, 1 failed" in result.output
    assert "demo.daily-units" in result.output and "17 do not" in result.output


def test_the_real_core_packs_pass(tmp_path: Path) -> None:
    root = tmp_path / "packs"
    root.mkdir()
    shutil.copy(PACKS / "rule-catalog.yaml", root)
    for program in ("opm", "tcm", "iop", "mn", "coc", "reg"):
        shutil.copytree(PACKS / program, root / program)
    result = _run(root, "test")
    assert result.exit_code == 0, result.output
    assert " 0 failed" in result.output


def _validate_broken(pack_root: Path, rule_text: str) -> str:
    folder = write_pack(pack_root, rule_text)
    result = _run(pack_root, "validate", str(folder))
    assert result.exit_code == 1, result.output
    assert "rules.yaml" in result.output  # the file
    return " ".join(result.output.split())


def test_validate_refuses_a_bad_parameter_type(pack_root: Path) -> None:
    out = _validate_broken(pack_root, GOOD_RULE.replace("value: 16", 'value: "sixteen"'))
    assert "record demo.daily-units" in out
    assert "rules[0].parameters.daily_unit_limit.value" in out


def test_validate_refuses_a_rule_without_cases(pack_root: Path) -> None:
    text = GOOD_RULE.split("    cases:")[0] + "    cases: []\n"
    out = _validate_broken(pack_root, text)
    assert "record demo.daily-units" in out and "rules[0].cases" in out


def test_validate_refuses_an_unknown_rule_id(pack_root: Path) -> None:
    out = _validate_broken(pack_root, GOOD_RULE.replace("[TCM-02]", "[TCM-99]"))
    assert "record demo.daily-units" in out and "rules[0].implements[0]" in out and "TCM-99" in out


def test_validate_refuses_an_unresolved_parameter(pack_root: Path) -> None:
    out = _validate_broken(pack_root, GOOD_RULE.replace("{param: daily_unit_limit}", "{param: daily_cap}"))
    assert "rules[0].condition.daily_limit.param" in out and "daily_cap" in out


def test_validate_accepts_a_good_pack(pack_root: Path) -> None:
    folder = write_pack(pack_root)
    result = _run(pack_root, "validate", str(folder))
    assert result.exit_code == 0, result.output
    assert "valid demo@2026.1" in result.output


def test_list_refuses_a_broken_tree(pack_root: Path) -> None:
    write_pack(pack_root, GOOD_RULE.replace("[TCM-02]", "[XYZ-01]"))
    result = _run(pack_root, "list")
    assert result.exit_code == 1
