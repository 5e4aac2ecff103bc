"""Dashboard figures: decision timeliness against each clock, the CMS-0057-F public metrics (REG-02),
outpatient-management flags by rule over time (OPM-03) and units used against units authorized (MN-04).

The computations are pure functions over small fact records (``DecisionFact``, ``ClockFact``,
``FlagFact``, ``UnitsFact``) so they can be tested at each rule's boundary without a store.
``collect_dashboard`` gathers those facts through a unit of work and is the one function the pages
call: it checks ``reports.read`` and records the report read in the audit trail (aggregates only; no
member data leaves this module).
"""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.json as pa_json

from bhum.domain.access import AuditAction, Permission, Role, User
from bhum.domain.authorization import DecisionOutcome, Urgency
from bhum.domain.cases import CaseProgram
from bhum.domain.documentation_audit import audit_note, audit_plan
from bhum.domain.errors import InputError, NotFound, PermissionDenied
from bhum.domain.values import CPT, HCPCS, REVENUE, Code
from bhum.services.access import ScopeResolver, authorize, authorize_member_access
from bhum.services.audit import record_access
from bhum.services.care_records import CareUnitOfWork
from bhum.services.opm_records import OpmCaseState
from bhum.services.unit_of_work import UnitOfWork
from bhum.services.utilization import AuthorizationUse, authorization_use

# REG-02 counts partial approvals as approvals (the service was authorized) and administrative
# denials as denials (the request was not authorized); pended and withdrawn requests have no
# determination yet and are left out.
APPROVED_OUTCOMES = frozenset({DecisionOutcome.APPROVED, DecisionOutcome.PARTIALLY_APPROVED})
DENIED_OUTCOMES = frozenset({DecisionOutcome.DENIED, DecisionOutcome.ADMINISTRATIVE_DENIAL})
FINAL_OUTCOMES = APPROVED_OUTCOMES | DENIED_OUTCOMES
MEMBER_PAGE = 500  # members read per store round trip while gathering facts


@dataclass(frozen=True, slots=True)
class DecisionFact:
    """One prior-authorization request with its first determination (REG-02)."""

    request_id: str
    urgency: Urgency
    outcome: DecisionOutcome
    received_at: datetime
    decided_at: datetime
    approved_after_appeal: bool = False  # an appeal overturned (wholly or partly) a denial
    extended: bool = False  # decided under a timeframe extension (bhum grants none today)

    def __post_init__(self) -> None:
        if self.received_at.tzinfo is None or self.decided_at.tzinfo is None:
            raise InputError(
                "decision times must carry a time zone", field="decided_at", record=self.request_id
            )
        if self.decided_at < self.received_at:
            raise InputError(
                "a decision cannot precede its request", field="decided_at", record=self.request_id
            )

    @property
    def hours_to_decision(self) -> float:
        return (self.decided_at - self.received_at).total_seconds() / 3600.0


@dataclass(frozen=True, slots=True)
class UrgencyMetrics:
    """REG-02 figures for one urgency (standard or expedited). Percentages are of determinations."""

    urgency: Urgency
    determinations: int
    approved_pct: float | None
    denied_pct: float | None
    approved_after_appeal_pct: float | None
    approved_after_extension_pct: float | None
    average_hours: float | None
    median_hours: float | None


@dataclass(frozen=True, slots=True)
class Reg02Metrics:
    first: date
    last: date
    standard: UrgencyMetrics
    expedited: UrgencyMetrics


def _pct(part: int, whole: int) -> float | None:
    return round(100.0 * part / whole, 1) if whole else None


