"""The authorization engine's use cases: is authorization required, evaluate, submit, decide,
appeal, peer-to-peer, clock ticks and letters (issue 3).

Every use takes a unit of work (or none, for ``evaluate_submission``), the pack registry and the
time; every read or change of member data is recorded with ``record_access`` in the same unit of
work, and a failure anywhere rolls the whole change back (nothing half-stored).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from bhum.domain.access import AuditAction, Permission, User
from bhum.domain.authorization import (
    Authorization,
    Decision,
    DecisionOutcome,
    DecisionReason,
    ReviewKind,
)
from bhum.domain.clinical import TreatmentResponse
from bhum.domain.clocks import Deadline, clock_status, time_to_decision
from bhum.domain.determination import (
    Determination,
    DeterminationOutcome,
    administrative_finding,
    check_may_deny,
    determine,
    similar_licence,
)
from bhum.domain.errors import InputError, InvalidTransition, NotFound, PermissionDenied
from bhum.domain.letters import (
    AppealRights,
    Letter,
    LetterContent,
    LetterDecision,
    LetterKind,
    MemberRef,
    PeerToPeerOffer,
    PlanContact,
    Reason,
    Recipient,
    RecipientKind,
    Reviewer,
    ServiceLine,
    idempotency_key,
)
from bhum.domain.members import CoverageSpan, Plan
from bhum.domain.tasks import Task, TaskKind
from bhum.domain.values import CARC, RARC, Code, DateSpan
from bhum.policy import PackRegistry
from bhum.services.access import ScopeResolver, authorize, authorize_member_access
from bhum.services.audit import actor_id, record_access
from bhum.services.auth_criteria import (
    TESTING as TESTING_RULE,
)
from bhum.services.auth_criteria import (
    RequiredAnswer,
    decision_deadline,
    evaluate_criteria,
    initial_authorization,
    is_covered,
    is_iop,
    required_answer,
)
from bhum.services.auth_records import (
    AppealOutcome,
    AppealRecord,
    LetterJob,
    LetterJobStatus,
    PeerToPeerOutcome,
    PeerToPeerRecord,
    RequestRecord,
    RequestStatus,
    auth_records,
)
from bhum.services.auth_requests import Submission, determination_doc
from bhum.services.unit_of_work import UnitOfWork

AUTO = "system:auto-decision"
HolidayFn = Callable[[date, date], frozenset[date]]
# Builds the scope resolver over the open unit of work (the store answers from the same transaction).
ScopeFactory = Callable[[UnitOfWork], ScopeResolver]


@dataclass(frozen=True, slots=True)
class Engine:
    """What every use case needs: packs, the plan's time zone and the holiday calendar."""

    packs: PackRegistry
    tz: ZoneInfo
    holidays: HolidayFn

    years: dict[int, frozenset[date]] = field(default_factory=dict, compare=False, repr=False)

    def holidays_for(self, moment: datetime) -> frozenset[date]:
        """Holidays of the moment's year and the next (a clock can run into January), cached."""
        found = self.years.get(moment.year)
        if found is None:
            found = self.holidays(date(moment.year, 1, 1), date(moment.year + 1, 12, 31))
            self.years[moment.year] = found
        return found


@dataclass(frozen=True, slots=True)
class Evaluation:
    determination: Determination
    deadline: Deadline
    units: int
    span: DateSpan

    def to_doc(self) -> dict[str, Any]:
        doc = determination_doc(self.determination)
        doc["due"] = {
            "at": self.deadline.due.isoformat(),
            "rule_id": self.deadline.rule_id,
            "label": self.deadline.label,
        }
        doc["units"] = self.units
        doc["span"] = {
            "start": self.span.start.isoformat(),
            "end": None if self.span.end is None else self.span.end.isoformat(),
        }
        return doc


def _check_member_access(
    uow: UnitOfWork,
    actor: User | str,
    permission: Permission,
    member_id: str,
    scopes: ScopeFactory | None,
    now: datetime,
    reason: str,
) -> None:
    if isinstance(actor, User):
        if scopes is None:
            authorize(actor, permission)
        authorize_member_access(
            uow,
            actor,
            permission,
            member_id,
            scopes=scopes(uow) if scopes is not None else _NoScope(),
            reason=reason,
            now=now,
        )


class _NoScope:
    def organization_serves_member(self, organization_id: str, member_id: str) -> bool:
        return False

    def on_caseload(self, staff_id: str, member_id: str) -> bool:
        return False


# -- 1. is authorization required? ---------------------------------------------------------------


def authorization_required(
    uow: UnitOfWork,
    engine: Engine,
    *,
    member_id: str,
    provider_npi: str,
    service: Code,
    on: date,
    actor: User | str,
    now: datetime,
    scopes: ScopeFactory | None = None,
) -> RequiredAnswer:
    """OPM-01 / IOP-14 for a member, provider, service and date; testing only where the plan notified
    the provider or member (testing_preauth_notices). Audited as a read of the member."""
    reason = "authorization required?"
    with uow:
        _check_member_access(uow, actor, Permission.AUTHORIZATION_READ, member_id, scopes, now, reason)
        # The pack answer first; the store is read only for what can change it (hot path, REG-05):
        # one indexed query for the coverage, one more only for testing notices (OPM-01) or the open
        # authorization (IOP-14), then the audit row.
        answer = required_answer(engine.packs, service, on=on, testing_notified=False)
        records = auth_records(uow)
        spans = uow.coverage.for_member(member_id)
        if not spans and uow.members.get(member_id) is None:
            raise NotFound("no such member")
        if answer.criterion == TESTING_RULE:
            coverage = next((c for c in spans if c.span.contains(on)), None)
            notified = coverage is not None and records.testing_notice_applies(
                plan_id=coverage.plan_id, provider_npi=provider_npi, member_id=member_id, on=on
            )
            answer = required_answer(engine.packs, service, on=on, testing_notified=notified)
        elif answer.open_authorization_end is not None:
            start = records.open_authorization_start(member_id=member_id, service=service)
            if start is not None:
                answer = required_answer(
                    engine.packs, service, on=on, testing_notified=False, open_authorization_start=start
                )
        record_access(
            uow,
            actor,
            AuditAction.READ,
            "member",
            member_id,
            member_id,
            reason,
            now,
            detail={"service": service.code},
        )
        uow.commit()
    return answer


