"""The SQLAlchemy unit of work: one session, one transaction, every repository."""

from __future__ import annotations

from types import TracebackType
from typing import Self

from sqlalchemy.orm import Session, sessionmaker

from bhum.adapters.store import repositories as r
from bhum.services.unit_of_work import UnitOfWork


class SqlAlchemyUnitOfWork(UnitOfWork):
    """Use as ``with uow: ...; uow.commit()``. Leaving the block without commit rolls back."""

    session: Session

    def __init__(self, session_factory: sessionmaker[Session]) -> None:
        self.session_factory = session_factory

    def __enter__(self) -> Self:
        self.session = self.session_factory()
        s = self.session
        self.users = r.SqlUserRepository(s)
        self.api_tokens = r.SqlApiTokenRepository(s)
        self.audit = r.SqlAuditLog(s)
        self.plans = r.SqlPlanRepository(s)
        self.members = r.SqlMemberRepository(s)
        self.coverage = r.SqlCoverageRepository(s)
        self.residence = r.SqlResidenceRepository(s)
        self.organizations = r.SqlOrganizationRepository(s)
        self.providers = r.SqlProviderRepository(s)
        self.staff = r.SqlStaffRepository(s)
        self.testing_notices = r.SqlTestingPreauthNoticeRepository(s)
        self.service_requests = r.SqlServiceRequestRepository(s)
        self.authorizations = r.SqlAuthorizationRepository(s)
        self.decisions = r.SqlDecisionRepository(s)
        self.cases = r.SqlCaseRepository(s)
        self.letters = r.SqlLetterRepository(s)
        self.tasks = r.SqlTaskRepository(s)
        return super().__enter__()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            super().__exit__(exc_type, exc, tb)
        finally:
            self.session.close()

    def commit(self) -> None:
        self.session.commit()

    def rollback(self) -> None:
        self.session.rollback()