def _urgency_metrics(urgency: Urgency, facts: Sequence[DecisionFact]) -> UrgencyMetrics:
    final = [f for f in facts if f.urgency is urgency and f.outcome in FINAL_OUTCOMES]
    total = len(final)
    hours = [f.hours_to_decision for f in final]
    return UrgencyMetrics(
        urgency=urgency,
        determinations=total,
        approved_pct=_pct(sum(f.outcome in APPROVED_OUTCOMES for f in final), total),
        denied_pct=_pct(sum(f.outcome in DENIED_OUTCOMES for f in final), total),
        approved_after_appeal_pct=_pct(sum(f.approved_after_appeal for f in final), total),
        approved_after_extension_pct=_pct(
            sum(f.extended and f.outcome in APPROVED_OUTCOMES for f in final), total
        ),
        average_hours=round(statistics.fmean(hours), 1) if hours else None,
        median_hours=round(statistics.median(hours), 1) if hours else None,
    )


def reg02_metrics(facts: Iterable[DecisionFact], *, first: date, last: date) -> Reg02Metrics:
    """REG-02 public metrics for determinations made from ``first`` to ``last`` (inclusive, by the
    decision's calendar date in its own time zone)."""
    if last < first:
        raise InputError("the reporting period ends before it starts", field="last")
    within = [f for f in facts if first <= f.decided_at.date() <= last]
    return Reg02Metrics(
        first=first,
        last=last,
        standard=_urgency_metrics(Urgency.STANDARD, within),
        expedited=_urgency_metrics(Urgency.EXPEDITED, within),
    )


# --- timeliness against each clock ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ClockFact:
    """A request's decision clock: when it was due, by which rule, and when (if) it was decided."""

    request_id: str
    rule_id: str  # REG-01, REG-03, IOP-12 ... whichever clock was strictest
    label: str
    due_at: datetime
    decided_at: datetime | None


@dataclass(frozen=True, slots=True)
class ClockTimeliness:
    rule_id: str
    label: str
    on_time: int = 0  # decided at or before due_at
    late: int = 0  # decided after due_at
    open_within: int = 0  # undecided, due_at still ahead
    open_overdue: int = 0  # undecided and past due_at

    @property
    def decided(self) -> int:
        return self.on_time + self.late

    @property
    def on_time_pct(self) -> float | None:
        return _pct(self.on_time, self.decided)


def timeliness_by_clock(facts: Iterable[ClockFact], *, now: datetime) -> list[ClockTimeliness]:
    """Counts per clock rule. A decision exactly at ``due_at`` is on time; an open request exactly at
    ``due_at`` is not yet overdue."""
    if now.tzinfo is None:
        raise InputError("now must carry a time zone", field="now")
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    labels: dict[str, str] = {}
    for fact in facts:
        labels.setdefault(fact.rule_id, fact.label)
        if fact.decided_at is not None:
            counts[fact.rule_id]["on_time" if fact.decided_at <= fact.due_at else "late"] += 1
        else:
            counts[fact.rule_id]["open_overdue" if now > fact.due_at else "open_within"] += 1
    return [
        ClockTimeliness(
            rule_id=rule,
            label=labels[rule],
            on_time=c["on_time"],
            late=c["late"],
            open_within=c["open_within"],
            open_overdue=c["open_overdue"],
        )
        for rule, c in sorted(counts.items())
    ]


# --- flags by rule over time (OPM-03) ------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FlagFact:
    """An outpatient-management case opened because of clinical-intelligence rules."""

    opened_on: date
    rule_ids: tuple[str, ...]


def flags_by_rule_and_month(facts: Iterable[FlagFact]) -> dict[str, dict[str, int]]:
    """rule id -> {"YYYY-MM": cases opened that month naming the rule}, rules and months sorted."""
    table: dict[str, Counter[str]] = defaultdict(Counter)
    for fact in facts:
        month = f"{fact.opened_on.year:04d}-{fact.opened_on.month:02d}"
        for rule in fact.rule_ids:
            table[rule][month] += 1
    return {rule: dict(sorted(table[rule].items())) for rule in sorted(table)}


# --- units used against units authorized (MN-04) -------------------------------------------------


@dataclass(frozen=True, slots=True)
class UnitsFact:
    service: str  # the first service code of the authorization, e.g. "HCPCS S9480"
    units_authorized: int
    units_used: int