# -- 2/3. evaluate and submit --------------------------------------------------------------------


def _evaluate(
    engine: Engine,
    submission: Submission,
    *,
    birth_date: date | None,
    coverage: Sequence[CoverageSpan],
    plan: Plan | None,
    line_of_business: str,
    authorization: Authorization | None = None,
    previous_progress: Sequence[TreatmentResponse] = (),
    assessor_licensed: bool | None = None,
) -> Evaluation:
    request = submission.request
    packs = engine.packs
    iop = is_iop(packs, request.service_codes)
    deadline = decision_deadline(
        packs,
        request,
        line_of_business=line_of_business,
        tz=engine.tz,
        holidays=engine.holidays_for(request.received_at),
        iop=iop,
    )
    span = request.requested_span
    units = request.requested_units
    uncovered = next((c for c in request.service_codes if not is_covered(packs, c)), request.service_codes[0])
    admin = administrative_finding(
        on=span.start,
        coverage=coverage,
        plan=plan,
        service_covered=all(is_covered(packs, c) for c in request.service_codes),
        service=uncovered,
    )
    if admin is not None:
        return Evaluation(determine((), administrative=admin), deadline, units, span)
    answers = [required_answer(packs, c, on=span.start, testing_notified=True) for c in request.service_codes]
    if not any(a.required for a in answers):
        first = answers[0]
        note = DecisionReason(first.rule_id, f"no preauthorization needed: {first.sentence}")
        return Evaluation(determine((), not_required=note), deadline, units, span)
    result = evaluate_criteria(
        packs,
        request,
        submission.program,
        birth_date=birth_date,
        tz=engine.tz,
        authorization=authorization,
        previous_progress=previous_progress,
        assessor_licensed=assessor_licensed
        if assessor_licensed is not None
        else submission.program.assessor_licensed,
    )
    criteria = list(result.criteria)
    if iop and request.review_kind is ReviewKind.PRE_SERVICE:
        units, end, check = initial_authorization(packs, request)
        span = DateSpan(span.start, end)
        criteria.append(check)
    determination = determine(criteria, recommendations=result.recommendations, flags=result.flags)
    return Evaluation(determination, deadline, units, span)


def evaluate_submission(engine: Engine, submission: Submission) -> Evaluation:
    """Evaluate without a store: eligibility comes from the request file (``eligibility``)."""
    e = submission.eligibility
    if e is None:
        raise InputError(
            "evaluate needs the member's eligibility in the file",
            field="eligibility",
            record=submission.request.request_id,
        )
    coverage = [] if e.coverage is None else [CoverageSpan(submission.request.member_id, "FILE", e.coverage)]
    plan = Plan("FILE", "from file", "from file", e.line_of_business, e.bh_benefit, True, engine.tz.key)
    return _evaluate(
        engine,
        submission,
        birth_date=e.birth_date,
        coverage=coverage,
        plan=plan,
        line_of_business=e.line_of_business.value,
    )


@dataclass(frozen=True, slots=True)
class SubmitResult:
    request_id: str
    status: RequestStatus
    evaluation: Evaluation
    authorization_id: str | None
    decision_id: str | None
    letters_queued: int

    def to_doc(self) -> dict[str, Any]:
        return {
            "request_id": self.request_id,
            "status": self.status.value,
            "authorization_id": self.authorization_id,
            "decision_id": self.decision_id,
            "letters_queued": self.letters_queued,
            "determination": self.evaluation.to_doc(),
        }


