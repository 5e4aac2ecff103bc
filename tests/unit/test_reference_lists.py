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


WIDENED = ("hcpcs-bh", "icd10cm-bh", "revenue-codes", "carc-rarc")  # have a 2026.2 with more codes


@pytest.mark.parametrize("name", LISTS)
def test_every_list_loads_with_system_code_and_display(name: str) -> None:
    code_list = load_code_list(name)
    assert code_list.version == ("2026.2" if name in WIDENED else "2026.1")  # the newest by default
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
    assert {"0114", "0124", "0204"} <= revenue.codes("inpatient_psychiatric")


def test_icd_groups_cover_the_bh_conditions() -> None:
    icd = load_code_list("icd10cm-bh")
    assert icd.lookup("F33.1") == Code(ICD10CM, "F33.1", "Major depressive disorder, recurrent, moderate")
    for group, prefix in (("depression", "F3"), ("anxiety", "F4"), ("bipolar", "F31"), ("adhd", "F90")):
        assert all(code.startswith(prefix) for code in icd.codes(group)), group
    assert all(c[:3] in {f"F1{i}" for i in range(10)} for c in icd.codes("sud"))
    assert {c[:3] for c in icd.codes("schizophrenia")} == {"F20", "F25"}


def test_carc_rarc_from_the_rule_catalog_and_carc_62_is_absent() -> None:
    adj = load_code_list("carc-rarc", "2026.1")
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
    assert caught.value.source == "hcpcs-bh 2026.2"
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


@pytest.mark.parametrize("name", WIDENED)
def test_a_widened_list_keeps_every_2026_1_entry_unchanged(name: str) -> None:
    """Lists are versioned: 2026.2 only adds; every 2026.1 code keeps its system, display and group."""
    old, new = load_code_list(name, "2026.1"), load_code_list(name, "2026.2")
    assert set(old.group_names) <= set(new.group_names)
    for group in old.group_names:
        assert set(old.group(group)) <= set(new.group(group)), group
    assert len(new) > len(old)


def test_icd10cm_2026_2_knows_every_bh_category_real_claims_carry() -> None:
    """OPM-03 analytics: F16, F18, F21-F24, F28-F30, F34, F39, F42 and F44-F99 (F90 was there) are known."""
    categories = {c.split(".")[0] for c in load_code_list("icd10cm-bh").codes()}
    wanted = {"F16", "F18", "F21", "F22", "F23", "F24", "F28", "F29", "F30", "F34", "F39", "F42"}
    wanted |= {f"F{n}" for n in (44, 45, 48, 50, 51, 52, 53, 54, 55, 59, 60, 63, 64, 65, 66, 68, 69)}
    wanted |= {f"F{n}" for n in (70, 71, 72, 73, 78, 79, 80, 81, 82, 84, 88, 89, 90, 91, 93, 94, 95, 98, 99)}
    assert sorted(wanted - categories) == []
    old = {c.split(".")[0] for c in load_code_list("icd10cm-bh", "2026.1").codes()}
    assert "F42" not in old and "F42" in categories  # the check can fail: 2026.1 lacks it
    icd = load_code_list("icd10cm-bh")
    assert icd.lookup("F42.2") == Code(ICD10CM, "F42.2", "Mixed obsessional thoughts and acts")
    # The sampled groups stay as they were (the synthetic population draws from them by name).
    assert icd.codes("sud") == load_code_list("icd10cm-bh", "2026.1").codes("sud")


def test_hcpcs_and_revenue_2026_2_hold_the_codes_the_analytics_pack_needs() -> None:
    """OPM-03 / IOP-02 / MN-04: crisis, assessment, SUD medication, community rehabilitation and lab codes."""
    hcpcs = load_code_list("hcpcs-bh")
    assert hcpcs.lookup("90839") == Code(CPT, "90839", "Psychotherapy for crisis, first 60 minutes")
    assert hcpcs.lookup("98966").system == CPT
    for code in ("H0031", "H2011", "H0016", "H0047", "J0571", "J0572", "J2315", "H0036", "H0039", "H2014"):
        assert hcpcs.lookup(code).system == HCPCS, code
    assert {"H0036", "H0039", "H2014", "H2017", "H2019"} == hcpcs.codes("psychosocial_rehabilitation")
    assert {"82951", "83037"} <= hcpcs.codes("metabolic_glucose")
    assert {"83700", "83701", "83704"} <= hcpcs.codes("metabolic_cholesterol")
    assert {"J0571", "J0572", "J2315"} == hcpcs.codes("sud_medication")
    assert "90839" not in load_code_list("hcpcs-bh", "2026.1")
    revenue = load_code_list("revenue-codes")
    assert {"0114", "0124", "0134", "0144", "0154", "0204"} == revenue.codes("inpatient_psychiatric")
    assert {"0450", "0451", "0452", "0456", "0459", "0981"} == revenue.codes("emergency")
    assert "0453" not in revenue  # reserved by NUBC, not a code


def test_carc_2026_2_adds_26_27_45_for_coverage_dates_and_835_balancing() -> None:
    """REG-01 / 835 balancing: CARC 26, 27 and 45 with their X12 descriptions; still never CARC 62."""
    adj = load_code_list("carc-rarc")
    assert adj.lookup("26") == Code(CARC, "26", "Expenses incurred prior to coverage")
    assert adj.lookup("27") == Code(CARC, "27", "Expenses incurred after coverage terminated")
    assert adj.lookup("45").display == (
        "Charge exceeds fee schedule/maximum allowable or contracted/legislated fee arrangement"
    )
    assert adj.codes("carc") == load_code_list("carc-rarc", "2026.1").codes("carc") | {"26", "27", "45"}
    with pytest.raises(InputError, match="62"):
        adj.lookup("62")