@dataclass(frozen=True, slots=True)
class UnitsByService:
    service: str
    authorizations: int
    units_authorized: int
    units_used: int

    @property
    def used_pct(self) -> float | None:
        return _pct(self.units_used, self.units_authorized)


def units_by_service(facts: Iterable[UnitsFact]) -> list[UnitsByService]:
    grouped: dict[str, list[UnitsFact]] = defaultdict(list)
    for fact in facts:
        if fact.units_authorized < 0 or fact.units_used < 0:
            raise InputError("units cannot be negative", field="units", record=fact.service)
        grouped[fact.service].append(fact)
    return [
        UnitsByService(
            service=service,
            authorizations=len(rows),
            units_authorized=sum(r.units_authorized for r in rows),
            units_used=sum(r.units_used for r in rows),
        )
        for service, rows in sorted(grouped.items())
    ]


# --- gathering facts through a unit of work ------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DashboardFacts:
    decisions: list[DecisionFact] = field(default_factory=list)
    clocks: list[ClockFact] = field(default_factory=list)
    flags: list[FlagFact] = field(default_factory=list)
    units: list[UnitsFact] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Dashboard:
    """Everything the dashboards page shows, for the period [first, last]."""

    now: datetime
    reg02: Reg02Metrics
    timeliness: list[ClockTimeliness]
    flags: dict[str, dict[str, int]]
    units: list[UnitsByService]
    members_scanned: int


def _members(uow: UnitOfWork) -> Iterator[str]:
    offset = 0
    while True:
        page = uow.members.list(limit=MEMBER_PAGE, offset=offset)
        if not page:
            return
        for member in page:
            yield member.member_id
        offset += len(page)


_SYSTEM_NAMES = {HCPCS: "HCPCS", CPT: "CPT", REVENUE: "Revenue"}


def _service_label(codes: Sequence[Code]) -> str:
    """The first service code with its system's short name, e.g. "HCPCS S9480"."""
    if not codes:
        return "unknown"
    return f"{_SYSTEM_NAMES.get(codes[0].system, 'code')} {codes[0].code}"


def gather_facts(uow: UnitOfWork) -> tuple[DashboardFacts, int]:
    """Walk the members in an open unit of work and collect the facts the dashboards need. Uses the
    authorization engine's records (``uow.auth``) for clocks and appeals when the unit of work has
    them."""
    auth = getattr(uow, "auth", None)
    facts = DashboardFacts()
    scanned = 0
    for member_id in _members(uow):
        scanned += 1
        for request in uow.service_requests.for_member(member_id):
            decisions = sorted(uow.decisions.for_request(request.request_id), key=lambda d: d.decided_at)
            final = [d for d in decisions if d.outcome in FINAL_OUTCOMES]
            record = auth.get_request(request.request_id) if auth is not None else None
            if final:
                first = final[0]
                overturned = False
                if auth is not None and first.outcome in DENIED_OUTCOMES:
                    overturned = any(
                        a.outcome is not None and a.outcome.value in {"overturned", "partially_overturned"}
                        for a in auth.appeals_for_request(request.request_id)
                    )
                facts.decisions.append(
                    DecisionFact(
                        request_id=request.request_id,
                        urgency=request.urgency,
                        outcome=first.outcome,
                        received_at=request.received_at,
                        decided_at=max(first.decided_at, request.received_at),
                        approved_after_appeal=overturned,
                    )
                )
            if record is not None:
                decided_at = record.decided_at or (final[0].decided_at if final else None)
                facts.clocks.append(
                    ClockFact(
                        request_id=request.request_id,
                        rule_id=record.due_rule_id,
                        label=record.due_label,
                        due_at=record.due_at,
                        decided_at=decided_at,
                    )
                )
        for authorization in uow.authorizations.for_member(member_id):
            if authorization.units_authorized > 0:
                facts.units.append(
                    UnitsFact(
                        service=_service_label(authorization.service_codes),
                        units_authorized=authorization.units_authorized,
                        units_used=authorization.units_used,
                    )
                )
        for case in uow.cases.for_member(member_id):
            if case.program is CaseProgram.OUTPATIENT_MANAGEMENT and case.rule_ids:
                facts.flags.append(FlagFact(opened_on=case.opened_at.date(), rule_ids=case.rule_ids))
    return facts, scanned


