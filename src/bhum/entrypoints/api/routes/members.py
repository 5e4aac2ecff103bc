"""Member views. Every read is audited by the service; refusals by the access dependency."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request
from pydantic import BaseModel

from bhum.domain.access import Permission
from bhum.entrypoints.api.dependencies import Principal
from bhum.entrypoints.api.security import get_deps, requires
from bhum.services.access import view_member

router = APIRouter(prefix="/members")


class MemberOut(BaseModel):
    member_id: str
    first_name: str
    last_name: str
    birth_date: date
    plan_id: str | None


@router.get("/{member_id}", response_model=MemberOut)
def get_member(
    member_id: Annotated[str, Path(min_length=1, max_length=64)],
    request: Request,
    principal: Annotated[Principal, Depends(requires(Permission.MEMBER_READ, member_param="member_id"))],
) -> MemberOut:
    deps = get_deps(request)
    summary = view_member(
        deps.uow_factory(),
        principal.user,
        member_id,
        members=deps.members,
        scopes=deps.scopes,
        now=deps.clock(),
        reason="GET /members/{member_id}",
    )
    return MemberOut(
        member_id=summary.member_id,
        first_name=summary.first_name,
        last_name=summary.last_name,
        birth_date=summary.birth_date,
        plan_id=summary.plan_id,
    )
