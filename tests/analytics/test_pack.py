"""The opm-analytics pack validates with the policy loader, matches the engine's rules, and every code
it names exists in the project's reference lists (OPM-03, rules as data)."""

from __future__ import annotations

from bhum.adapters.reference import load_code_list
from bhum.analytics.catalog import DEFAULT_VERSION, PACKS_DIR, load_catalog
from bhum.analytics.rules import RULES
from bhum.domain.values import CPT, HCPCS, ICD10CM, POS, REVENUE
from bhum.policy import ParameterType, load_pack

# Which reference list holds the codes of each code system the pack's code sets use.
REFERENCE_OF_SYSTEM = {
    ICD10CM: "icd10cm-bh",
    HCPCS: "hcpcs-bh",
    CPT: "hcpcs-bh",
    REVENUE: "revenue-codes",
    POS: "place-of-service",
}
# String-list parameters that name values of a reference list (list, groups).
REFERENCE_OF_STRINGS = {
    "excluded_settings": ("residence-settings", ("excluded_from_case_management",)),
    "transition_activity_codes": ("tcm-activities", ("reimbursable",)),
    "level_modifiers": ("hcpcs-bh", ("modifiers",)),
    "drug_classes": ("ndc-psychotropic", ()),
    "mat_drug_classes": ("ndc-psychotropic", ()),
}


def test_pack_validates_with_the_policy_loader_and_covers_every_engine_rule() -> None:
    pack = load_pack(PACKS_DIR / DEFAULT_VERSION)
    catalog = load_catalog()
    assert {r.id for r in pack.rules} == set(RULES) == set(catalog.rules)
    assert len(RULES) >= 14
    for rule in catalog:
        assert rule.source and rule.explanation and rule.implements
        assert "score_weight" in rule.values
    assert catalog["CI-SAA-PDC"].source == "HEDIS SAA"  # the rule's own source, not the pack's
    assert catalog["CI-FUH-7"].fact == "followup_visits"


def test_every_pack_code_is_in_its_reference_list_opm_03() -> None:
    """OPM-03: code sets stay pack parameters, but each code must exist in the reference list of its
    system (ICD-10-CM code sets are written as categories: each must head some listed code)."""
    pack = load_pack(PACKS_DIR / DEFAULT_VERSION)
    missing: list[str] = []
    checked = 0
    for rule in pack.rules:
        for name, parameter in rule.parameters.items():
            if parameter.type is ParameterType.CODE_SET:
                assert isinstance(parameter.value, frozenset)
                for code in parameter.value:
                    listed = load_code_list(REFERENCE_OF_SYSTEM[code.system])
                    known = listed.codes(*listed.group_names)
                    if code.system == ICD10CM:
                        found = any(c.split(".")[0] == code.code for c in known)
                    else:
                        found = code.code in known
                    checked += 1
                    if not found:
                        missing.append(f"{rule.id}.{name}: {code.code}")
            elif name in REFERENCE_OF_STRINGS:
                list_name, groups = REFERENCE_OF_STRINGS[name]
                listed = load_code_list(list_name)
                known = listed.codes(*groups) if groups else frozenset(listed.group_names)
                assert isinstance(parameter.value, tuple)
                for value in parameter.value:
                    checked += 1
                    if value not in known:
                        missing.append(f"{rule.id}.{name}: {value}")
    assert checked > 100
    assert missing == []


def test_reference_check_would_catch_an_unknown_code() -> None:
    """The check above can fail: a code outside the list (Z59, housing instability, is not a
    behavioral-health category in icd10cm-bh; 99499 is not in hcpcs-bh) is not found."""
    listed = load_code_list("icd10cm-bh")
    known = listed.codes(*listed.group_names)
    assert not any(c.split(".")[0] == "Z59" for c in known)
    assert "99499" not in load_code_list("hcpcs-bh").codes(*load_code_list("hcpcs-bh").group_names)