def collect_dashboard(uow: UnitOfWork, viewer: User, *, now: datetime, first: date, last: date) -> Dashboard:
    """The dashboards for ``viewer`` (needs reports.read). The report read is audited once, without a
    member id: only aggregates are returned."""
    if now.tzinfo is None:
        raise InputError("now must carry a time zone", field="now")
    authorize(viewer, Permission.REPORTS_READ)
    with uow:
        facts, scanned = gather_facts(uow)
        record_access(
            uow,
            viewer,
            AuditAction.READ,
            "report",
            "dashboards",
            None,
            "dashboards",
            now,
            detail={"members_scanned": str(scanned)},
        )
        uow.commit()
    return Dashboard(
        now=now,
        reg02=reg02_metrics(facts.decisions, first=first, last=last),
        timeliness=timeliness_by_clock(facts.clocks, now=now),
        flags=flags_by_rule_and_month(facts.flags),
        units=units_by_service(facts.units),
        members_scanned=scanned,
    )


# --- the reviewer work queue ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class QueueItem:
    """One pended request awaiting clinical review, with the clock that governs it."""

    request_id: str
    member_id: str
    received_at: datetime
    due_at: datetime
    due_rule_id: str  # the rule that set the clock (REG-01, REG-03, IOP-12 ...)
    due_label: str
    level_of_care: str
    escalation: int  # 0 none, 1 due soon, 2 overdue (as the clock tick last set it)

    def state(self, now: datetime) -> str:
        """ "overdue" past due_at, "due soon" within a quarter of the clock's span, else "on time"."""
        if now > self.due_at:
            return "overdue"
        if self.due_at - now <= (self.due_at - self.received_at) / 4:
            return "due soon"
        return "on time"


def work_queue(uow: UnitOfWork, viewer: User, *, now: datetime, limit: int = 200) -> list[QueueItem]:
    """Open (pended) requests for clinical review, soonest due first (ties by arrival), for holders of
    request.review. The listing is audited once: it names members."""
    if now.tzinfo is None:
        raise InputError("now must carry a time zone", field="now")
    if not 1 <= limit <= 1000:
        raise InputError("limit must be between 1 and 1000", field="limit")
    authorize(viewer, Permission.REQUEST_REVIEW)
    with uow:
        records = getattr(uow, "auth", None)
        if records is None:
            raise InputError("this unit of work has no authorization records", field="uow")
        items = sorted(
            (
                QueueItem(
                    request_id=r.request_id,
                    member_id=r.member_id,
                    received_at=r.received_at,
                    due_at=r.due_at,
                    due_rule_id=r.due_rule_id,
                    due_label=r.due_label,
                    level_of_care=r.level_of_care,
                    escalation=r.escalation,
                )
                for r in records.open_requests()
            ),
            key=lambda i: (i.due_at, i.received_at, i.request_id),
        )[:limit]
        record_access(
            uow, viewer, AuditAction.READ, "work_queue", "open_requests", None, "work queue", now,
            detail={"listed": str(len(items))},
        )  # fmt: skip
        uow.commit()
    return items


# --- the provider portal -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FormToReturn:
    """An outpatient-management case awaiting (or past) the provider's Clinical Update Request Form."""

    case_id: str
    member_id: str
    provider_npi: str
    letter_date: date
    due_on: date  # OPM-04: 30 days from the letter date
    state: str
    flag_rule_ids: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ProviderPortal:
    organization_id: str
    authorizations: list[AuthorizationUse]
    forms: list[FormToReturn]
    expiring_within_days: int

    def expiring(self, today: date) -> list[AuthorizationUse]:
        """Active authorizations ending within ``expiring_within_days`` of today (IOP-13 lead time)."""
        horizon = today.toordinal() + self.expiring_within_days
        return [
            a
            for a in self.authorizations
            if a.status in {"approved", "partially_approved"}
            and a.end is not None
            and today <= a.end
            and a.end.toordinal() <= horizon
        ]