def submit_request(
    uow: UnitOfWork,
    engine: Engine,
    submission: Submission,
    *,
    actor: User | str,
    now: datetime,
    scopes: ScopeFactory | None = None,
) -> SubmitResult:
    """Store the request, evaluate it, and act: approve automatically (authorization + letters),
    pend to clinical review (task + request-for-information letters), or an administrative denial.
    One transaction: any error leaves nothing behind."""
    request = submission.request
    with uow:
        _check_member_access(
            uow, actor, Permission.REQUEST_SUBMIT, request.member_id, scopes, now, "submit request"
        )
        records = auth_records(uow)
        if request.received_at > now:
            raise InputError(
                "the request is received after now", field="received_at", record=request.request_id
            )
        if uow.service_requests.get(request.request_id) is not None:
            raise InputError("a request with this id exists", field="request_id", record=request.request_id)
        member = uow.members.get(request.member_id)
        if member is None:
            raise InputError("unknown member", field="member.member_id", record=request.request_id)
        known: set[str] = set()
        for name, npi in (
            ("requesting_provider_npi", request.requesting_provider_npi),
            ("servicing_provider_npi", request.servicing_provider_npi),
        ):
            if npi not in known and uow.providers.get(npi) is None:
                raise InputError("unknown provider", field=name, record=request.request_id)
            known.add(npi)
        covering = member.coverage_on(request.requested_span.start)
        plan = uow.plans.get(covering.plan_id) if covering is not None else None
        lob = plan.line_of_business.value if plan is not None else "medicaid"
        authorization = None
        previous: list[TreatmentResponse] = []
        if request.review_kind is ReviewKind.CONCURRENT:
            assert request.related_authorization_id is not None
            authorization = uow.authorizations.get(request.related_authorization_id)
            if authorization is None or authorization.member_id != request.member_id:
                raise InputError(
                    "no such authorization for this member",
                    field="related_authorization_id",
                    record=request.request_id,
                )
            previous = [
                TreatmentResponse(r.progress)
                for r in records.requests_for_authorization(authorization.authorization_id)
                if r.progress
            ]
        latest = request.clinical.latest_risk_assessment()
        licensed = None
        if latest is not None and latest.assessed_by_staff_id:
            staff = uow.staff.get(latest.assessed_by_staff_id)
            licensed = staff.is_licensed_clinician if staff is not None else None
        evaluation = _evaluate(
            engine,
            submission,
            birth_date=member.birth_date,
            coverage=member.coverage,
            plan=plan,
            line_of_business=lob,
            authorization=authorization,
            previous_progress=previous,
            assessor_licensed=licensed,
        )
        uow.service_requests.add(request)
        det = evaluation.determination
        record = RequestRecord(
            request_id=request.request_id,
            member_id=request.member_id,
            status=RequestStatus.PENDED,
            received_at=request.received_at,
            due_at=evaluation.deadline.due,
            due_rule_id=evaluation.deadline.rule_id,
            due_label=evaluation.deadline.label,
            program=submission.program.to_doc(),
            determination=evaluation.to_doc(),
            level_of_care=submission.program.level_of_care,
            progress=submission.program.progress.value if submission.program.progress else None,
            related_authorization_id=request.related_authorization_id,
        )
        auth_id = decision_id = None
        letters = 0
        if det.outcome is DeterminationOutcome.NOT_REQUIRED:
            record.status = RequestStatus.NOT_REQUIRED
            records.add_request(record)
        else:
            auth = Authorization.request(
                authorization_id=f"AUTH-{request.request_id}",
                member_id=request.member_id,
                provider_npi=request.servicing_provider_npi,
                service_codes=request.service_codes,
                span=evaluation.span,
                units_requested=evaluation.units,
                at=request.received_at,
                by=actor_id(actor),
                request_id=request.request_id,
            )
            auth_id = auth.authorization_id
            if det.outcome is DeterminationOutcome.APPROVE:
                auth.approve(at=now, by=AUTO, reason="every criterion met", rule_id="REG-04")
                outcome, status = DecisionOutcome.APPROVED, RequestStatus.APPROVED
            elif det.outcome is DeterminationOutcome.ADMINISTRATIVE_DENIAL:
                assert det.administrative is not None
                auth.deny(at=now, by=AUTO, reason=det.administrative.text, rule_id=det.administrative.rule_id)
                outcome, status = DecisionOutcome.ADMINISTRATIVE_DENIAL, RequestStatus.ADMINISTRATIVE_DENIAL
            else:
                auth.pend(at=now, by=AUTO, reason="open criteria: clinical review", rule_id="REG-04")
                outcome, status = DecisionOutcome.PENDED, RequestStatus.PENDED
            uow.authorizations.add(auth)
            decision = Decision(
                decision_id=f"DEC-{request.request_id}-{outcome.value}",
                request_id=request.request_id,
                outcome=outcome,
                reasons=det.reasons,
                decided_by=AUTO,
                decided_at=now,
                units_approved=evaluation.units if outcome is DecisionOutcome.APPROVED else None,
                approved_span=evaluation.span if outcome is DecisionOutcome.APPROVED else None,
            )
            uow.decisions.add(decision)
            decision_id = decision.decision_id
            record.status = status
            record.authorization_id = auth_id
            if status is not RequestStatus.PENDED:
                record.decided_at = now
                record.time_to_decision_seconds = time_to_decision(request.received_at, now).total_seconds()
            else:
                uow.tasks.add(
                    Task(
                        task_id=f"REVIEW-{request.request_id}",
                        kind=TaskKind.CLINICAL_REVIEW,
                        due_at=evaluation.deadline.due,
                        created_at=now,
                        member_id=request.member_id,
                        request_id=request.request_id,
                        rule_id=evaluation.deadline.rule_id,
                    )
                )
            records.add_request(record)  # written once, complete: the letter jobs refer to it
            letters = queue_letters(
                uow,
                request.request_id,
                decision,
                member_id=request.member_id,
                provider_npi=request.servicing_provider_npi,
                now=now,
            )
        record_access(
            uow,
            actor,
            AuditAction.CREATE,
            "service_request",
            request.request_id,
            request.member_id,
            "submit request",
            now,
            detail={"outcome": det.outcome.value},
        )
        uow.commit()
    return SubmitResult(request.request_id, record.status, evaluation, auth_id, decision_id, letters)


# -- reading -------------------------------------------------------------------------------------


