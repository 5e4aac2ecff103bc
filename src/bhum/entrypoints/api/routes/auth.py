"""Health, sign-in (username + password -> API token), the caller's own profile and sign-out."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Request, status
from pydantic import BaseModel, Field

from bhum.domain.access import Permission, User, permissions_of
from bhum.domain.errors import InputError
from bhum.entrypoints.api.dependencies import Principal
from bhum.entrypoints.api.security import get_deps, public, requires
from bhum.services.access import authenticate, issue_token, revoke_token

router = APIRouter()


class TokenRequest(BaseModel):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=256)
    label: str = Field(default="api", min_length=1, max_length=100)
    ttl_days: int | None = Field(default=None, ge=1, le=365)


class TokenResponse(BaseModel):
    token: str
    token_type: str = "bearer"
    token_id: str
    expires_at: datetime | None


class UserOut(BaseModel):
    id: str
    username: str
    display_name: str
    roles: list[str]
    organization_id: str | None
    staff_id: str | None
    active: bool

    @classmethod
    def of(cls, user: User) -> UserOut:
        return cls(
            id=user.id,
            username=user.username,
            display_name=user.display_name,
            roles=sorted(r.value for r in user.roles),
            organization_id=user.organization_id,
            staff_id=user.staff_id,
            active=user.active,
        )


class MeOut(UserOut):
    permissions: list[str]


@router.get("/health", dependencies=[Depends(public)])
def health() -> dict[str, str]:
    return {"status": "ok"}


@router.post(
    "/auth/token",
    status_code=status.HTTP_201_CREATED,
    response_model=TokenResponse,
    dependencies=[Depends(public)],
)
def sign_in(body: TokenRequest, request: Request) -> TokenResponse:
    """Exchange a username and password for an API token, shown once."""
    deps = get_deps(request)
    user = authenticate(
        deps.uow_factory(), body.username, body.password, hasher=deps.password_hasher, now=deps.clock()
    )
    ttl = timedelta(days=body.ttl_days) if body.ttl_days is not None else timedelta(days=30)
    issued = issue_token(
        deps.uow_factory(), actor=user, username=user.username, label=body.label, now=deps.clock(), ttl=ttl
    )
    return TokenResponse(token=issued.token, token_id=issued.record.id, expires_at=issued.record.expires_at)


@router.get("/me", response_model=MeOut)
def me(principal: Annotated[Principal, Depends(requires(Permission.ACCOUNT_SELF))]) -> MeOut:
    user = principal.user
    return MeOut(**UserOut.of(user).model_dump(), permissions=sorted(p.value for p in permissions_of(user)))


@router.delete("/auth/token", status_code=status.HTTP_204_NO_CONTENT)
def sign_out(
    request: Request, principal: Annotated[Principal, Depends(requires(Permission.ACCOUNT_SELF))]
) -> None:
    """Revoke the bearer token this request was made with."""
    if principal.credential is None:
        raise InputError("only a bearer token can be revoked here", field="authorization")
    deps = get_deps(request)
    revoke_token(deps.uow_factory(), principal.credential, actor=principal.user, now=deps.clock())