def _require_provider(viewer: User) -> str:
    if Role.PROVIDER_USER not in viewer.roles or not viewer.organization_id:
        raise PermissionDenied("the provider portal is for provider users of an organization")
    return viewer.organization_id


def provider_portal(
    uow: UnitOfWork, viewer: User, *, now: datetime, today: date, lead_days: int
) -> ProviderPortal:
    """A provider user's organization: its authorizations with units used and remaining, pace and
    continuing-request reminders (MN-04, IOP-13), and the Clinical Update Request Forms it owes
    (OPM-04). Only the organization's own NPIs are read; each member shown is an audited read."""
    organization_id = _require_provider(viewer)
    authorize(viewer, Permission.AUTHORIZATION_READ)
    with uow:
        npis = {p.npi for p in uow.providers.for_organization(organization_id)}
        uses = sorted(
            (
                authorization_use(a, today, lead_days)
                for npi in sorted(npis)
                for a in uow.authorizations.for_provider(npi)
            ),
            key=lambda u: (u.end or date.max, u.authorization_id),
        )
        opm = getattr(uow, "opm", None)
        forms: list[FormToReturn] = []
        if opm is not None:
            for state in (OpmCaseState.AWAITING_FORM, OpmCaseState.IN_REVIEW):
                forms.extend(
                    FormToReturn(
                        case_id=c.case_id,
                        member_id=c.member_id,
                        provider_npi=c.provider_npi,
                        letter_date=c.letter_date,
                        due_on=c.due_on,
                        state=c.state.value,
                        flag_rule_ids=c.flag_rule_ids,
                    )
                    for c in opm.list_cases(state=state, limit=1000)
                    if c.provider_npi in npis
                )
        forms.sort(key=lambda f: (f.due_on, f.case_id))
        for member_id in dict.fromkeys([*(u.member_id for u in uses), *(f.member_id for f in forms)]):
            record_access(
                uow,
                viewer,
                AuditAction.READ,
                "provider_portal",
                organization_id,
                member_id,
                "provider portal",
                now,
            )
        uow.commit()
    return ProviderPortal(organization_id, uses, forms, lead_days)


def form_to_return(uow: UnitOfWork, viewer: User, case_id: str, *, now: datetime) -> FormToReturn:
    """One form the viewer's organization owes (PermissionDenied for another organization's case,
    audited; NotFound for an unknown case)."""
    organization_id = _require_provider(viewer)
    with uow:
        opm = getattr(uow, "opm", None)
        record = opm.get_case(case_id) if opm is not None else None
        if record is None:
            raise NotFound("no such outpatient-management case")
        provider = uow.providers.get(record.provider_npi)
        if provider is None or provider.organization_id != organization_id:
            why = {"why": "case of another provider organization"}
            reason = "clinical update form"
            record_access(
                uow,
                viewer,
                AuditAction.REFUSE,
                "opm_case",
                case_id,
                record.member_id,
                reason,
                now,
                detail=why,
            )
            uow.commit()
            raise PermissionDenied("this case belongs to another provider organization")
        record_access(
            uow, viewer, AuditAction.READ, "opm_case", case_id, record.member_id, "clinical update form", now
        )
        uow.commit()
        return FormToReturn(
            case_id=record.case_id,
            member_id=record.member_id,
            provider_npi=record.provider_npi,
            letter_date=record.letter_date,
            due_on=record.due_on,
            state=record.state.value,
            flag_rule_ids=record.flag_rule_ids,
        )


# --- documentation gaps on a caseload (TCM-09 notes, TCM-10 plans) --------------------------------

RECENT_NOTE_DAYS = 90  # "recent" progress notes: sessions within this many days before today


@dataclass(frozen=True, slots=True)
class NoteGap:
    note_id: str
    session_date: date | None
    missing: tuple[str, ...]  # TCM-09 element names, in the seed's order