def get_request(
    uow: UnitOfWork, request_id: str, *, actor: User | str, now: datetime, scopes: ScopeFactory | None = None
) -> dict[str, Any]:
    """The request's status, clock, determination, authorization history, decisions, appeals,
    peer-to-peer and letters (audited read)."""
    with uow:
        records = auth_records(uow)
        record = records.get_request(request_id)
        if record is None:
            raise NotFound("no such request")
        _check_member_access(
            uow, actor, Permission.AUTHORIZATION_READ, record.member_id, scopes, now, "view request"
        )
        auth = uow.authorizations.get(record.authorization_id) if record.authorization_id else None
        doc: dict[str, Any] = {
            "request_id": record.request_id,
            "member_id": record.member_id,
            "status": record.status.value,
            "received_at": record.received_at.isoformat(),
            "due": {
                "at": record.due_at.isoformat(),
                "rule_id": record.due_rule_id,
                "label": record.due_label,
            },
            "decided_at": None if record.decided_at is None else record.decided_at.isoformat(),
            "time_to_decision_seconds": record.time_to_decision_seconds,
            "determination": record.determination,
            "authorization": None if auth is None else authorization_doc(auth),
            "decisions": [
                {
                    "decision_id": d.decision_id,
                    "outcome": d.outcome.value,
                    "decided_by": d.decided_by,
                    "decided_at": d.decided_at.isoformat(),
                    "reasons": [{"rule_id": r.rule_id, "text": r.text} for r in d.reasons],
                }
                for d in uow.decisions.for_request(request_id)
            ],
            "appeals": [
                {
                    "appeal_id": a.appeal_id,
                    "outcome": a.outcome.value if a.outcome else None,
                    "reviewer_staff_id": a.reviewer_staff_id,
                }
                for a in records.appeals_for_request(request_id)
            ],
            "peer_to_peer": [
                {
                    "p2p_id": p.p2p_id,
                    "offered_at": p.offered_at.isoformat(),
                    "outcome": p.outcome.value if p.outcome else None,
                }
                for p in records.peer_to_peer_for_request(request_id)
            ],
            "letters": [
                {
                    "letter_id": j.letter_id,
                    "kind": j.kind,
                    "recipient_kind": j.recipient_kind,
                    "status": j.status.value,
                    "file_path": j.file_path,
                }
                for j in records.letter_jobs_for_request(request_id)
            ],
        }
        record_access(
            uow, actor, AuditAction.READ, "service_request", request_id, record.member_id, "view request", now
        )
        uow.commit()
    return doc


def authorization_doc(auth: Authorization) -> dict[str, Any]:
    return {
        "authorization_id": auth.authorization_id,
        "status": auth.status.value,
        "service_codes": [{"system": c.system, "code": c.code} for c in auth.service_codes],
        "span": {
            "start": auth.span.start.isoformat(),
            "end": None if auth.span.end is None else auth.span.end.isoformat(),
        },
        "units_requested": auth.units_requested,
        "units_authorized": auth.units_authorized,
        "units_used": auth.units_used,
        "history": [
            {
                "from": None if h.from_status is None else h.from_status.value,
                "to": h.to_status.value,
                "at": h.at.isoformat(),
                "by": h.by,
                "reason": h.reason,
                "rule_id": h.rule_id,
            }
            for h in auth.history
        ],
    }


# -- 3/4. a reviewer decides ---------------------------------------------------------------------


