"""`bhum users add|list|token|passwd` over the in-memory store."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from typer.testing import CliRunner

from bhum.adapters.passwords import Argon2PasswordHasher
from bhum.domain.access import AuditAction
from bhum.entrypoints.cli.users import app
from bhum.services.access import authenticate, resolve_token
from tests.fakes import FakeDatabase, MutableClock

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
PASSWORD = "correct horse battery staple"


@dataclass
class Deps:
    uow_factory: object
    clock: MutableClock
    password_hasher: Argon2PasswordHasher


@pytest.fixture
def db() -> FakeDatabase:
    return FakeDatabase()


@pytest.fixture
def deps(db: FakeDatabase) -> Deps:
    return Deps(db.unit_of_work, MutableClock(NOW), Argon2PasswordHasher.fast_for_tests())


def run(deps: Deps, *args: str, stdin: str | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, list(args), obj=deps, input=stdin)
    return result.exit_code, result.stdout, result.stderr


def test_add_list_token_passwd(db: FakeDatabase, deps: Deps) -> None:
    code, out, _ = run(
        deps, "add", "rev1", "--role", "clinical_reviewer", "--password-stdin", stdin=PASSWORD + "\n"
    )
    assert code == 0 and "added rev1" in out
    assert (
        authenticate(db.unit_of_work(), "rev1", PASSWORD, hasher=deps.password_hasher, now=NOW).username
        == "rev1"
    )
    assert db.audit[0].actor == "system:cli" and db.audit[0].action is AuditAction.CREATE

    code, out, _ = run(deps, "list")
    assert code == 0 and out.startswith("rev1\t") and "clinical_reviewer" in out

    code, out, err = run(deps, "token", "rev1", "--label", "batch", "--days", "7")
    assert code == 0 and "expires 2026-03-09" in err
    token = out.strip()
    assert resolve_token(db.unit_of_work(), token, NOW).username == "rev1"

    code, out, _ = run(deps, "passwd", "rev1", "--password-stdin", stdin="another long password\n")
    assert code == 0
    user = authenticate(
        db.unit_of_work(), "rev1", "another long password", hasher=deps.password_hasher, now=NOW
    )
    assert user.username == "rev1"


def test_provider_user_without_organization_is_refused(db: FakeDatabase, deps: Deps) -> None:
    code, _, err = run(deps, "add", "prov1", "--role", "provider_user", "--no-password")
    assert code == 1 and "organization_id" in err
    assert db.tables.users == {}
    code, _, _ = run(
        deps, "add", "prov1", "--role", "provider_user", "--organization", "ORG-A", "--no-password"
    )
    assert code == 0


def test_unknown_role_and_unknown_user_fail(deps: Deps) -> None:
    code, _, _ = run(deps, "add", "x1x", "--role", "superuser", "--no-password")
    assert code == 2
    code, _, err = run(deps, "token", "ghost")
    assert code == 1 and "ghost" in err


def test_without_a_store_the_commands_explain(deps: Deps) -> None:
    result = CliRunner().invoke(app, ["list"], obj=None)
    assert result.exit_code == 2 and "no store configured" in result.stderr
