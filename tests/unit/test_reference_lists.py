"""Reference code lists: every entry has system + code + display; unknown codes are input errors naming
the list and the code."""

from __future__ import annotations

from pathlib import Path

import pytest

from bhum.adapters.reference import available_versions, load_code_list
from bhum.adapters.synth.schema import DRUG_CLASSES
from bhum.domain.errors import InputError
from bhum.domain.reference import CodeList, CodeListEntry
from bhum.domain.values import CARC, CPT, HCPCS, ICD10CM, NDC, RARC, Code

LISTS = (
    "hcpcs-bh",
    "icd10cm-bh",
    "ndc-psychotropic",
    "carc-rarc",
    "place-of-service",
    "revenue-codes",
    "institutional",
    "tcm-activities",
    "contract-types",
    "residence-settings",
)


@pytest.mark.parametrize("name", LISTS)
def test_every_list_loads_with_system_code_and_display(name: str) -> None:
    code_list = load_code_list(name)
    assert code_list.version == "2026.1"
    assert len(code_list) > 0
    for entry in code_list.entries:
        assert entry.code.system.startswith("http")
        assert entry.code.code and entry.code.display


def test_bh_procedure_groups_hold_the_codes_the_rules_name() -> None:
    hcpcs = load_code_list("hcpcs-bh")
    assert {"90832", "90834", "90837", "90846", "90847", "90853"} == hcpcs.codes("psychotherapy")
    assert {"S9480", "H0015"} == hcpcs.codes("iop_per_diem")  # IOP-04 per diem
    assert hcpcs.lookup("T1017").system == HCPCS  # TCM-01
    assert hcpcs.lookup("90870").system == CPT  # OPM-01 ECT
    assert {"90867", "90868", "90869"} == hcpcs.codes("rtms")
    assert {"96130", "96131", "96136", "96137", "96116", "96121"} <= hcpcs.codes("psych_testing")
    assert {"HE", "HF", "HV", "TF", "TG", "HN", "HM"} <= hcpcs.codes("modifiers")  # TCM-02
    assert {"83036", "82947", "80047"} <= hcpcs.codes("metabolic_glucose")
    assert {"80061", "83721"} <= hcpcs.codes("metabolic_cholesterol")
    revenue = load_code_list("revenue-codes")
    assert {"0905", "0906"} == revenue.codes("intensive_outpatient")
    assert {"0114", "0124", "0204"} == revenue.codes("inpatient_psychiatric")


def test_icd_groups_cover_the_bh_conditions() -> None:
    icd = load_code_list("icd10cm-bh")
    assert icd.lookup("F33.1") == Code(ICD10CM, "F33.1", "Major depressive disorder, recurrent, moderate")
    for group, prefix in (("depression", "F3"), ("anxiety", "F4"), ("bipolar", "F31"), ("adhd", "F90")):
        assert all(code.startswith(prefix) for code in icd.codes(group)), group
    assert all(c[:3] in {f"F1{i}" for i in range(10)} for c in icd.codes("sud"))
    assert {c[:3] for c in icd.codes("schizophrenia")} == {"F20", "F25"}


def test_carc_rarc_from_the_rule_catalog_and_carc_62_is_absent() -> None:
    adj = load_code_list("carc-rarc")
    carc = adj.codes("carc")
    assert {
        "197",
        "15",
        "198",
        "39",
        "119",
        "151",
        "222",
        "273",
        "18",
        "96",
        "204",
        "170",
        "185",
        "B7",
    } == carc
    assert {"M62", "N54", "N362", "N130", "N95"} == adj.codes("rarc")
    assert adj.lookup("197").system == CARC and adj.lookup("N362").system == RARC
    with pytest.raises(InputError, match="62"):
        adj.lookup("62")  # deactivated: never used


def test_ndc_list_is_eleven_digit_synthetic_with_rxnorm_and_known_classes() -> None:
    ndc = load_code_list("ndc-psychotropic")
    assert set(ndc.group_names) == set(DRUG_CLASSES)
    for entry in ndc.entries:
        assert entry.code.system == NDC
        assert len(entry.code.code) == 11 and entry.code.code.isdigit()
        assert entry.code.code.startswith("991")  # synthetic labeler range, not real products
        assert "synthetic" in (entry.code.display or "")
        assert entry.attributes["rxnorm_code"].isdigit() and entry.attributes["ingredient"]
    assert ndc.entry("99101010130").attributes["ingredient"] == "aripiprazole"


def test_unknown_code_names_the_list_and_the_code() -> None:
    with pytest.raises(InputError) as caught:
        load_code_list("hcpcs-bh").lookup("99999")
    assert caught.value.source == "hcpcs-bh 2026.1"
    assert caught.value.record == "99999" and caught.value.field == "code"


def test_code_in_two_systems_needs_the_system() -> None:
    ub04 = load_code_list("institutional")  # admit source "1" and admit type "1"
    with pytest.raises(InputError, match="ambiguous"):
        ub04.lookup("1")
    assert (
        ub04.lookup("1", system="https://www.nubc.org/CodeSystem/PriorityTypeOfAdmitOrVisit").display
        == "Emergency"
    )


def test_unknown_group_and_unknown_list_are_input_errors(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no group"):
        load_code_list("hcpcs-bh").group("nonexistent")
    with pytest.raises(InputError, match="no reference list"):
        load_code_list("nope", root=tmp_path)
    with pytest.raises(InputError, match="no version"):
        load_code_list("hcpcs-bh", "1999.1")


def test_newest_version_wins_and_versions_sort_numerically(tmp_path: Path) -> None:
    folder = tmp_path / "demo"
    folder.mkdir()
    for version, display in (("2026.2", "second"), ("2026.10", "tenth")):
        (folder / f"{version}.yaml").write_text(
            f'name: demo\nversion: "{version}"\n'
            f"groups:\n  g:\n    system: http://x\n    codes:\n      A: {display}\n"
        )
    assert available_versions("demo", tmp_path) == ["2026.2", "2026.10"]
    assert load_code_list("demo", root=tmp_path).lookup("A").display == "tenth"


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ('name: bad\nversion: "1.1"\ngroups:\n  g:\n    codes:\n      A: x\n', "system"),
        (
            'name: bad\nversion: "1.1"\ngroups:\n  g:\n    system: http://x\n    codes:\n      A: ""\n',
            "display",
        ),
        ('name: other\nversion: "1.1"\ngroups: {}\n', "version"),
        ('name: bad\nversion: "1.1"\ngroups: {}\n', "groups"),
    ],
)
def test_malformed_yaml_list_names_file_and_field(tmp_path: Path, text: str, field: str) -> None:
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "1.1.yaml").write_text(text)
    with pytest.raises(InputError) as caught:
        load_code_list("bad", root=tmp_path)
    assert caught.value.field == field
    assert caught.value.source is not None and "bad" in caught.value.source


def test_csv_list_needs_its_columns(tmp_path: Path) -> None:
    (tmp_path / "rx").mkdir()
    (tmp_path / "rx" / "1.1.csv").write_text("group,code,display\nx,1,one\n")
    with pytest.raises(InputError) as caught:
        load_code_list("rx", root=tmp_path)
    assert caught.value.field == "system"


def test_domain_code_list_groups_and_membership() -> None:
    a = CodeListEntry(Code("http://x", "A", "a"), "g1")
    b = CodeListEntry(Code("http://x", "B", "b"), "g2")
    code_list = CodeList("demo", "1.0", (a, b))
    assert "A" in code_list and "C" not in code_list
    assert code_list.codes("g1") == {"A"} and code_list.codes() == {"A", "B"}
    assert code_list.group_of("B") == "g2"