def decide_request(
    uow: UnitOfWork,
    request_id: str,
    *,
    outcome: DecisionOutcome,
    reviewer: User,
    now: datetime,
    reasons: Sequence[DecisionReason] = (),
    units: int | None = None,
    scopes: ScopeFactory | None = None,
) -> Decision:
    """Approve, partially approve, deny or withdraw a pended request after clinical review.

    A denial needs Permission.REQUEST_DENY and a staff record that is a physician reviewer (REG-04)
    and a specific reason (REG-01). Records the time to decision and queues the letters.
    """
    allowed = {
        DecisionOutcome.APPROVED,
        DecisionOutcome.PARTIALLY_APPROVED,
        DecisionOutcome.DENIED,
        DecisionOutcome.WITHDRAWN,
    }
    if outcome not in allowed:
        raise InputError(
            f"a reviewer decides one of {', '.join(sorted(o.value for o in allowed))}",
            field="outcome",
            record=request_id,
        )
    permission = Permission.REQUEST_DENY if outcome is DecisionOutcome.DENIED else Permission.REQUEST_APPROVE
    with uow:
        records = auth_records(uow)
        record = records.get_request(request_id)
        if record is None:
            raise NotFound("no such request")
        _check_member_access(uow, reviewer, permission, record.member_id, scopes, now, "decide request")
        staff = uow.staff.get(reviewer.staff_id) if reviewer.staff_id else None
        if outcome is DecisionOutcome.DENIED:
            check_may_deny(staff)
        if record.status is not RequestStatus.PENDED or record.authorization_id is None:
            raise InvalidTransition(f"request {request_id} is {record.status.value}, not pended")
        auth = uow.authorizations.get(record.authorization_id)
        request = uow.service_requests.get(request_id)
        assert auth is not None and request is not None
        who = reviewer.id
        text = "; ".join(r.text for r in reasons) or "clinical review"
        licence = ",".join(sorted(c.value for c in staff.credentials)) if staff is not None else None
        if outcome is DecisionOutcome.APPROVED:
            auth.approve(at=now, by=who, reason=text, rule_id="MN-01")
            status = RequestStatus.APPROVED
        elif outcome is DecisionOutcome.PARTIALLY_APPROVED:
            if units is None:
                raise InputError(
                    "a partial approval states the units approved", field="units", record=request_id
                )
            auth.partially_approve(units, at=now, by=who, reason=text, rule_id="MN-01")
            status = RequestStatus.PARTIALLY_APPROVED
        elif outcome is DecisionOutcome.DENIED:
            if not reasons:
                raise InputError(
                    "a denial needs a specific reason naming the criterion (REG-01)",
                    field="reasons",
                    record=request_id,
                )
            auth.deny(at=now, by=who, reason=text, rule_id=reasons[0].rule_id)
            status = RequestStatus.DENIED
        else:
            auth.withdraw(at=now, by=who)
            status = RequestStatus.WITHDRAWN
        uow.authorizations.save(auth)
        decision = Decision(
            decision_id=f"DEC-{request_id}-{outcome.value}",
            request_id=request_id,
            outcome=outcome,
            reasons=tuple(reasons) or (DecisionReason("MN-01", text),),
            decided_by=who,
            decided_at=now,
            units_approved=auth.units_authorized
            if status in (RequestStatus.APPROVED, RequestStatus.PARTIALLY_APPROVED)
            else None,
            approved_span=auth.span
            if status in (RequestStatus.APPROVED, RequestStatus.PARTIALLY_APPROVED)
            else None,
            reviewer_licence=licence,
        )
        if not uow.decisions.add(decision):
            raise InvalidTransition(f"request {request_id} already has a {outcome.value} decision")
        record.status = status
        record.decided_at = now
        record.time_to_decision_seconds = time_to_decision(record.received_at, now).total_seconds()
        record.reviewer_staff_id = reviewer.staff_id
        records.save_request(record)
        task = uow.tasks.get(f"REVIEW-{request_id}")
        if task is not None and task.status.value == "open":
            task.complete(now)
            uow.tasks.save(task)
        if outcome in (DecisionOutcome.DENIED, DecisionOutcome.PARTIALLY_APPROVED):
            # REG-03: the peer-to-peer offer goes with every medical-necessity adverse decision.
            records.add_peer_to_peer(
                PeerToPeerRecord(f"P2P-{request_id}", request_id, now, reviewer.staff_id)
            )
        if outcome is not DecisionOutcome.WITHDRAWN:
            queue_letters(
                uow,
                request_id,
                decision,
                member_id=record.member_id,
                provider_npi=request.servicing_provider_npi,
                now=now,
            )
        record_access(
            uow,
            reviewer,
            AuditAction.UPDATE,
            "service_request",
            request_id,
            record.member_id,
            "decide request",
            now,
            detail={"outcome": outcome.value},
        )
        uow.commit()
    return decision


# -- 7. appeals and peer-to-peer -----------------------------------------------------------------


def file_appeal(
    uow: UnitOfWork,
    request_id: str,
    *,
    reason: str,
    actor: User | str,
    now: datetime,
    scopes: ScopeFactory | None = None,
) -> AppealRecord:
    with uow:
        records = auth_records(uow)
        record = records.get_request(request_id)
        if record is None:
            raise NotFound("no such request")
        _check_member_access(
            uow, actor, Permission.REQUEST_SUBMIT, record.member_id, scopes, now, "file appeal"
        )
        if record.status not in (
            RequestStatus.DENIED,
            RequestStatus.PARTIALLY_APPROVED,
            RequestStatus.ADMINISTRATIVE_DENIAL,
        ):
            raise InvalidTransition(
                f"request {request_id} is {record.status.value}: only an adverse decision is appealed"
            )
        if not reason.strip():
            raise InputError("say why the decision should change", field="reason", record=request_id)
        appeal = AppealRecord(
            f"APL-{request_id}-{len(records.appeals_for_request(request_id)) + 1}",
            request_id,
            now,
            actor_id(actor),
            reason,
            record.reviewer_staff_id,
        )
        records.add_appeal(appeal)
        record_access(
            uow, actor, AuditAction.CREATE, "appeal", appeal.appeal_id, record.member_id, "file appeal", now
        )
        uow.commit()
    return appeal


