"""Member directory and scope resolution over any unit of work.

A provider user's organization "serves" a member when one of its NPIs is on the member's service
requests, authorizations or outpatient-management cases, or is the member's PCP. A case manager's
caseload is the open cases assigned to their staff record. Each answer is one indexed query
(``MemberRepository.served_by_organization`` / ``on_caseload``).

Within one HTTP request the same scope question is asked more than once (the route's access check,
then the service's own check); ``scope_answers_reused()`` keeps the answers that allowed access for the
rest of that request, so the scope is resolved once. Refusals are never kept (they are asked again)
and nothing outlives the request."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from bhum.services.access import MemberSummary
from bhum.services.unit_of_work import UnitOfWork

# (question, who, member) -> True, for the current request only. The dict is shared by the threads a
# request's handlers run in (they run in a copy of the request's context).
_ANSWERS: ContextVar[dict[tuple[str, str, str], bool] | None] = ContextVar("bhum_scope_answers", default=None)


@contextmanager
def scope_answers_reused() -> Iterator[None]:
    """Inside, a scope answer that allowed access is reused instead of asked again (one request)."""
    token = _ANSWERS.set({})
    try:
        yield
    finally:
        _ANSWERS.reset(token)


@dataclass(frozen=True, slots=True)
class UowMemberDirectory:
    uow: UnitOfWork

    def get_summary(self, member_id: str) -> MemberSummary | None:
        member = self.uow.members.get(member_id)
        if member is None:
            return None
        # The member's coverage comes with it; the newest span names the plan.
        spans = member.coverage
        plan_id = max(spans, key=lambda s: s.span.start).plan_id if spans else None
        return MemberSummary(
            member_id=member.member_id,
            first_name=member.first_name,
            last_name=member.last_name,
            birth_date=member.birth_date,
            plan_id=plan_id,
        )


@dataclass(frozen=True, slots=True)
class UowScopeResolver:
    uow: UnitOfWork

    def _answer(self, question: str, who: str, member_id: str) -> bool:
        answers = _ANSWERS.get()
        key = (question, who, member_id)
        if answers is not None and answers.get(key):
            return True
        if question == "organization":
            found = self.uow.members.served_by_organization(member_id, who)
        else:
            found = self.uow.members.on_caseload(member_id, who)
        if found and answers is not None:
            answers[key] = True
        return found

    def organization_serves_member(self, organization_id: str, member_id: str) -> bool:
        return self._answer("organization", organization_id, member_id)

    def on_caseload(self, staff_id: str, member_id: str) -> bool:
        return self._answer("caseload", staff_id, member_id)
