"""Users, sign-in, API tokens, the audit trail and the member view, over the in-memory fakes."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from bhum.adapters.passwords import Argon2PasswordHasher
from bhum.domain.access import AuditAction, Role, User
from bhum.domain.errors import InputError, NotFound, PermissionDenied
from bhum.services.access import (
    LOGIN_FAILED,
    AuthenticationFailed,
    authenticate,
    create_user,
    hash_token,
    issue_token,
    list_users,
    resolve_token,
    revoke_token,
    set_password,
    view_member,
)
from bhum.services.audit import list_audit_events, record_access
from tests.fakes import FakeDatabase, FakeMembers

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
PASSWORD = "correct horse battery staple"
HASHER = Argon2PasswordHasher.fast_for_tests()


@pytest.fixture
def db() -> FakeDatabase:
    return FakeDatabase()


def add(db: FakeDatabase, username: str, *roles: Role, **kw: str) -> User:
    return create_user(
        db.unit_of_work(),
        actor="system:test",
        username=username,
        display_name=username.title(),
        roles=roles,
        password=PASSWORD,
        hasher=HASHER,
        now=NOW,
        organization_id=kw.get("org"),
        staff_id=kw.get("staff"),
    )


# --- the fake itself -----------------------------------------------------------------------------


def test_fake_unit_of_work_discards_what_was_not_committed(db: FakeDatabase) -> None:
    uow = db.unit_of_work()
    with uow:
        record_access(uow, "system:test", AuditAction.READ, "member", "M1", "M1", "test", NOW)
    assert db.audit == []
    with uow:
        record_access(uow, "system:test", AuditAction.READ, "member", "M1", "M1", "test", NOW)
        uow.commit()
    assert len(db.audit) == 1


# --- users ---------------------------------------------------------------------------------------


def test_create_user_stores_an_argon2_hash_and_audits(db: FakeDatabase) -> None:
    u = add(db, "intake1", Role.INTAKE)
    stored = db.tables.password_hashes[u.id]
    assert stored is not None and stored.startswith("$argon2id$") and PASSWORD not in stored
    (event,) = db.audit
    assert (event.action, event.entity_type, event.entity_id, event.actor) == (
        AuditAction.CREATE,
        "user",
        u.id,
        "system:test",
    )


def test_provider_user_without_organization_is_refused_at_creation(db: FakeDatabase) -> None:
    with pytest.raises(InputError) as err:
        add(db, "prov1", Role.PROVIDER_USER)
    assert err.value.field == "organization_id"
    assert db.tables.users == {}
    assert add(db, "prov1", Role.PROVIDER_USER, org="ORG-A").organization_id == "ORG-A"


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"username": "Bad Name"}, "username"),
        ({"username": "ab"}, "username"),
        ({"roles": []}, "roles"),
        ({"password": "short"}, "password"),
        ({"display_name": "  "}, "display_name"),
    ],
)
def test_create_user_names_the_bad_field(db: FakeDatabase, kwargs: dict[str, object], field: str) -> None:
    args: dict[str, object] = {
        "username": "okname",
        "display_name": "Ok",
        "roles": [Role.INTAKE],
        "password": PASSWORD,
    } | kwargs
    with pytest.raises(InputError) as err:
        create_user(db.unit_of_work(), actor="system:test", hasher=HASHER, now=NOW, **args)  # type: ignore[arg-type]
    assert err.value.field == field
    assert db.tables.users == {} and db.audit == []


def test_duplicate_username_is_refused(db: FakeDatabase) -> None:
    add(db, "dup", Role.INTAKE)
    with pytest.raises(InputError) as err:
        add(db, "dup", Role.AUDITOR)
    assert err.value.field == "username"


def test_only_user_managers_create_and_list_users(db: FakeDatabase) -> None:
    admin = add(db, "admin", Role.ADMIN)
    reviewer = add(db, "rev", Role.CLINICAL_REVIEWER)
    created = create_user(
        db.unit_of_work(),
        actor=admin,
        username="new1",
        display_name="New",
        roles=[Role.INTAKE],
        password=None,
        hasher=HASHER,
        now=NOW,
    )
    assert created.username == "new1"
    with pytest.raises(PermissionDenied):
        list_users(db.unit_of_work(), actor=reviewer, now=NOW)
    assert db.audit[-1].action is AuditAction.REFUSE and db.audit[-1].actor == reviewer.id
    assert [u.username for u in list_users(db.unit_of_work(), actor=admin, now=NOW)] == [
        "admin",
        "new1",
        "rev",
    ]
    with pytest.raises(InputError):
        list_users(db.unit_of_work(), actor="cron", now=NOW)  # non-user actors are system:<job>


# --- sign-in -------------------------------------------------------------------------------------


def test_authenticate_accepts_the_right_password_and_audits_login(db: FakeDatabase) -> None:
    u = add(db, "rev", Role.CLINICAL_REVIEWER)
    assert authenticate(db.unit_of_work(), "rev", PASSWORD, hasher=HASHER, now=NOW) == u
    last = db.audit[-1]
    assert (last.action, last.actor, last.reason, last.detail["outcome"]) == (
        AuditAction.LOGIN,
        u.id,
        "login",
        "success",
    )


@pytest.mark.parametrize(("username", "password"), [("rev", "wrong password here"), ("nobody", PASSWORD)])
def test_failed_logins_are_audited_without_saying_which_part_failed(
    db: FakeDatabase, username: str, password: str
) -> None:
    add(db, "rev", Role.CLINICAL_REVIEWER)
    with pytest.raises(AuthenticationFailed) as err:
        authenticate(db.unit_of_work(), username, password, hasher=HASHER, now=NOW)
    assert str(err.value) == LOGIN_FAILED
    last = db.audit[-1]
    assert last.action is AuditAction.LOGIN and last.reason == "login failed"
    assert last.detail["outcome"] == "failed"
    assert password not in repr(last)


def test_user_without_password_cannot_sign_in_with_any_password(db: FakeDatabase) -> None:
    create_user(
        db.unit_of_work(),
        actor="system:test",
        username="svc",
        display_name="Service",
        roles=[Role.INTAKE],
        password=None,
        hasher=HASHER,
        now=NOW,
    )
    with pytest.raises(AuthenticationFailed):
        authenticate(db.unit_of_work(), "svc", "", hasher=HASHER, now=NOW)


def test_login_rehashes_a_hash_made_with_older_parameters(db: FakeDatabase) -> None:
    weak = Argon2PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    stronger = Argon2PasswordHasher(time_cost=2, memory_cost=16, parallelism=1)
    u = create_user(
        db.unit_of_work(),
        actor="system:test",
        username="rev",
        display_name="Rev",
        roles=[Role.CLINICAL_REVIEWER],
        password=PASSWORD,
        hasher=weak,
        now=NOW,
    )
    before = db.tables.password_hashes[u.id]
    authenticate(db.unit_of_work(), "rev", PASSWORD, hasher=stronger, now=NOW)
    after = db.tables.password_hashes[u.id]
    assert after != before and after is not None and "t=2" in after and "m=16" in after
    assert not stronger.needs_rehash(after)


def test_set_password_by_self_or_manager_only(db: FakeDatabase) -> None:
    rev = add(db, "rev", Role.CLINICAL_REVIEWER)
    other = add(db, "other", Role.INTAKE)
    set_password(
        db.unit_of_work(), actor=rev, username="rev", password="a new long password", hasher=HASHER, now=NOW
    )
    assert authenticate(db.unit_of_work(), "rev", "a new long password", hasher=HASHER, now=NOW) == rev
    with pytest.raises(PermissionDenied):
        set_password(
            db.unit_of_work(),
            actor=other,
            username="rev",
            password="hijacked password!",
            hasher=HASHER,
            now=NOW,
        )
    with pytest.raises(NotFound):
        set_password(
            db.unit_of_work(), actor="system:cli", username="ghost", password=PASSWORD, hasher=HASHER, now=NOW
        )


# --- tokens --------------------------------------------------------------------------------------


def test_token_is_shown_once_and_stored_only_as_sha256(db: FakeDatabase) -> None:
    u = add(db, "rev", Role.CLINICAL_REVIEWER)
    issued = issue_token(db.unit_of_work(), actor=u, username="rev", label="laptop", now=NOW)
    assert len(issued.token) >= 43
    (stored,) = db.tables.api_tokens.values()
    assert stored.token_hash == hash_token(issued.token) and len(stored.token_hash) == 64
    assert issued.token not in repr(db.tables)
    assert stored.expires_at == NOW + timedelta(days=30) and stored.label == "laptop"
    assert resolve_token(db.unit_of_work(), issued.token, NOW) == u


def test_token_expires_at_its_expiry_instant(db: FakeDatabase) -> None:
    add(db, "rev", Role.CLINICAL_REVIEWER)
    issued = issue_token(
        db.unit_of_work(), actor="system:cli", username="rev", label="x", now=NOW, ttl=timedelta(hours=1)
    )
    just_before = NOW + timedelta(hours=1) - timedelta(microseconds=1)
    assert resolve_token(db.unit_of_work(), issued.token, just_before).username == "rev"
    with pytest.raises(AuthenticationFailed):
        resolve_token(db.unit_of_work(), issued.token, NOW + timedelta(hours=1))


def test_revoked_and_unknown_tokens_are_refused(db: FakeDatabase) -> None:
    u = add(db, "rev", Role.CLINICAL_REVIEWER)
    issued = issue_token(db.unit_of_work(), actor=u, username="rev", label="x", now=NOW, ttl=None)
    assert issued.record.expires_at is None
    revoke_token(db.unit_of_work(), issued.token, actor=u, now=NOW + timedelta(minutes=5))
    with pytest.raises(AuthenticationFailed):
        resolve_token(db.unit_of_work(), issued.token, NOW + timedelta(minutes=6))
    with pytest.raises(AuthenticationFailed):
        resolve_token(db.unit_of_work(), "not-a-token", NOW)
    with pytest.raises(AuthenticationFailed):
        resolve_token(db.unit_of_work(), "", NOW)
    assert db.audit[-1].reason == "revoke token"


def test_only_the_holder_or_a_manager_revokes_a_token(db: FakeDatabase) -> None:
    rev = add(db, "rev", Role.CLINICAL_REVIEWER)
    other = add(db, "other", Role.INTAKE)
    admin = add(db, "admin", Role.ADMIN)
    issued = issue_token(db.unit_of_work(), actor=rev, username="rev", label="x", now=NOW)
    with pytest.raises(PermissionDenied):
        revoke_token(db.unit_of_work(), issued.token, actor=other, now=NOW)
    revoke_token(db.unit_of_work(), issued.token, actor=admin, now=NOW)
    with pytest.raises(AuthenticationFailed):
        resolve_token(db.unit_of_work(), issued.token, NOW)


def test_a_user_cannot_issue_tokens_for_someone_else(db: FakeDatabase) -> None:
    rev = add(db, "rev", Role.CLINICAL_REVIEWER)
    add(db, "admin", Role.ADMIN)
    with pytest.raises(PermissionDenied):
        issue_token(db.unit_of_work(), actor=rev, username="admin", label="x", now=NOW)
    assert db.tables.api_tokens == {}


@pytest.mark.parametrize("ttl", [timedelta(0), timedelta(days=366), timedelta(seconds=-1)])
def test_token_lifetime_is_bounded(db: FakeDatabase, ttl: timedelta) -> None:
    add(db, "rev", Role.CLINICAL_REVIEWER)
    with pytest.raises(InputError) as err:
        issue_token(db.unit_of_work(), actor="system:cli", username="rev", label="x", now=NOW, ttl=ttl)
    assert err.value.field == "ttl"


# --- audit ---------------------------------------------------------------------------------------


def test_record_access_needs_an_aware_time_and_a_reason(db: FakeDatabase) -> None:
    uow = db.unit_of_work()
    with uow, pytest.raises(InputError) as err:
        record_access(uow, "system:x", AuditAction.READ, "member", "M1", "M1", "r", datetime(2026, 1, 1))
    assert err.value.field == "now"
    with uow, pytest.raises(InputError) as err:
        record_access(uow, "system:x", AuditAction.READ, "member", "M1", "M1", "", NOW)
    assert err.value.field == "reason"


def test_audit_log_is_listed_only_with_audit_read_and_the_listing_is_audited(db: FakeDatabase) -> None:
    auditor = add(db, "aud", Role.AUDITOR)
    admin = add(db, "admin", Role.ADMIN)
    with pytest.raises(PermissionDenied):
        list_audit_events(db.unit_of_work(), admin, now=NOW)
    refused = db.audit[-1]
    assert refused.action is AuditAction.REFUSE and refused.entity_type == "audit_log"
    events = list_audit_events(db.unit_of_work(), auditor, now=NOW, actor=admin.id)
    assert [e.action for e in events] == [AuditAction.REFUSE]
    listing = db.audit[-1]
    assert listing.action is AuditAction.READ and listing.actor == auditor.id
    with pytest.raises(InputError):
        list_audit_events(db.unit_of_work(), auditor, now=NOW, limit=0)


# --- member view ---------------------------------------------------------------------------------


@pytest.fixture
def members() -> FakeMembers:
    m = FakeMembers()
    m.add("M00012345", "Ada", "Lovelace", date(1990, 4, 2), organizations=["ORG-A"], case_managers=["S1"])
    return m


def test_view_member_audits_the_read(db: FakeDatabase, members: FakeMembers) -> None:
    rev = add(db, "rev", Role.CLINICAL_REVIEWER)
    got = view_member(
        db.unit_of_work(), rev, "M00012345", members=lambda _: members, scopes=lambda _: members,
        now=NOW, reason="concurrent review",
    )  # fmt: skip
    assert got.last_name == "Lovelace"
    last = db.audit[-1]
    assert (last.action, last.member_id, last.entity_type, last.reason) == (
        AuditAction.READ,
        "M00012345",
        "member",
        "concurrent review",
    )


def test_view_member_refuses_and_audits_a_provider_from_another_organization(
    db: FakeDatabase, members: FakeMembers
) -> None:
    other = add(db, "prov", Role.PROVIDER_USER, org="ORG-Z")
    with pytest.raises(PermissionDenied):
        view_member(
            db.unit_of_work(), other, "M00012345", members=lambda _: members, scopes=lambda _: members,
            now=NOW, reason="portal",
        )  # fmt: skip
    last = db.audit[-1]
    assert (last.action, last.member_id, last.actor) == (AuditAction.REFUSE, "M00012345", other.id)
    assert last.detail["permission"] == "member.read"


def test_view_unknown_member_is_not_found_and_recorded(db: FakeDatabase, members: FakeMembers) -> None:
    rev = add(db, "rev", Role.CLINICAL_REVIEWER)
    with pytest.raises(NotFound):
        view_member(
            db.unit_of_work(), rev, "M404", members=lambda _: members, scopes=lambda _: members,
            now=NOW, reason="lookup",
        )  # fmt: skip
    assert db.audit[-1].detail["outcome"] == "not found"