def decide_appeal(
    uow: UnitOfWork,
    appeal_id: str,
    *,
    outcome: AppealOutcome,
    reviewer: User,
    now: datetime,
    notes: str = "",
    scopes: ScopeFactory | None = None,
) -> AppealRecord:
    """Re-review by a different reviewer with the same or a similar licence. Overturning approves the
    request under a new authorization (a denied authorization is final in the lifecycle)."""
    with uow:
        records = auth_records(uow)
        appeal = records.get_appeal(appeal_id)
        if appeal is None:
            raise NotFound("no such appeal")
        record = records.get_request(appeal.request_id)
        assert record is not None
        _check_member_access(
            uow, reviewer, Permission.REQUEST_REVIEW, record.member_id, scopes, now, "decide appeal"
        )
        if appeal.outcome is not None:
            raise InvalidTransition(f"appeal {appeal_id} is already decided")
        staff = uow.staff.get(reviewer.staff_id) if reviewer.staff_id else None
        if staff is None:
            raise PermissionDenied("an appeal reviewer needs a staff record")
        if appeal.original_reviewer_staff_id is not None:
            if staff.staff_id == appeal.original_reviewer_staff_id:
                raise PermissionDenied("an appeal is re-reviewed by a different reviewer")
            original = uow.staff.get(appeal.original_reviewer_staff_id)
            if original is not None and not similar_licence(original, staff):
                raise PermissionDenied("the appeal reviewer needs the same or a similar licence")
        elif not staff.is_physician_reviewer:
            raise PermissionDenied("an appeal of an automatic decision is reviewed by a physician reviewer")
        appeal.outcome = outcome
        appeal.reviewer_staff_id = staff.staff_id
        appeal.decided_at = now
        appeal.notes = notes
        records.save_appeal(appeal)
        request = uow.service_requests.get(appeal.request_id)
        assert request is not None
        if outcome is AppealOutcome.OVERTURNED:
            old = uow.authorizations.get(record.authorization_id) if record.authorization_id else None
            span = old.span if old is not None else request.requested_span
            units = old.units_requested if old is not None else request.requested_units
            auth = Authorization.request(
                authorization_id=f"AUTH-{appeal_id}",
                member_id=request.member_id,
                provider_npi=request.servicing_provider_npi,
                service_codes=request.service_codes,
                span=span,
                units_requested=units,
                at=now,
                by=reviewer.id,
                request_id=request.request_id,
            )
            auth.approve(
                at=now, by=reviewer.id, reason=f"appeal {appeal_id} overturned the denial", rule_id="REG-03"
            )
            uow.authorizations.add(auth)
            record.authorization_id = auth.authorization_id
            record.status = RequestStatus.APPROVED
            records.save_request(record)
        decision = Decision(
            decision_id=f"DEC-{appeal_id}",
            request_id=appeal.request_id,
            outcome=DecisionOutcome.APPROVED
            if outcome is AppealOutcome.OVERTURNED
            else DecisionOutcome.DENIED,
            reasons=(DecisionReason("REG-03", f"appeal {outcome.value}: {notes or 'appeal review'}"),),
            decided_by=reviewer.id,
            decided_at=now,
        )
        queue_letters(
            uow,
            appeal.request_id,
            decision,
            member_id=record.member_id,
            provider_npi=request.servicing_provider_npi,
            now=now,
            appeal=appeal,
        )
        record_access(
            uow,
            reviewer,
            AuditAction.UPDATE,
            "appeal",
            appeal_id,
            record.member_id,
            "decide appeal",
            now,
            detail={"outcome": outcome.value},
        )
        uow.commit()
    return appeal


def record_peer_to_peer(
    uow: UnitOfWork,
    request_id: str,
    *,
    outcome: PeerToPeerOutcome,
    reviewer: User,
    now: datetime,
    notes: str = "",
    scopes: ScopeFactory | None = None,
) -> PeerToPeerRecord:
    """REG-03: record how the offered peer-to-peer discussion went."""
    with uow:
        records = auth_records(uow)
        record = records.get_request(request_id)
        if record is None:
            raise NotFound("no such request")
        _check_member_access(
            uow, reviewer, Permission.REQUEST_REVIEW, record.member_id, scopes, now, "peer to peer"
        )
        offers = [p for p in records.peer_to_peer_for_request(request_id) if p.outcome is None]
        if not offers:
            raise InvalidTransition(f"request {request_id} has no open peer-to-peer offer")
        offer = offers[0]
        offer.outcome = outcome
        offer.held_at = now
        offer.notes = notes
        records.save_peer_to_peer(offer)
        record_access(
            uow,
            reviewer,
            AuditAction.UPDATE,
            "peer_to_peer",
            offer.p2p_id,
            record.member_id,
            "peer to peer",
            now,
            detail={"outcome": outcome.value},
        )
        uow.commit()
    return offer


# -- 6. clocks -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Escalation:
    request_id: str
    status: str  # due_soon | overdue
    due_at: datetime
    rule_id: str
    task_id: str


def tick_clocks(
    uow: UnitOfWork, *, now: datetime, warn_within: timedelta = timedelta(hours=24)
) -> list[Escalation]:
    """Escalate open requests near or past due: one task per request and level, so running it twice
    at the same time changes nothing (idempotent)."""
    escalations: list[Escalation] = []
    with uow:
        records = auth_records(uow)
        for record in records.open_requests():
            deadline = Deadline(record.due_at, record.due_rule_id, record.due_label, record.received_at)
            status = clock_status(deadline, now, warn_within=warn_within)
            level = {"on_time": 0, "due_soon": 1, "overdue": 2}[status]
            if level <= record.escalation:
                continue
            task_id = f"CLOCK-{record.request_id}-{status}"
            if uow.tasks.get(task_id) is None:
                uow.tasks.add(
                    Task(
                        task_id=task_id,
                        kind=TaskKind.PHYSICIAN_REVIEW if level == 2 else TaskKind.CLINICAL_REVIEW,
                        due_at=record.due_at,
                        created_at=now,
                        escalated=True,
                        member_id=record.member_id,
                        request_id=record.request_id,
                        rule_id=record.due_rule_id,
                    )
                )
            record.escalation = level
            records.save_request(record)
            record_access(
                uow,
                "system:clocks",
                AuditAction.UPDATE,
                "service_request",
                record.request_id,
                record.member_id,
                "clock escalation",
                now,
                detail={"status": status, "rule_id": record.due_rule_id},
            )
            escalations.append(
                Escalation(record.request_id, status, record.due_at, record.due_rule_id, task_id)
            )
        uow.commit()
    return escalations


# -- 8. letters ----------------------------------------------------------------------------------

