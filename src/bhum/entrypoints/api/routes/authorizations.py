"""Authorizations: "is authorization required?" (OPM-01, IOP-14) and an authorization's lifecycle."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request

from bhum.domain.access import Permission
from bhum.domain.errors import InputError
from bhum.domain.values import Code
from bhum.entrypoints.api.dependencies import Principal
from bhum.entrypoints.api.routes.requests import engine_for, uow_for
from bhum.entrypoints.api.security import get_deps, requires
from bhum.policy import resolve_system
from bhum.services.authorization import authorization_required, get_authorization

router = APIRouter()


@router.get("/members/{member_id}/authorization-required")
def get_required(
    member_id: Annotated[str, Path(min_length=1, max_length=64)],
    request: Request,
    principal: Annotated[
        Principal, Depends(requires(Permission.AUTHORIZATION_READ, member_param="member_id"))
    ],
    provider_npi: Annotated[str, Query(min_length=10, max_length=10)],
    service_system: Annotated[str, Query(min_length=1, max_length=200)],
    service_code: Annotated[str, Query(min_length=1, max_length=32)],
    on: Annotated[date, Query(alias="date")],
) -> dict[str, Any]:
    deps = get_deps(request)
    system = resolve_system(service_system)
    if system is None:
        raise InputError(f"unknown code system {service_system!r}", field="service_system")
    answer = authorization_required(
        uow_for(deps),
        engine_for(deps),
        member_id=member_id,
        provider_npi=provider_npi,
        service=Code(system, service_code),
        on=on,
        actor=principal.user,
        now=deps.clock(),
        scopes=deps.scopes,
    )
    return answer.to_doc()


@router.get("/authorizations/{authorization_id}")
def get_one(
    authorization_id: Annotated[str, Path(min_length=1, max_length=80)],
    request: Request,
    principal: Annotated[Principal, Depends(requires(Permission.AUTHORIZATION_READ))],
) -> dict[str, Any]:
    deps = get_deps(request)
    return get_authorization(
        uow_for(deps),
        authorization_id,
        actor=principal.user,
        now=deps.clock(),
        scopes=deps.scopes,
    )
