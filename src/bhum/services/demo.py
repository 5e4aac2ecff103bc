"""Demo set-up: one sign-in per role over a loaded synthetic population (synthetic people only).

Idempotent: users that already exist are left as they are, so `bhum demo` can run again."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from bhum.domain.access import Role
from bhum.domain.members import coverage_on
from bhum.domain.providers import ContractType, Credential, Organization, Staff
from bhum.domain.values import age_on
from bhum.services.access import PasswordHasher, create_user
from bhum.services.unit_of_work import UnitOfWork

DEMO_PASSWORD = "bhum-demo-2026"  # printed by `bhum demo`; for the synthetic demo store only
DEMO_ACTOR = "system:demo"


@dataclass(frozen=True, slots=True)
class DemoLogin:
    username: str
    password: str
    roles: tuple[Role, ...]
    organization_id: str | None
    staff_id: str | None
    created: bool


def _pick_staff(staff: list[Staff], *credentials: Credential) -> Staff | None:
    return next((s for s in staff if s.has(*credentials)), None)


def seed_demo_users(
    uow_factory: Callable[[], UnitOfWork],
    *,
    hasher: PasswordHasher,
    now: datetime,
    password: str = DEMO_PASSWORD,
) -> list[DemoLogin]:
    """Create one demo user per role, linked to real staff and organizations of the population."""
    with uow_factory() as uow:
        organizations: list[Organization] = list(uow.organizations.list())
        staff: list[Staff] = [s for o in organizations for s in uow.staff.for_organization(o.organization_id)]
    bh_orgs = [
        o
        for o in organizations
        if o.contract_type in {ContractType.IOP_PROGRAM, ContractType.CMHC, ContractType.OPBH}
    ]
    provider_org = bh_orgs[0] if bh_orgs else (organizations[0] if organizations else None)
    physician = _pick_staff(
        staff, Credential.PSYCHIATRIST, Credential.PSYCHOLOGIST, Credential.ADDICTION_MEDICINE_PHYSICIAN
    )
    clinician = _pick_staff(staff, Credential.LICENSED_MASTERS_CLINICIAN)
    case_manager = _pick_staff(staff, Credential.CM_II, Credential.CM_I)
    plan = [
        ("demo.intake", (Role.INTAKE,), None, None),
        ("demo.reviewer", (Role.CLINICAL_REVIEWER,), None, clinician),
        ("demo.physician", (Role.PHYSICIAN_REVIEWER,), None, physician),
        ("demo.director", (Role.MEDICAL_DIRECTOR,), None, physician),
        ("demo.casemanager", (Role.CASE_MANAGER,), None, case_manager),
        ("demo.provider", (Role.PROVIDER_USER,), provider_org, None),
        ("demo.auditor", (Role.AUDITOR,), None, None),
        ("demo.admin", (Role.ADMIN,), None, None),
    ]
    logins: list[DemoLogin] = []
    for username, roles, organization, staff_member in plan:
        if Role.PROVIDER_USER in roles and organization is None:
            continue
        with uow_factory() as uow:
            exists = uow.users.get_by_username(username) is not None
        if not exists:
            create_user(
                uow_factory(),
                actor=DEMO_ACTOR,
                username=username,
                display_name=username.split(".", 1)[1].replace("casemanager", "case manager").title(),
                roles=roles,
                password=password,
                hasher=hasher,
                now=now,
                organization_id=organization.organization_id if organization else None,
                staff_id=staff_member.staff_id if staff_member else None,
            )
        logins.append(
            DemoLogin(
                username=username,
                password=password,
                roles=roles,
                organization_id=organization.organization_id if organization else None,
                staff_id=staff_member.staff_id if staff_member else None,
                created=not exists,
            )
        )
    return logins


# -- sample service requests for the demo's authorization flow ----------------------------------------

IOP_PER_DIEM = {
    "system": "hcpcs",
    "code": "S9480",
    "display": "Intensive outpatient psychiatric services, per diem",
}
UNLISTED = {"system": "cpt", "code": "99499", "display": "Unlisted evaluation and management service"}


def _clinical(start: date, received: date, *, complete: bool) -> dict[str, Any]:
    """Structured clinical information: complete (every criterion clearly met) or with gaps that
    a clinical reviewer must look at (no physical exam on file, fewer hours than the IOP minimum)."""
    clinical: dict[str, Any] = {
        "diagnoses": [
            {
                "system": "icd10cm",
                "code": "F33.1",
                "display": "Major depressive disorder, recurrent, moderate",
            }
        ],
        "cross_cutting": {"depression": 3, "anxiety": 2, "suicidal_ideation": 1},
        "locus_level": 3,
        "functioning": "Missed 6 of the last 10 work days; withdrawn from family; not keeping appointments.",
        "risk_assessments": [
            {
                "assessed_on": (received - timedelta(days=3)).isoformat(),
                "suicide_risk": "low",
                "assessed_by_staff_id": "DEMO",
            }
        ],
        "prior_treatment": [
            {
                "level_of_care": "outpatient",
                "start": (start - timedelta(days=180)).isoformat(),
                "end": (start - timedelta(days=10)).isoformat(),
                "response": "no_progress",
            }
        ],
        "goals": [
            {
                "description": "Return to work 3 days a week",
                "interventions": ["CBT group", "behavioral activation"],
                "addresses": ["depression"],
            }
        ],
        "planned_hours_per_week": 9,
        "planned_days_per_week": 3,
    }
    if complete:
        clinical["physical_exam_date"] = (start - timedelta(days=10)).isoformat()
    else:
        clinical["planned_hours_per_week"] = 6
    return clinical


def demo_requests(
    uow_factory: Callable[[], UnitOfWork], *, received_at: datetime, count: int = 12
) -> list[dict[str, Any]]:
    """Request documents for adult members covered on the start date by a plan with BH benefits,
    from IOP programs of the population: most complete (auto-approved), some with gaps (pended for
    clinical review) and one for a service outside the benefit (administrative outcome)."""
    start = received_at.date() + timedelta(days=7)
    with uow_factory() as uow:
        plans = {p.plan_id: p for p in uow.plans.list()}
        programs = [
            npi
            for org in uow.organizations.list()
            if org.contract_type is ContractType.IOP_PROGRAM
            for npi in [p.npi for p in uow.providers.for_organization(org.organization_id)][:1]
        ]
        members = []
        for member in uow.members.list(limit=2000):
            covering = coverage_on(uow.coverage.for_member(member.member_id), start)
            plan = plans.get(covering.plan_id) if covering else None
            if plan is not None and plan.bh_benefit and age_on(member.birth_date, start) >= 18:
                members.append(member)
            if len(members) >= count:
                break
    if not programs or not members:
        return []
    docs = []
    for index, member in enumerate(members):
        npi = programs[index % len(programs)]
        kind = "administrative" if index == count - 1 else ("pend" if index % 3 == 2 else "approve")
        docs.append(
            {
                "request_id": f"DEMO-REQ-{index + 1:04d}",
                "member": {"member_id": member.member_id, "birth_date": member.birth_date.isoformat()},
                "requesting_provider_npi": npi,
                "servicing_provider_npi": npi,
                "service_codes": [UNLISTED if kind == "administrative" else IOP_PER_DIEM],
                "requested_units": 12,
                "requested_span": {
                    "start": start.isoformat(),
                    "end": (start + timedelta(days=29)).isoformat(),
                },
                "urgency": "expedited" if index % 5 == 4 else "standard",
                "review_kind": "pre_service",
                "received_at": (received_at - timedelta(hours=index)).isoformat(),
                "clinical": _clinical(start, received_at.date(), complete=kind != "pend"),
                "program": {"consecutive_hours_per_day": 3, "other_services": [], "assessor_licensed": True},
            }
        )
    return docs