@dataclass(frozen=True, slots=True)
class DocumentationGaps:
    """One caseload member's documentation gaps as of ``as_of``."""

    member_id: str
    recent_notes: int  # notes with a session in the last RECENT_NOTE_DAYS days
    note_gaps: tuple[NoteGap, ...]  # TCM-09: recent notes missing an element
    plan_id: str | None  # the service plan in effect on as_of (TCM-10), None when none is
    plan_missing_signatures: tuple[str, ...]  # TCM-10 signatures missing from that plan
    plan_problems: tuple[str, ...]  # every TCM-10 gap of that plan, one sentence each

    @property
    def has_gaps(self) -> bool:
        return bool(self.note_gaps or self.plan_id is None or self.plan_problems)


def documentation_gaps(
    uow: UnitOfWork,
    viewer: User,
    member_ids: Sequence[str],
    *,
    scopes: Callable[[UnitOfWork], ScopeResolver],
    now: datetime,
    as_of: date,
    recent_days: int = RECENT_NOTE_DAYS,
    original_signature_days: int = 30,
) -> list[DocumentationGaps]:
    """TCM-09 / TCM-10 for each member: the elements missing from their recent progress notes (a faxed
    signature whose original is more than ``original_signature_days`` overdue counts as missing), and
    the signatures missing from the service plan in effect on ``as_of`` (no plan in effect is a gap).
    Each member is checked against the viewer's scope (refusals audited) and read once (audited)."""
    if not isinstance(uow, CareUnitOfWork):
        raise InputError("the store keeps no progress notes or service plans", field="uow")
    out: list[DocumentationGaps] = []
    since = as_of - timedelta(days=recent_days)
    with uow:
        resolver = scopes(uow)
        for member_id in dict.fromkeys(member_ids):
            authorize_member_access(
                uow, viewer, Permission.CASE_READ, member_id, scopes=resolver, reason="documentation gaps",
                now=now,
            )  # fmt: skip
            recent = [
                s.note
                for s in uow.progress_notes.for_member(member_id)
                if s.note.session_date is not None and since <= s.note.session_date <= as_of
            ]
            gaps = []
            for note in sorted(recent, key=lambda n: (n.session_date or date.min, n.note_id), reverse=True):
                found = audit_note(note, as_of=as_of, original_signature_days=original_signature_days)
                if found.missing:
                    missing = tuple(e.value for e in found.missing)
                    gaps.append(NoteGap(note.note_id, note.session_date, missing))
            in_effect = [p for p in uow.service_plans.for_members([member_id]) if p.effective.contains(as_of)]
            plan = max(in_effect, key=lambda p: (p.effective.start, p.plan.plan_id), default=None)
            findings = audit_plan(plan.plan) if plan is not None else None
            out.append(
                DocumentationGaps(
                    member_id=member_id,
                    recent_notes=len(recent),
                    note_gaps=tuple(gaps),
                    plan_id=plan.plan.plan_id if plan is not None else None,
                    plan_missing_signatures=tuple(s.value for s in findings.missing_signatures)
                    if findings
                    else (),
                    plan_problems=findings.problems if findings else (),
                )
            )
            record_access(
                uow, viewer, AuditAction.READ, "documentation_gaps", member_id, member_id,
                "documentation gaps", now, detail={"rules": "TCM-09,TCM-10"},
            )  # fmt: skip
        uow.commit()
    return out


# --- claim decisions in the provider portal -------------------------------------------------------