_KIND = {
    DecisionOutcome.APPROVED: LetterKind.AUTHORIZATION_APPROVAL,
    DecisionOutcome.PARTIALLY_APPROVED: LetterKind.AUTHORIZATION_PARTIAL_APPROVAL,
    DecisionOutcome.DENIED: LetterKind.AUTHORIZATION_DENIAL,
    DecisionOutcome.ADMINISTRATIVE_DENIAL: LetterKind.AUTHORIZATION_DENIAL,
    DecisionOutcome.PENDED: LetterKind.REQUEST_FOR_INFORMATION,
}


def queue_letters(
    uow: UnitOfWork,
    request_id: str,
    decision: Decision,
    *,
    member_id: str,
    provider_npi: str,
    now: datetime,
    appeal: AppealRecord | None = None,
) -> int:
    """Queue one letter per recipient (provider and member) for the decision; the idempotency key
    makes a re-run queue nothing new. Returns how many were queued."""
    kind = LetterKind.APPEAL_DECISION if appeal is not None else _KIND.get(decision.outcome)
    if kind is None:
        return 0
    records = auth_records(uow)
    queued = 0
    for recipient_kind, recipient_id, key in (
        (RecipientKind.PROVIDER, provider_npi, f"provider:{provider_npi}"),
        (RecipientKind.MEMBER, member_id, "member"),
    ):
        letter_id = idempotency_key(kind, request_id, decision.decision_id, key)
        extra = {
            "outcome": decision.outcome.value,
            "appeal_id": appeal.appeal_id if appeal else None,
            "appeal_outcome": appeal.outcome.value if appeal and appeal.outcome else None,
        }
        job = LetterJob(
            letter_id,
            kind.value,
            recipient_kind.value,
            recipient_id,
            member_id,
            request_id,
            decision.decision_id,
            now,
            extra=extra,
        )
        queued += int(records.queue_letter(job))
    return queued


DEFAULT_PLAN_CONTACT = PlanContact(
    name="bhum Synthetic Health Plan",
    phone="1-800-555-0100",
    address_lines=("PO Box 1000", "Tulsa, OK 74100"),
    website="bhum.example",
)
ON_FILE = ("Address on file with the plan",)
APPEAL_TEXT = (
    "If you disagree, you can appeal. Call us or write to us within 60 days. Tell us why you think we "
    "should change the decision. A different reviewer will look at it."
)
EXPEDITED_TEXT = (
    "If waiting could seriously harm your health, ask for a fast appeal. "
    "We decide fast appeals within 72 hours."
)


def letter_content(
    uow: UnitOfWork, job: LetterJob, *, plan: PlanContact = DEFAULT_PLAN_CONTACT, tz: ZoneInfo
) -> LetterContent:
    """Build the letter for a queued job from the stored request, decision, member and provider."""
    request = uow.service_requests.get(job.request_id)
    member = uow.members.get(job.member_id)
    records = auth_records(uow)
    record = records.get_request(job.request_id)
    if request is None or member is None or record is None:
        raise NotFound(f"letter {job.letter_id}: its request or member is gone")
    decision = next(
        (d for d in uow.decisions.for_request(job.request_id) if d.decision_id == job.decision_id), None
    )
    outcome = DecisionOutcome(job.extra.get("outcome") or (decision.outcome.value if decision else "pended"))
    auth = uow.authorizations.get(record.authorization_id) if record.authorization_id else None
    letter_date = job.created_at.astimezone(tz).date()
    name = f"{member.first_name} {member.last_name}"
    if job.recipient_kind == RecipientKind.PROVIDER.value:
        provider = uow.providers.get(job.recipient_id)
        recipient = Recipient(
            RecipientKind.PROVIDER,
            provider.name if provider else "Treating provider",
            ON_FILE,
            npi=job.recipient_id,
        )
    else:
        a = member.address
        address = (
            tuple(x for x in (a.line, " ".join(p for p in (a.city, a.state, a.zip_code) if p)) if x)
            or ON_FILE
        )
        recipient = Recipient(RecipientKind.MEMBER, name, address)
    span = auth.span if auth is not None and auth.span.end is not None else request.requested_span
    units_approved = auth.units_authorized if auth is not None else None
    lines: list[ServiceLine] = []
    for code in request.service_codes:
        service = code if code.display else replace(code, display=f"Service {code.code}")
        requested = auth.units_requested if auth is not None else request.requested_units
        if outcome is DecisionOutcome.APPROVED:
            lines.append(ServiceLine(service, span, "sessions", None, units_approved or requested))
        elif outcome is DecisionOutcome.PARTIALLY_APPROVED:
            lines.append(ServiceLine(service, span, "sessions", requested, units_approved))
        else:
            lines.append(ServiceLine(service, span, "sessions", requested, None))
    reasons = tuple(_reason(r) for r in (decision.reasons if decision else ()))
    reviewer = None
    if record.reviewer_staff_id:
        staff = uow.staff.get(record.reviewer_staff_id)
        if staff is not None:
            reviewer = Reviewer(
                f"{staff.first_name} {staff.last_name}",
                ", ".join(sorted(c.value.replace("_", " ") for c in staff.credentials)),
            )
    appeal_rights = AppealRights(letter_date + timedelta(days=60), APPEAL_TEXT, EXPEDITED_TEXT)
    common: dict[str, Any] = {
        "letter_id": job.letter_id,
        "letter_date": letter_date,
        "plan": plan,
        "recipient": recipient,
        "member": MemberRef(name, member.member_id),
        "reference": job.request_id,
        "service_lines": tuple(lines),
    }
    if job.kind == LetterKind.APPEAL_DECISION.value:
        appeal_outcome = job.extra.get("appeal_outcome") or "upheld"
        decided = {
            "overturned": LetterDecision.OVERTURNED,
            "partially_overturned": LetterDecision.PARTIALLY_OVERTURNED,
        }.get(appeal_outcome, LetterDecision.UPHELD)
        appeal = records.get_appeal(str(job.extra.get("appeal_id")))
        appeal_reviewer = None
        if appeal is not None and appeal.reviewer_staff_id:
            s = uow.staff.get(appeal.reviewer_staff_id)
            if s is not None:
                appeal_reviewer = Reviewer(
                    f"{s.first_name} {s.last_name}",
                    ", ".join(sorted(c.value.replace("_", " ") for c in s.credentials)),
                )
        return LetterContent(
            kind=LetterKind.APPEAL_DECISION,
            decision=decided,
            reasons=reasons,
            reviewer=appeal_reviewer,
            appeal_rights=appeal_rights,
            **common,
        )
    if outcome is DecisionOutcome.APPROVED:
        return LetterContent(
            kind=LetterKind.AUTHORIZATION_APPROVAL, decision=LetterDecision.APPROVED, **common
        )
    if outcome is DecisionOutcome.PENDED:
        open_items = tuple(
            c["sentence"]
            for c in record.determination.get("criteria", [])
            if c["status"] in ("not_met", "unknown")
        ) or ("Clinical information showing the criteria are met.",)
        due = max(record.due_at.astimezone(tz).date(), letter_date + timedelta(days=1))
        return LetterContent(
            kind=LetterKind.REQUEST_FOR_INFORMATION,
            decision=LetterDecision.PENDED,
            requested_information=open_items,
            due_date=due,
            **common,
        )
    p2p = None
    if outcome in (DecisionOutcome.DENIED, DecisionOutcome.PARTIALLY_APPROVED) and reviewer is not None:
        p2p = PeerToPeerOffer(plan.phone, letter_date + timedelta(days=14), reviewer)
    kind = (
        LetterKind.AUTHORIZATION_PARTIAL_APPROVAL
        if outcome is DecisionOutcome.PARTIALLY_APPROVED
        else LetterKind.AUTHORIZATION_DENIAL
    )
    decided = {
        DecisionOutcome.PARTIALLY_APPROVED: LetterDecision.PARTIALLY_APPROVED,
        DecisionOutcome.DENIED: LetterDecision.DENIED,
    }.get(outcome, LetterDecision.ADMINISTRATIVE_DENIAL)
    return LetterContent(
        kind=kind,
        decision=decided,
        reasons=reasons,
        appeal_rights=appeal_rights,
        peer_to_peer=p2p,
        reviewer=reviewer,
        **common,
    )


