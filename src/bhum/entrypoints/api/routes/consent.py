"""The consent registry and the disclosure gate over the API (COC-04, REG-06).

A disclosure request is answered by ``bhum.services.consent.disclose``: allowed (200, audited
DISCLOSE) or refused (403 ``disclosure_refused`` naming the rule, audited REFUSE).
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi import Path as PathParam
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from bhum.domain.access import Permission
from bhum.domain.consent import Consent, ConsentScope, DisclosurePurpose, RecordKind
from bhum.entrypoints.api.dependencies import Principal
from bhum.entrypoints.api.routes.case_management import MemberId, Strict, care_uow, refused
from bhum.entrypoints.api.security import get_deps, requires
from bhum.services.consent import (
    DisclosureRefused,
    disclose,
    list_consents,
    record_consent,
    revoke_consent,
)

router = APIRouter()


class ConsentIn(Strict):
    consent_id: str = Field(min_length=1, max_length=64)
    scope: ConsentScope
    recipient: str = Field(
        min_length=1, max_length=128, description="An NPI (npi:...), organization or person"
    )
    signed_on: date
    purposes: list[DisclosurePurpose] = Field(
        default=[
            DisclosurePurpose.TREATMENT,
            DisclosurePurpose.PAYMENT,
            DisclosurePurpose.HEALTH_CARE_OPERATIONS,
        ]
    )
    expires_on: date | None = None
    written: bool = True  # COC-04: psychotherapy notes need a written release signed by the member

    def to_domain(self, member_id: str) -> Consent:
        return Consent(
            consent_id=self.consent_id,
            member_id=member_id,
            scope=self.scope,
            recipient=self.recipient,
            signed_on=self.signed_on,
            purposes=frozenset(self.purposes),
            expires_on=self.expires_on,
            written=self.written,
        )


class ConsentOut(BaseModel):
    consent_id: str
    member_id: str
    scope: ConsentScope
    recipient: str
    signed_on: date
    purposes: list[DisclosurePurpose]
    expires_on: date | None
    revoked_on: date | None
    written: bool

    @classmethod
    def of(cls, c: Consent) -> ConsentOut:
        return cls(
            consent_id=c.consent_id,
            member_id=c.member_id,
            scope=c.scope,
            recipient=c.recipient,
            signed_on=c.signed_on,
            purposes=sorted(c.purposes),
            expires_on=c.expires_on,
            revoked_on=c.revoked_on,
            written=c.written,
        )


class RevocationIn(Strict):
    revoked_on: date


class DisclosureIn(Strict):
    record_kind: RecordKind
    recipient: str = Field(min_length=1, max_length=128)
    purpose: DisclosurePurpose
    entity_type: str = Field(default="record", min_length=1, max_length=40)
    entity_id: str = Field(min_length=1, max_length=64)


class DisclosureOut(BaseModel):
    allowed: bool
    reason: str
    rule_id: str
    consent_id: str | None


@router.get("/members/{member_id}/consents", response_model=list[ConsentOut])
def get_consents(
    member_id: MemberId,
    request: Request,
    principal: Annotated[Principal, Depends(requires(Permission.CASE_READ, member_param="member_id"))],
) -> list[ConsentOut]:
    deps = get_deps(request)
    uow = care_uow(deps)
    consents = list_consents(
        uow, principal.user, member_id=member_id, scopes=deps.scopes(uow), now=deps.clock()
    )
    return [ConsentOut.of(c) for c in consents]


@router.post("/members/{member_id}/consents", response_model=ConsentOut, status_code=201)
def post_consent(
    member_id: MemberId,
    body: ConsentIn,
    request: Request,
    principal: Annotated[Principal, Depends(requires(Permission.CASE_MANAGE, member_param="member_id"))],
) -> ConsentOut:
    deps = get_deps(request)
    uow = care_uow(deps)
    consent = record_consent(
        uow, principal.user, body.to_domain(member_id), scopes=deps.scopes(uow), now=deps.clock()
    )
    return ConsentOut.of(consent)


@router.post("/members/{member_id}/consents/{consent_id}/revocation", response_model=ConsentOut)
def post_revocation(
    member_id: MemberId,
    consent_id: Annotated[str, PathParam(min_length=1, max_length=64)],
    body: RevocationIn,
    request: Request,
    principal: Annotated[Principal, Depends(requires(Permission.CASE_MANAGE, member_param="member_id"))],
) -> ConsentOut:
    deps = get_deps(request)
    uow = care_uow(deps)
    consent = revoke_consent(
        uow,
        principal.user,
        consent_id,
        revoked_on=body.revoked_on,
        scopes=deps.scopes(uow),
        now=deps.clock(),
        member_id=member_id,
    )
    return ConsentOut.of(consent)


@router.post("/members/{member_id}/disclosures", response_model=DisclosureOut)
def post_disclosure(
    member_id: MemberId,
    body: DisclosureIn,
    request: Request,
    principal: Annotated[Principal, Depends(requires(Permission.CASE_MANAGE, member_param="member_id"))],
) -> DisclosureOut | JSONResponse:
    """COC-04 / REG-06: may this record go to this recipient? Audited either way."""
    deps = get_deps(request)
    try:
        decision = disclose(
            care_uow(deps),
            principal.user,
            member_id=member_id,
            record_kind=body.record_kind,
            recipient=body.recipient,
            purpose=body.purpose,
            entity_type=body.entity_type,
            entity_id=body.entity_id,
            now=deps.clock(),
            on=deps.clock().astimezone(deps.settings.plan_time_zone).date(),
        )
    except DisclosureRefused as exc:
        return refused(403, "disclosure_refused", exc.decision.reason, exc.decision.rule_id)
    return DisclosureOut(
        allowed=decision.allowed,
        reason=decision.reason,
        rule_id=decision.rule_id,
        consent_id=decision.consent_id,
    )
