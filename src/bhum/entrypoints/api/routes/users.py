"""User management, for holders of users.manage (admins)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, status
from pydantic import BaseModel, Field

from bhum.domain.access import Permission, Role
from bhum.entrypoints.api.dependencies import Principal
from bhum.entrypoints.api.routes.auth import UserOut
from bhum.entrypoints.api.security import get_deps, requires
from bhum.services.access import create_user, list_users

router = APIRouter(prefix="/users")


class NewUser(BaseModel):
    username: str = Field(min_length=3, max_length=64)
    display_name: str = Field(min_length=1, max_length=200)
    roles: list[Role] = Field(min_length=1)
    password: str | None = Field(default=None, max_length=256)
    organization_id: str | None = Field(default=None, max_length=64)
    staff_id: str | None = Field(default=None, max_length=64)


@router.get("", response_model=list[UserOut])
def get_users(
    request: Request, principal: Annotated[Principal, Depends(requires(Permission.USERS_MANAGE))]
) -> list[UserOut]:
    deps = get_deps(request)
    return [UserOut.of(u) for u in list_users(deps.uow_factory(), actor=principal.user, now=deps.clock())]


@router.post("", response_model=UserOut, status_code=status.HTTP_201_CREATED)
def post_user(
    body: NewUser,
    request: Request,
    principal: Annotated[Principal, Depends(requires(Permission.USERS_MANAGE))],
) -> UserOut:
    deps = get_deps(request)
    user = create_user(
        deps.uow_factory(),
        actor=principal.user,
        username=body.username,
        display_name=body.display_name,
        roles=body.roles,
        password=body.password,
        hasher=deps.password_hasher,
        now=deps.clock(),
        organization_id=body.organization_id,
        staff_id=body.staff_id,
    )
    return UserOut.of(user)
