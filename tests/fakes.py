"""In-memory fakes of the unit of work and the data protocols services need.

``FakeDatabase`` holds what has been committed; each ``FakeUnitOfWork`` works on a private copy taken
when it is entered, so uncommitted changes are invisible to other units of work and vanish on
rollback, as with the real store. Build one database per test and hand ``db.unit_of_work`` to the code
under test as its ``uow_factory``.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Self

from bhum.domain.access import ApiToken, AuditEvent, User
from bhum.services.access import MemberSummary
from bhum.services.unit_of_work import UnitOfWork


@dataclass
class _Tables:
    users: dict[str, User] = field(default_factory=dict)
    password_hashes: dict[str, str | None] = field(default_factory=dict)
    api_tokens: dict[str, ApiToken] = field(default_factory=dict)
    audit: list[AuditEvent] = field(default_factory=list)


class FakeUserRepository:
    def __init__(self, tables: _Tables) -> None:
        self._t = tables

    def add(self, user: User, password_hash: str | None) -> None:
        if user.id in self._t.users:
            raise ValueError(f"duplicate user id {user.id}")
        if any(u.username == user.username for u in self._t.users.values()):
            raise ValueError(f"duplicate username {user.username}")
        self._t.users[user.id] = user
        self._t.password_hashes[user.id] = password_hash

    def get(self, user_id: str) -> User | None:
        return self._t.users.get(user_id)

    def get_by_username(self, username: str) -> User | None:
        return next((u for u in self._t.users.values() if u.username == username), None)

    def password_hash(self, user_id: str) -> str | None:
        return self._t.password_hashes.get(user_id)

    def set_password_hash(self, user_id: str, password_hash: str) -> None:
        if user_id not in self._t.users:
            raise KeyError(user_id)
        self._t.password_hashes[user_id] = password_hash

    def list(self) -> Sequence[User]:
        return list(self._t.users.values())


class FakeApiTokenRepository:
    def __init__(self, tables: _Tables) -> None:
        self._t = tables

    def add(self, token: ApiToken) -> None:
        if token.id in self._t.api_tokens:
            raise ValueError(f"duplicate token id {token.id}")
        self._t.api_tokens[token.id] = token

    def get_by_hash(self, token_hash: str) -> ApiToken | None:
        return next((t for t in self._t.api_tokens.values() if t.token_hash == token_hash), None)

    def revoke(self, token_id: str, at: datetime) -> None:
        self._t.api_tokens[token_id] = replace(self._t.api_tokens[token_id], revoked_at=at)


class FakeAuditLog:
    """Append-only, like the real one: no update, no delete."""

    def __init__(self, tables: _Tables) -> None:
        self._t = tables

    def append(self, event: AuditEvent) -> None:
        self._t.audit.append(event)

    def list(
        self,
        *,
        member_id: str | None = None,
        actor: str | None = None,
        since: datetime | None = None,
        limit: int = 1000,
    ) -> Sequence[AuditEvent]:
        rows = [
            e
            for e in self._t.audit  # oldest first, as the SQL store returns them
            if (member_id is None or e.member_id == member_id)
            and (actor is None or e.actor == actor)
            and (since is None or e.at >= since)
        ]
        return rows[:limit]


class FakeDatabase:
    """The committed state shared by every unit of work made from it."""

    def __init__(self) -> None:
        self.tables = _Tables()
        self.commits = 0
        self.rollbacks = 0

    def unit_of_work(self) -> FakeUnitOfWork:
        return FakeUnitOfWork(self)

    @property
    def audit(self) -> list[AuditEvent]:
        """Committed audit events, oldest first."""
        return list(self.tables.audit)


class FakeUnitOfWork(UnitOfWork):
    def __init__(self, db: FakeDatabase) -> None:
        self._db = db
        self._begin()

    def _begin(self) -> None:
        self._working = copy.deepcopy(self._db.tables)
        self.users = FakeUserRepository(self._working)
        self.api_tokens = FakeApiTokenRepository(self._working)
        self.audit = FakeAuditLog(self._working)

    def __enter__(self) -> Self:
        self._begin()
        return self

    def commit(self) -> None:
        self._db.tables = copy.deepcopy(self._working)
        self._db.commits += 1

    def rollback(self) -> None:
        self._begin()
        self._db.rollbacks += 1


class FakeMembers:
    """Both a ``MemberDirectory`` and a ``ScopeResolver``: members, which organizations serve them and
    which case managers (by staff id) carry them on their caseload."""

    def __init__(self) -> None:
        self.members: dict[str, MemberSummary] = {}
        self.served_by: dict[str, set[str]] = {}
        self.caseload: dict[str, set[str]] = {}

    def add(
        self,
        member_id: str,
        first_name: str,
        last_name: str,
        birth_date: date,
        *,
        organizations: Sequence[str] = (),
        case_managers: Sequence[str] = (),
    ) -> MemberSummary:
        summary = MemberSummary(member_id, first_name, last_name, birth_date, plan_id="PLAN-A")
        self.members[member_id] = summary
        self.served_by[member_id] = set(organizations)
        self.caseload[member_id] = set(case_managers)
        return summary

    def get_summary(self, member_id: str) -> MemberSummary | None:
        return self.members.get(member_id)

    def organization_serves_member(self, organization_id: str, member_id: str) -> bool:
        return organization_id in self.served_by.get(member_id, set())

    def on_caseload(self, staff_id: str, member_id: str) -> bool:
        return staff_id in self.caseload.get(member_id, set())


class MutableClock:
    """A clock tests move by hand: ``clock()`` returns the time, ``clock.advance(...)`` moves it."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("the clock needs a time zone aware start")
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> None:
        self.now = self.now + delta
