"""Loader and registry: schema + semantic validation errors name file, rule and field; versions."""

from __future__ import annotations

from pathlib import Path

import pytest

from bhum.domain.clocks import ClockUnit
from bhum.policy import PackError, clock_rule, load_pack, load_packs
from tests.packs.conftest import GOOD_RULE, PACKS, write_pack


def refused(folder: Path) -> PackError:
    with pytest.raises(PackError) as err:
        load_pack(folder)
    return err.value


def test_good_pack_loads(pack_root: Path) -> None:
    pack = load_pack(write_pack(pack_root))
    assert (pack.id, pack.version, len(pack.rules), pack.case_count) == ("demo", "2026.1", 1, 2)
    assert pack.rules[0].parameters["daily_unit_limit"].value == 16


@pytest.mark.parametrize(
    ("old", "new", "field", "words"),
    [
        ("value: 16", "value: 16.5", "rules[0].parameters.daily_unit_limit.value", "integer"),
        ("type: integer", "type: float", "rules[0].parameters.daily_unit_limit.type", "float"),
        ("[TCM-02]", "[TCM-13]", "rules[0].implements[0]", "catalog"),
        ("[TCM-02]", "[tcm-2]", "rules[0].implements[0]", "does not match"),
        ("At most {daily_unit_limit}", "At most {daily_cap}", "rules[0].explanation", "daily_cap"),
        ("expect: met", "expect: maybe", "rules[0].cases[0].expect", "maybe"),
        ("    title: Daily unit limit\n", "", "rules[0].title", "required"),
        ("type: unit_cap", "type: python", "rules[0].condition.type", "python"),
    ],
)
def test_invalid_rules_are_refused_naming_file_rule_and_field(
    pack_root: Path, old: str, new: str, field: str, words: str
) -> None:
    assert old in GOOD_RULE
    error = refused(write_pack(pack_root, GOOD_RULE.replace(old, new, 1)))
    assert error.source is not None and error.source.endswith("rules.yaml")
    assert error.record == "demo.daily-units"
    assert error.field == field
    assert words in str(error)


def test_carc_62_is_refused(pack_root: Path) -> None:
    text = GOOD_RULE.replace(
        "    cases:", '    codes_when_not_met:\n      - {system: carc, code: "62"}\n    cases:'
    )
    error = refused(write_pack(pack_root, text))
    assert error.field == "rules[0].codes_when_not_met[0]"


def test_unknown_code_system_and_stray_code_keys_are_refused(pack_root: Path) -> None:
    text = GOOD_RULE.replace(
        "    cases:", "    codes_when_not_met:\n      - {system: nope, code: X}\n    cases:"
    )
    assert refused(write_pack(pack_root, text)).field == "rules[0].codes_when_not_met[0].system"
    set_param = (
        "      codes:\n        type: code_set\n        description: d\n"
        "        value: [{system: hcpcs, code: S9480, display: IOP, per diem}]\n"
    )
    text = GOOD_RULE.replace("    condition:", set_param + "    condition:")
    error = refused(write_pack(pack_root / "b", text))
    assert error.field == "rules[0].parameters.codes.value[0].per diem"


def test_duplicate_rule_ids_are_refused(pack_root: Path) -> None:
    twice = GOOD_RULE + GOOD_RULE.removeprefix("rules:\n")
    error = refused(write_pack(pack_root, twice))
    assert error.field == "rules[1].id" and error.record == "demo.daily-units"


def test_version_must_match_its_folder(pack_root: Path) -> None:
    folder = write_pack(pack_root)
    header = folder / "pack.yaml"
    header.write_text(header.read_text().replace('"2026.1"', '"2026.2"'))
    assert refused(folder).field == "version"


def test_broken_yaml_names_the_line(pack_root: Path) -> None:
    error = refused(write_pack(pack_root, "rules:\n  - id: [unclosed\n"))
    assert error.field is not None and error.field.startswith("line ")


def test_registry_takes_the_latest_version_or_a_pin(pack_root: Path) -> None:
    write_pack(pack_root)
    write_pack(pack_root, GOOD_RULE.replace("value: 16", "value: 20"), version="2026.10")
    write_pack(pack_root, GOOD_RULE.replace("value: 16", "value: 18"), version="2026.2")
    latest = load_packs(pack_root)
    assert latest.integer("demo.daily-units", "daily_unit_limit") == 20  # 2026.10 > 2026.2
    assert latest.rule("demo.daily-units").pack_version == "2026.10"
    pinned = load_packs(pack_root, pins={"demo": "2026.1"})
    assert pinned.integer("demo.daily-units", "daily_unit_limit") == 16
    assert [p.version for p in pinned.all_versions()] == ["2026.1", "2026.2", "2026.10"]
    with pytest.raises(PackError):
        load_packs(pack_root, pins={"demo": "2025.1"})


def test_deadline_rules_become_clock_rules() -> None:
    """IOP-12 / REG-01 / TCM-07 clocks hand their amount and unit to bhum.domain.clocks."""
    iop = load_pack(PACKS / "iop" / "2026.1")
    rule = clock_rule(iop.rule("iop.decision-within-14-days"))
    assert (rule.rule_id, rule.amount, rule.unit) == ("IOP-12", 14, ClockUnit.CALENDAR_DAYS)
    assert "iop@2026.1" in rule.label
    tcm = load_pack(PACKS / "tcm" / "2026.1")
    outreach = clock_rule(tcm.rule("tcm.outreach-after-missed-contact"))
    assert (outreach.amount, outreach.unit) == (2, ClockUnit.BUSINESS_DAYS)
    with pytest.raises(ValueError):
        clock_rule(tcm.rule("tcm.caseload-standard"))