CLAIM_LINE_FIELDS = (
    "claim_id", "claim_line_number", "member_id", "billing_npi", "rendering_npi", "service_date",
    "hcpcs_code", "revenue_center_code", "billed_units", "paid_units", "denied_units", "paid_amount",
    "status", "carc", "rarc", "rule_id", "reason", "authorization_id",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class ClaimDecisions:
    """The newest claim check's lines billed or rendered by the organization's providers."""

    organization_id: str
    check: str | None  # the check's folder name (None: no check on file)
    checked_at: datetime | None
    lines: tuple[dict[str, object], ...]
    total: int  # the organization's lines in that check (``lines`` may be cut at the limit)


def latest_decisions_file(folders: Sequence[Path]) -> Path | None:
    """The newest ``decisions.jsonl`` under the claim-check folders (``<folder>/<check>/`` as the claims
    API writes them, or ``<folder>/`` itself as the demo does)."""
    found = [
        path
        for folder in folders
        if folder.is_dir()
        for path in (folder / "decisions.jsonl", *folder.glob("*/decisions.jsonl"))
        if path.is_file()
    ]
    return max(found, key=lambda p: (p.stat().st_mtime, str(p)), default=None)


def provider_claim_decisions(
    uow: UnitOfWork,
    viewer: User,
    *,
    read_lines: Callable[[frozenset[str]], tuple[Path | None, list[dict[str, object]]]],
    now: datetime,
    limit: int = 200,
) -> ClaimDecisions:
    """A provider user's claim decisions: the lines of the newest claim check whose billing or rendering
    NPI is one of the organization's providers (``read_lines`` is given those NPIs and returns the file
    read and its matching lines). Other organizations' lines are never returned; each member shown is
    an audited read."""
    organization_id = _require_provider(viewer)
    authorize(viewer, Permission.AUTHORIZATION_READ)
    with uow:
        npis = frozenset(p.npi for p in uow.providers.for_organization(organization_id))
        source, rows = read_lines(npis) if npis else (None, [])
        mine = [
            {k: r.get(k) for k in CLAIM_LINE_FIELDS}
            for r in rows
            if r.get("billing_npi") in npis or r.get("rendering_npi") in npis
        ]
        shown = tuple(mine[:limit])
        for member_id in dict.fromkeys(str(r["member_id"]) for r in shown if r.get("member_id")):
            record_access(
                uow, viewer, AuditAction.READ, "claim_decisions", organization_id, member_id,
                "provider portal claim decisions", now,
            )  # fmt: skip
        uow.commit()
    checked_at = datetime.fromtimestamp(source.stat().st_mtime, tz=now.tzinfo) if source else None
    return ClaimDecisions(
        organization_id, source.parent.name if source else None, checked_at, shown, len(mine)
    )


def decision_lines_reader(
    folders: Sequence[Path],
) -> Callable[[frozenset[str]], tuple[Path | None, list[dict[str, object]]]]:
    """``read_lines`` for ``provider_claim_decisions``: the newest decisions file under ``folders``,
    filtered to the NPIs column-wise (Arrow) before any row becomes a Python object."""

    def read(npis: frozenset[str]) -> tuple[Path | None, list[dict[str, object]]]:
        path = latest_decisions_file(folders)
        if path is None:
            return None, []
        try:
            table = pa_json.read_json(path)
        except pa.ArrowInvalid as exc:
            raise InputError(
                f"the claim decisions file cannot be read: {exc}", field="decisions", source=str(path)
            ) from exc
        missing = [c for c in ("billing_npi", "rendering_npi") if c not in table.column_names]
        if missing:
            raise InputError(
                "the claim decisions file lacks the NPI columns", field=missing[0], source=str(path)
            )
        wanted = pa.array(sorted(npis), pa.string())
        keep = pc.or_(
            pc.fill_null(
                pc.is_in(pc.cast(table.column("billing_npi"), pa.string()), value_set=wanted), False
            ),
            pc.fill_null(
                pc.is_in(pc.cast(table.column("rendering_npi"), pa.string()), value_set=wanted), False
            ),
        )
        columns = [c for c in CLAIM_LINE_FIELDS if c in table.column_names]
        return path, table.filter(keep).select(columns).to_pylist()

    return read


def organization_providers(uow: UnitOfWork, viewer: User) -> list[tuple[str, str]]:
    """(NPI, name) of the provider user's organization, for the request form's servicing provider."""
    organization_id = _require_provider(viewer)
    authorize(viewer, Permission.REQUEST_SUBMIT)
    with uow:
        return sorted((p.npi, p.name) for p in uow.providers.for_organization(organization_id))
