"""The composition root: the one place that wires real adapters into the services.

Entry points (CLI, API, web) call ``bootstrap()`` and use what it returns; nothing else constructs a
store, a clock, a password hasher or a pack registry."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import cached_property
from pathlib import Path

from bhum.adapters.holidays import us_federal_holidays_for_span
from bhum.adapters.logging import configure_logging
from bhum.adapters.passwords import Argon2PasswordHasher
from bhum.adapters.store import BhumSqlUnitOfWork, SqlStore
from bhum.config import Settings
from bhum.policy import PackRegistry, load_packs
from bhum.services.access import PasswordHasher
from bhum.services.directory import UowMemberDirectory, UowScopeResolver
from bhum.services.unit_of_work import UnitOfWork


def system_clock() -> datetime:
    """The only wall-clock read in bhum: everything else is handed the time."""
    return datetime.now(UTC)


@dataclass
class Application:
    """Real adapters, built lazily so that commands which need no database never open one."""

    settings: Settings
    clock: Callable[[], datetime] = system_clock
    password_hasher: PasswordHasher = field(default_factory=Argon2PasswordHasher)

    @cached_property
    def database(self) -> SqlStore:
        if self.settings.database_url.startswith("sqlite:///"):
            self.settings.data_dir.mkdir(parents=True, exist_ok=True)
        return SqlStore(self.settings.database_url)

    def uow_factory(self) -> BhumSqlUnitOfWork:
        # Every part's repositories over one session (see adapters/store/full.py).
        return self.database.unit_of_work()

    @cached_property
    def packs(self) -> PackRegistry:
        return load_packs(self.settings.packs_dir)

    def holidays(self, first: date, last: date) -> frozenset[date]:
        return us_federal_holidays_for_span(first, last)

    @property
    def letters_dir(self) -> Path:
        return self.settings.data_dir / "letters"

    def members(self, uow: UnitOfWork) -> UowMemberDirectory:
        return UowMemberDirectory(uow)

    def scopes(self, uow: UnitOfWork) -> UowScopeResolver:
        return UowScopeResolver(uow)


def bootstrap(
    settings: Settings | None = None, *, json_logs: bool | None = None, log_level: str | None = None
) -> Application:
    """Wire the application. Command-line runs log warnings and errors only unless BHUM_LOG_LEVEL says
    otherwise; the server logs JSON lines at info."""
    settings = settings or Settings.from_env()
    configure_logging(json=bool(json_logs), level=(log_level or settings.log_level).upper())
    return Application(settings=settings)
