"""The access and audit services on the real store (SQLite and PostgreSQL): users, sign-in with
rehash, tokens with expiry and revocation, audited member reads and refusals, and the API over it."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from bhum.adapters.passwords import Argon2PasswordHasher
from bhum.adapters.store import SqlStore
from bhum.config import Settings
from bhum.domain.access import AuditAction, Role, User
from bhum.domain.errors import InputError, PermissionDenied
from bhum.entrypoints.api.app import create_app
from bhum.entrypoints.api.dependencies import ApiDependencies
from bhum.services.access import (
    AuthenticationFailed,
    MemberSummary,
    authenticate,
    create_user,
    issue_token,
    resolve_token,
    revoke_token,
    view_member,
)
from bhum.services.audit import list_audit_events
from tests.fakes import FakeMembers, MutableClock

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
PASSWORD = "correct horse battery staple"
HASHER = Argon2PasswordHasher.fast_for_tests()


def test_users_sign_in_and_tokens_on_the_store(store: SqlStore) -> None:
    weak = Argon2PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    rev = create_user(
        store.unit_of_work(), actor="system:test", username="rev", display_name="Rev",
        roles=[Role.CLINICAL_REVIEWER, Role.CASE_MANAGER], password=PASSWORD, hasher=weak, now=NOW,
        staff_id="S-1",
    )  # fmt: skip
    with pytest.raises(InputError):  # refused before anything is written
        create_user(
            store.unit_of_work(), actor="system:test", username="rev", display_name="Again",
            roles=[Role.INTAKE], password=PASSWORD, hasher=weak, now=NOW,
        )  # fmt: skip
    stronger = Argon2PasswordHasher(time_cost=2, memory_cost=16, parallelism=1)
    assert authenticate(store.unit_of_work(), "rev", PASSWORD, hasher=stronger, now=NOW) == rev
    with store.unit_of_work() as uow:
        rehashed = uow.users.password_hash(rev.id)
    assert rehashed is not None and not stronger.needs_rehash(rehashed)
    with pytest.raises(AuthenticationFailed):
        authenticate(store.unit_of_work(), "rev", "not the password", hasher=stronger, now=NOW)

    issued = issue_token(
        store.unit_of_work(), actor=rev, username="rev", label="t", now=NOW, ttl=timedelta(hours=1)
    )
    assert resolve_token(store.unit_of_work(), issued.token, NOW + timedelta(minutes=59)) == rev
    with pytest.raises(AuthenticationFailed):
        resolve_token(store.unit_of_work(), issued.token, NOW + timedelta(hours=1))
    revoke_token(store.unit_of_work(), issued.token, actor=rev, now=NOW + timedelta(minutes=1))
    with pytest.raises(AuthenticationFailed):
        resolve_token(store.unit_of_work(), issued.token, NOW + timedelta(minutes=2))

    with store.unit_of_work() as uow:
        events = list(uow.audit.list(actor=rev.id))
    assert [(e.action, e.reason) for e in events] == [
        (AuditAction.LOGIN, "login"),
        (AuditAction.LOGIN, "login failed"),
        (AuditAction.CREATE, "issue token"),
        (AuditAction.UPDATE, "revoke token"),
    ]


def test_member_reads_and_refusals_are_audited_on_the_store(store: SqlStore) -> None:
    members = FakeMembers()
    members.add("M00012345", "Ada", "Lovelace", date(1990, 4, 2), organizations=["ORG-A"])
    own = create_user(
        store.unit_of_work(), actor="system:test", username="prov-a", display_name="A",
        roles=[Role.PROVIDER_USER], password=None, hasher=HASHER, now=NOW, organization_id="ORG-A",
    )  # fmt: skip
    other = create_user(
        store.unit_of_work(), actor="system:test", username="prov-b", display_name="B",
        roles=[Role.PROVIDER_USER], password=None, hasher=HASHER, now=NOW, organization_id="ORG-B",
    )  # fmt: skip
    auditor = create_user(
        store.unit_of_work(), actor="system:test", username="aud", display_name="Aud",
        roles=[Role.AUDITOR], password=None, hasher=HASHER, now=NOW,
    )  # fmt: skip

    def read(user: User) -> MemberSummary:
        return view_member(
            store.unit_of_work(), user, "M00012345", members=lambda _: members, scopes=lambda _: members,
            now=NOW, reason="portal",
        )  # fmt: skip

    assert read(own).last_name == "Lovelace"
    with pytest.raises(PermissionDenied):
        read(other)
    trail = list_audit_events(store.unit_of_work(), auditor, now=NOW, member_id="M00012345")
    assert [(e.action, e.actor) for e in trail] == [
        (AuditAction.READ, own.id),
        (AuditAction.REFUSE, other.id),
    ]


def test_api_over_the_store(store: SqlStore) -> None:
    members = FakeMembers()
    members.add("M00012345", "Ada", "Lovelace", date(1990, 4, 2), organizations=["ORG-A"])
    create_user(
        store.unit_of_work(), actor="system:test", username="rev", display_name="Rev",
        roles=[Role.CLINICAL_REVIEWER], password=PASSWORD, hasher=HASHER, now=NOW,
    )  # fmt: skip
    clock = MutableClock(NOW)
    app = create_app(
        ApiDependencies(
            uow_factory=store.unit_of_work,
            clock=clock,
            settings=Settings.from_env({}),
            password_hasher=HASHER,
            members=lambda _: members,
            scopes=lambda _: members,
        )
    )
    with TestClient(app) as client:
        token = client.post("/auth/token", json={"username": "rev", "password": PASSWORD}).json()["token"]
        headers = {"Authorization": f"Bearer {token}"}
        assert client.get("/members/M00012345", headers=headers).status_code == 200
        assert client.get("/audit", headers=headers).status_code == 403
        clock.advance(timedelta(days=30))
        assert client.get("/me", headers=headers).status_code == 401
    with store.unit_of_work() as uow:
        actions = [e.action for e in uow.audit.list(member_id="M00012345")]
    assert actions == [AuditAction.READ]
