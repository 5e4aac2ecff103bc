"""The unit of work: one transaction over the repositories. Services take one and never see the
database. ``bhum.adapters.store`` provides the SQLAlchemy implementation; tests may use fakes.

Repositories for members, coverage, providers, staff, requests, authorizations, cases, letters and
tasks are added beside the access ones below as the domain grows.
"""

from __future__ import annotations

import abc
from collections.abc import Sequence
from datetime import datetime
from types import TracebackType
from typing import Protocol, Self

from bhum.domain.access import ApiToken, AuditEvent, User


class UserRepository(Protocol):
    def add(self, user: User, password_hash: str | None) -> None: ...
    def get(self, user_id: str) -> User | None: ...
    def get_by_username(self, username: str) -> User | None: ...
    def password_hash(self, user_id: str) -> str | None: ...
    def set_password_hash(self, user_id: str, password_hash: str) -> None: ...
    def list(self) -> Sequence[User]: ...


class ApiTokenRepository(Protocol):
    def add(self, token: ApiToken) -> None: ...
    def get_by_hash(self, token_hash: str) -> ApiToken | None: ...
    def revoke(self, token_id: str, at: datetime) -> None: ...


class AuditLog(Protocol):
    """Append-only: there is no update or delete."""

    def append(self, event: AuditEvent) -> None: ...
    def list(
        self,
        *,
        member_id: str | None = None,
        actor: str | None = None,
        since: datetime | None = None,
        limit: int = 1000,
    ) -> Sequence[AuditEvent]: ...


class UnitOfWork(abc.ABC):
    users: UserRepository
    api_tokens: ApiTokenRepository
    audit: AuditLog

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        # Nothing half-written: anything not explicitly committed is rolled back.
        self.rollback()

    @abc.abstractmethod
    def commit(self) -> None: ...

    @abc.abstractmethod
    def rollback(self) -> None: ...