def _reason(reason: DecisionReason) -> Reason:
    rule = reason.rule_id if reason.rule_id[:2].isalpha() and "-" in reason.rule_id else "MN-01"
    codes = tuple(c for c in ((reason.code,) if reason.code else ()) if c.system in (CARC, RARC))
    criterion = reason.text.split(":", 1)[0] if ":" in reason.text else rule
    return Reason(rule, criterion, reason.text, codes)


LetterWriter = Callable[[LetterContent, Path], Path]


def render_letters(
    uow: UnitOfWork,
    *,
    write: LetterWriter,
    directory: Path,
    now: datetime,
    tz: ZoneInfo,
    limit: int = 500,
    plan: PlanContact = DEFAULT_PLAN_CONTACT,
) -> list[Path]:
    """The batch step: render queued letters to PDF, keep them with the request (letters table)."""
    written: list[Path] = []
    with uow:
        records = auth_records(uow)
        for job in records.queued_letters(limit):
            content = letter_content(uow, job, plan=plan, tz=tz)
            path = write(content, directory)
            uow.letters.add(
                Letter(
                    letter_id=job.letter_id,
                    kind=LetterKind(job.kind),
                    recipient_kind=RecipientKind(job.recipient_kind),
                    recipient_id=job.recipient_id,
                    member_id=job.member_id,
                    template=f"{job.kind}@1",
                    created_at=now,
                    idempotency_key=job.letter_id,
                    request_id=job.request_id,
                    decision_id=job.decision_id,
                    file_path=str(path),
                )
            )
            job.status = LetterJobStatus.RENDERED
            job.rendered_at = now
            job.file_path = str(path)
            records.save_letter_job(job)
            record_access(
                uow,
                "system:letters",
                AuditAction.DISCLOSE,
                "letter",
                job.letter_id,
                job.member_id,
                "letter rendered",
                now,
                detail={"kind": job.kind},
            )
            written.append(path)
        uow.commit()
    return written


def get_authorization(
    uow: UnitOfWork,
    authorization_id: str,
    *,
    actor: User | str,
    now: datetime,
    scopes: ScopeFactory | None = None,
) -> dict[str, Any]:
    """An authorization with its lifecycle history (audited read)."""
    with uow:
        auth = uow.authorizations.get(authorization_id)
        if auth is None:
            raise NotFound("no such authorization")
        _check_member_access(
            uow, actor, Permission.AUTHORIZATION_READ, auth.member_id, scopes, now, "view authorization"
        )
        doc = authorization_doc(auth)
        doc["member_id"] = auth.member_id
        doc["request_id"] = auth.request_id
        record_access(
            uow,
            actor,
            AuditAction.READ,
            "authorization",
            authorization_id,
            auth.member_id,
            "view authorization",
            now,
        )
        uow.commit()
    return doc
