"""Demo set-up: one sign-in per role over a loaded synthetic population (synthetic people only).

Idempotent: users that already exist are left as they are, so `bhum demo` can run again."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from bhum.domain.access import Role
from bhum.domain.providers import ContractType, Credential, Organization, Staff
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
