"""Member directory and scope resolution over any unit of work.

A provider user's organization "serves" a member when one of its NPIs is on the member's service
requests, authorizations or outpatient-management cases, or is the member's PCP. A case manager's
caseload is the open cases assigned to their staff record."""

from __future__ import annotations

from dataclasses import dataclass

from bhum.services.access import MemberSummary
from bhum.services.unit_of_work import UnitOfWork


@dataclass(frozen=True, slots=True)
class UowMemberDirectory:
    uow: UnitOfWork

    def get_summary(self, member_id: str) -> MemberSummary | None:
        member = self.uow.members.get(member_id)
        if member is None:
            return None
        spans = self.uow.coverage.for_member(member_id)
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

    def _organization_of(self, npi: str | None) -> str | None:
        if not npi:
            return None
        provider = self.uow.providers.get(npi)
        return provider.organization_id if provider else None

    def organization_serves_member(self, organization_id: str, member_id: str) -> bool:
        npis: set[str] = set()
        for request in self.uow.service_requests.for_member(member_id):
            npis.update((request.requesting_provider_npi, request.servicing_provider_npi))
        npis.update(a.provider_npi for a in self.uow.authorizations.for_member(member_id))
        npis.update(c.provider_npi for c in self.uow.cases.for_member(member_id) if c.provider_npi)
        member = self.uow.members.get(member_id)
        if member is not None and member.pcp_npi:
            npis.add(member.pcp_npi)
        return any(self._organization_of(npi) == organization_id for npi in npis)

    def on_caseload(self, staff_id: str, member_id: str) -> bool:
        return any(case.member_id == member_id for case in self.uow.cases.for_staff(staff_id))
