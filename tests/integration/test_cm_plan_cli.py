"""`bhum cm plan --store` (TCM-10): a complete plan is stored, the same file again changes nothing, a
revised one is the next version; a plan lacking a signature is refused naming the file and field with
nothing stored; without --store the plan is only checked."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bhum.adapters.store.care_management import SqlCareUnitOfWork
from tests.integration.test_cm_cli import Deps, _file, deps, run

__all__ = ["deps"]  # the fixture, shared with test_cm_cli

PLAN: dict[str, Any] = {
    "plan_id": "SP-1",
    "effective_from": "2026-03-01",
    "goals": [{"goal": "Stable housing", "objectives": ["Apply for two units"]}],
    "member_participated": True,
    "member_signed_on": "2026-03-01",
    "case_manager_signed_on": "2026-03-01",
    "licensed_professional_signed_on": "2026-03-02",
    "licensed_professional_id": "LP-1",
}


def _versions(deps: Deps) -> list[int]:
    with SqlCareUnitOfWork(deps.store.session_factory) as uow:
        return [v.version for v in uow.service_plans.versions("SP-1")]


def test_tcm10_cm_plan_store_idempotent_and_versioned(deps: Deps, tmp_path: Path) -> None:
    plan = _file(tmp_path, "plan.json", PLAN)
    code, out, err = run(deps, "plan", "M1", plan, "--as", "sup", "--store")
    assert code == 0, err
    assert out.strip() == "SP-1\tversion 1\tstored\tdevelopment compensable: True"
    code, out, _ = run(deps, "plan", "M1", plan, "--as", "sup", "--store")
    assert code == 0 and "\tversion 1\tunchanged" in out
    revised = _file(tmp_path, "revised.json", PLAN | {"effective_to": "2026-06-30"})
    code, out, _ = run(deps, "plan", "M1", revised, "--as", "sup", "--store")
    assert code == 0 and "\tversion 2\tstored" in out
    assert _versions(deps) == [1, 2]


def test_tcm10_cm_plan_missing_signature_refused_nothing_stored(deps: Deps, tmp_path: Path) -> None:
    plan = _file(tmp_path, "plan.json", PLAN | {"case_manager_signed_on": None})
    code, _, err = run(deps, "plan", "M1", plan, "--as", "sup", "--store")
    assert code == 1 and "case_manager_signed_on" in err
    assert _versions(deps) == []


def test_cm_plan_without_store_only_checks(deps: Deps, tmp_path: Path) -> None:
    plan = _file(tmp_path, "plan.json", {k: v for k, v in PLAN.items() if k != "effective_from"})
    code, out, err = run(deps, "plan", "M1", plan, "--as", "sup")
    assert code == 0, err
    assert "SP-1\tcomplete" in out
    assert _versions(deps) == []
    missing = _file(tmp_path, "nodate.json", {k: v for k, v in PLAN.items() if k != "effective_from"})
    code, _, err = run(deps, "plan", "M1", missing, "--as", "sup", "--store")
    assert code == 1 and "effective_from" in err and "nodate.json" in err
