"""Consent registry use cases and the disclosure gate every disclosure path calls (COC-04, REG-06).

``disclose`` is the one place a disclosure is decided: it reads the member's consents, asks
``bhum.domain.consent.may_disclose`` and writes an audit row either way (DISCLOSE when allowed,
REFUSE when not, committed even though the caller then stops).
"""

from __future__ import annotations

from datetime import date, datetime

from bhum.domain.access import AuditAction, Permission, User
from bhum.domain.consent import Consent, DisclosureDecision, DisclosurePurpose, RecordKind, may_disclose
from bhum.domain.errors import BhumError, InputError, NotFound
from bhum.services.access import ScopeResolver, authorize_member_access
from bhum.services.audit import record_access
from bhum.services.care_records import CareUnitOfWork

__all__ = ["DisclosureRefused", "disclose", "list_consents", "record_consent", "revoke_consent"]


class DisclosureRefused(BhumError):
    """A disclosure the consent registry does not allow (already audit-logged)."""

    def __init__(self, decision: DisclosureDecision) -> None:
        super().__init__(f"{decision.rule_id}: {decision.reason}")
        self.decision = decision


def _aware(now: datetime) -> None:
    if now.tzinfo is None:
        raise InputError("the time must carry its time zone", field="now")


def record_consent(
    uow: CareUnitOfWork, actor: User, consent: Consent, *, scopes: ScopeResolver, now: datetime
) -> Consent:
    _aware(now)
    with uow:
        authorize_member_access(
            uow,
            actor,
            Permission.CASE_MANAGE,
            consent.member_id,
            scopes=scopes,
            reason="record consent",
            now=now,
        )
        if uow.members.get(consent.member_id) is None:
            raise NotFound(f"member {consent.member_id} does not exist")
        if uow.consents.get(consent.consent_id) is not None:
            raise InputError("a consent with this id exists", field="consent_id", record=consent.consent_id)
        uow.consents.add(consent)
        record_access(
            uow,
            actor,
            AuditAction.CREATE,
            "consent",
            consent.consent_id,
            consent.member_id,
            "record consent",
            now,
            detail={"scope": consent.scope.value},
        )
        uow.commit()
    return consent


def revoke_consent(
    uow: CareUnitOfWork,
    actor: User,
    consent_id: str,
    *,
    revoked_on: date,
    scopes: ScopeResolver,
    now: datetime,
    member_id: str | None = None,
) -> Consent:
    """The consent stops applying from ``revoked_on``. With ``member_id``, a consent of another
    member is treated as not found (a route names the member it works on)."""
    _aware(now)
    with uow:
        stored = uow.consents.get(consent_id)
        if stored is None or (member_id is not None and stored.member_id != member_id):
            raise NotFound(f"consent {consent_id} does not exist")
        authorize_member_access(
            uow,
            actor,
            Permission.CASE_MANAGE,
            stored.member_id,
            scopes=scopes,
            reason="revoke consent",
            now=now,
        )
        if stored.revoked_on is not None:
            raise InputError("the consent is already revoked", field="revoked_on", record=consent_id)
        revoked = Consent(
            consent_id=stored.consent_id,
            member_id=stored.member_id,
            scope=stored.scope,
            recipient=stored.recipient,
            signed_on=stored.signed_on,
            purposes=stored.purposes,
            expires_on=stored.expires_on,
            revoked_on=revoked_on,
            written=stored.written,
        )
        uow.consents.save(revoked)
        record_access(
            uow, actor, AuditAction.UPDATE, "consent", consent_id, stored.member_id, "revoke consent", now
        )
        uow.commit()
    return revoked


def disclose(
    uow: CareUnitOfWork,
    actor: User | str,
    *,
    member_id: str,
    record_kind: RecordKind,
    recipient: str,
    purpose: DisclosurePurpose,
    entity_type: str,
    entity_id: str,
    now: datetime,
    on: date | None = None,
) -> DisclosureDecision:
    """May this record go to ``recipient``? Audits the answer and raises ``DisclosureRefused`` when not.

    ``actor`` is a user or a ``system:<job>`` name (letter batches, exports). ``on`` is the plan-zone
    date of the disclosure (default: ``now``'s date).
    """
    _aware(now)
    day = on or now.date()
    with uow:
        decision = may_disclose(
            record_kind, recipient, purpose, uow.consents.for_member(member_id), day, member_id=member_id
        )
        detail = {
            "record_kind": record_kind.value,
            "recipient": recipient,
            "purpose": purpose.value,
            "rule": decision.rule_id,
            "why": decision.reason,
        }
        if decision.consent_id:
            detail["consent_id"] = decision.consent_id
        action = AuditAction.DISCLOSE if decision.allowed else AuditAction.REFUSE
        record_access(
            uow,
            actor,
            action,
            entity_type,
            entity_id,
            member_id,
            f"disclose {record_kind.value}",
            now,
            detail=detail,
        )
        uow.commit()
    if not decision.allowed:
        raise DisclosureRefused(decision)
    return decision


def list_consents(
    uow: CareUnitOfWork, actor: User, *, member_id: str, scopes: ScopeResolver, now: datetime
) -> list[Consent]:
    """The member's consent registry: every consent and release, revoked and expired ones included."""
    _aware(now)
    with uow:
        authorize_member_access(
            uow, actor, Permission.CASE_READ, member_id, scopes=scopes, reason="list consents", now=now
        )
        consents = list(uow.consents.for_member(member_id))
        record_access(
            uow, actor, AuditAction.READ, "consent", f"member:{member_id}", member_id, "list consents", now
        )
        uow.commit()
    return consents
