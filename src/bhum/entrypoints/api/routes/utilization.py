"""The provider's utilization view (MN-04, IOP-13): units authorized/used/remaining, run-out date and
the continuing-service request to file. Plan staff reach every NPI; a provider user only the NPIs of its
own organization (anything else is refused and the refusal audited)."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request
from pydantic import BaseModel

from bhum.domain.access import AuditAction, Permission, ScopeKind, scopes_for
from bhum.domain.errors import PermissionDenied
from bhum.entrypoints.api.dependencies import ApiDependencies, Principal
from bhum.entrypoints.api.security import get_deps, requires
from bhum.policy import PackRegistry, load_packs
from bhum.services.audit import record_access
from bhum.services.utilization import provider_utilization

router = APIRouter(prefix="/providers")
ROUTE = "GET /providers/{npi}/utilization"


class AuthorizationUseOut(BaseModel):
    authorization_id: str
    member_id: str
    service_codes: list[str]
    status: str
    start: date
    end: date | None
    units_authorized: int
    units_used: int
    units_remaining: int
    units_per_day: float | None
    runs_out_on: date | None
    continuing_request_due: date | None
    continuing_request: str | None
    rule_ids: list[str]


class UtilizationOut(BaseModel):
    npi: str
    authorizations: list[AuthorizationUseOut]


def packs_of(deps: ApiDependencies) -> PackRegistry:
    return deps.packs() if deps.packs is not None else load_packs(deps.settings.packs_dir)


def _may_read_npi(deps: ApiDependencies, principal: Principal, npi: str) -> bool:
    scopes = scopes_for(principal.user, Permission.AUTHORIZATION_READ)
    if ScopeKind.ALL in scopes:
        return True
    organization = principal.user.organization_id
    if ScopeKind.ORGANIZATION not in scopes or organization is None:
        return False  # caseload-scoped and unscoped roles see no provider-wide view
    with deps.uow_factory() as uow:
        provider = uow.providers.get(npi)
    return provider is not None and provider.organization_id == organization


@router.get("/{npi}/utilization", response_model=UtilizationOut)
def get_utilization(
    npi: Annotated[str, Path(pattern=r"^\d{10}$")],
    request: Request,
    principal: Annotated[Principal, Depends(requires(Permission.AUTHORIZATION_READ))],
) -> UtilizationOut:
    deps = get_deps(request)
    now = deps.clock()
    if not _may_read_npi(deps, principal, npi):
        with deps.uow_factory() as uow:
            record_access(
                uow, principal.user, AuditAction.REFUSE, "provider_utilization", npi, None, ROUTE, now,
                detail={"why": "the NPI is outside the caller's organization"},
            )  # fmt: skip
            uow.commit()
        raise PermissionDenied("this provider is outside your organization")
    rows = provider_utilization(
        deps.uow_factory(), npi, registry=packs_of(deps), actor=principal.user.id, now=now, reason=ROUTE
    )
    return UtilizationOut(
        npi=npi,
        authorizations=[
            AuthorizationUseOut(
                authorization_id=r.authorization_id,
                member_id=r.member_id,
                service_codes=list(r.service_codes),
                status=r.status,
                start=r.start,
                end=r.end,
                units_authorized=r.units_authorized,
                units_used=r.units_used,
                units_remaining=r.units_remaining,
                units_per_day=r.units_per_day,
                runs_out_on=r.runs_out_on,
                continuing_request_due=r.continuing_request_due,
                continuing_request=r.continuing_request,
                rule_ids=["MN-04", "IOP-13"] if r.continuing_request else ["MN-04"],
            )
            for r in rows
        ],
    )
