"""Decision clocks: when a decision, a form or an outreach is due, and by which rule.

Every deadline in the rule catalog (REG-01, REG-03, IOP-12, IOP-13, OPM-04, TCM-07) is a pure
function of a start instant, an amount and a unit. Amounts are inputs: the numbers below are the
catalog's documented defaults, and the authoritative values come from policy packs. No wall clock
is read here; ``now`` is always an argument. Conventions are written down in docs/clocks.md.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from typing import Literal, get_args
from zoneinfo import ZoneInfo

from bhum.domain.calendar import (
    add_business_days,
    add_calendar_days,
    add_hours,
    business_days_between,
    end_of_day,
    is_business_day,
    local_date,
    next_business_day,
    require_aware,
    start_of_day,
)
from bhum.domain.errors import InputError

__all__ = [
    "DECISION_CLOCKS",
    "IOP12_DECISION",
    "IOP13_LEAD_DAYS",
    "OPM04_FORM_DAYS",
    "REG01_EXPEDITED",
    "REG01_STANDARD",
    "REG03_NON_URGENT_PRE_SERVICE",
    "REG03_POST_SERVICE",
    "REG03_URGENT_CONCURRENT",
    "REG03_URGENT_CONCURRENT_MEDICARE_MEDICAID",
    "REG03_URGENT_PRE_SERVICE",
    "TCM07_OUTREACH",
    "TCM07_OUTREACH_BUSINESS_DAYS",
    "ClockRule",
    "ClockStatus",
    "ClockUnit",
    "ContinuingRequestTiming",
    "Deadline",
    "LineOfBusiness",
    "ReviewKind",
    "Urgency",
    "add_business_days",
    "add_calendar_days",
    "add_hours",
    "applicable_rules",
    "business_days_between",
    "clock_rule_from_mapping",
    "clock_status",
    "date_deadline",
    "deadline",
    "decision_due",
    "end_of_day",
    "form_deadline",
    "form_due",
    "is_business_day",
    "is_form_late",
    "local_date",
    "next_business_day",
    "outreach_due",
    "start_of_day",
    "strictest",
    "time_to_decision",
]

Urgency = Literal["expedited", "standard"]
ReviewKind = Literal["pre_service", "concurrent", "post_service"]
LineOfBusiness = Literal["commercial", "medicaid", "medicare"]
ClockStatus = Literal["on_time", "due_soon", "overdue"]

URGENCIES: frozenset[str] = frozenset(get_args(Urgency))
REVIEW_KINDS: frozenset[str] = frozenset(get_args(ReviewKind))
LINES_OF_BUSINESS: frozenset[str] = frozenset(get_args(LineOfBusiness))


def _utc(moment: datetime) -> datetime:
    # Python compares and subtracts datetimes sharing one tzinfo by wall time, ignoring DST and fold;
    # instants are only comparable in UTC.
    return moment.astimezone(UTC)


class ClockUnit(StrEnum):
    CALENDAR_DAYS = "calendar_days"  # same local wall time N days later
    HOURS = "hours"  # elapsed time
    BUSINESS_DAYS = "business_days"  # end of the Nth business day after the start date


def _check_scope(
    values: Iterable[str], allowed: frozenset[str], *, field: str, record: str
) -> frozenset[str]:
    if isinstance(values, str):
        # A bare string would iterate into letters; a scope is always a collection.
        values = (values,)
    scope = frozenset(values)
    unknown = sorted(scope - allowed)
    if unknown:
        raise InputError(
            f"unknown value(s) {', '.join(unknown)}; expected some of {', '.join(sorted(allowed))}",
            field=field,
            record=record,
        )
    return scope


@dataclass(frozen=True, slots=True)
class ClockRule:
    """A deadline rule: ``amount`` ``unit`` from the start, citing a rule-catalog ID.

    The optional scope says which requests the rule governs; an empty scope means "every request".
    ``effective_from`` is the first local date (plan zone) on which received requests are covered.
    """

    rule_id: str
    amount: int
    unit: ClockUnit
    label: str
    urgencies: frozenset[str] = field(default_factory=frozenset)
    review_kinds: frozenset[str] = field(default_factory=frozenset)
    lines_of_business: frozenset[str] = field(default_factory=frozenset)
    effective_from: date | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.rule_id, str) or not self.rule_id.strip():
            raise InputError("a clock rule needs a rule ID from the catalog", field="rule_id")
        record = self.rule_id
        if isinstance(self.amount, bool) or not isinstance(self.amount, int) or self.amount < 0:
            raise InputError(
                f"the amount must be a whole number ≥ 0, got {self.amount!r}", field="amount", record=record
            )
        try:
            unit = ClockUnit(self.unit)
        except ValueError as exc:
            raise InputError(
                f"unknown clock unit {self.unit!r}; expected one of {', '.join(u.value for u in ClockUnit)}",
                field="unit",
                record=record,
            ) from exc
        if not isinstance(self.label, str) or not self.label.strip():
            raise InputError("a clock rule needs a label", field="label", record=record)
        if self.effective_from is not None and (
            isinstance(self.effective_from, datetime) or not isinstance(self.effective_from, date)
        ):
            raise InputError("effective_from must be a calendar date", field="effective_from", record=record)
        # Frozen dataclass: normalise in place once, at construction.
        object.__setattr__(self, "unit", unit)
        object.__setattr__(
            self, "urgencies", _check_scope(self.urgencies, URGENCIES, field="urgencies", record=record)
        )
        object.__setattr__(
            self,
            "review_kinds",
            _check_scope(self.review_kinds, REVIEW_KINDS, field="review_kinds", record=record),
        )
        object.__setattr__(
            self,
            "lines_of_business",
            _check_scope(self.lines_of_business, LINES_OF_BUSINESS, field="lines_of_business", record=record),
        )

    def applies_to(
        self, *, urgency: str, review_kind: str, line_of_business: str, received_on: date | None = None
    ) -> bool:
        """Whether this rule governs a request of this kind received on ``received_on`` (local date)."""
        if self.urgencies and urgency not in self.urgencies:
            return False
        if self.review_kinds and review_kind not in self.review_kinds:
            return False
        if self.lines_of_business and line_of_business not in self.lines_of_business:
            return False
        return not (
            self.effective_from is not None and received_on is not None and received_on < self.effective_from
        )


@dataclass(frozen=True, slots=True)
class Deadline:
    """When something is due, which rule set it, and when its clock started (both timezone-aware)."""

    due: datetime
    rule_id: str
    label: str
    started: datetime

    def __post_init__(self) -> None:
        require_aware(self.due, field="due", record=self.rule_id)
        require_aware(self.started, field="started", record=self.rule_id)
        if _utc(self.due) < _utc(self.started):
            raise InputError(
                f"due {self.due.isoformat()} is before the clock started {self.started.isoformat()}",
                field="due",
                record=self.rule_id,
            )


# Catalog defaults. Policy packs supply the authoritative amounts; these document the catalog.
_PA = frozenset({"pre_service", "concurrent"})  # requests decided before the service is furnished
_GOVERNMENT = frozenset({"medicaid", "medicare"})

# REG-01: CMS-0057-F binds impacted payers (Medicare Advantage, Medicaid, CHIP, QHPs on the FFEs)
# from 2026-01-01. A commercial product that is an impacted QHP adds these rules through its pack.
REG01_EXPEDITED = ClockRule(
    "REG-01",
    72,
    ClockUnit.HOURS,
    "CMS-0057-F expedited prior authorization decision",
    urgencies=frozenset({"expedited"}),
    review_kinds=_PA,
    lines_of_business=_GOVERNMENT,
    effective_from=date(2026, 1, 1),
)
REG01_STANDARD = ClockRule(
    "REG-01",
    7,
    ClockUnit.CALENDAR_DAYS,
    "CMS-0057-F standard prior authorization decision",
    urgencies=frozenset({"standard"}),
    review_kinds=_PA,
    lines_of_business=_GOVERNMENT,
    effective_from=date(2026, 1, 1),
)
# REG-03: NCQA UM timeliness. A non-urgent concurrent request is decided on the non-urgent
# pre-service timeframe (NCQA treats it as a new pre-service request).
REG03_URGENT_CONCURRENT = ClockRule(
    "REG-03",
    24,
    ClockUnit.HOURS,
    "NCQA urgent concurrent review decision",
    urgencies=frozenset({"expedited"}),
    review_kinds=frozenset({"concurrent"}),
    lines_of_business=frozenset({"commercial"}),
)
REG03_URGENT_CONCURRENT_MEDICARE_MEDICAID = ClockRule(
    "REG-03",
    72,
    ClockUnit.HOURS,
    "NCQA urgent concurrent review decision (Medicare/Medicaid)",
    urgencies=frozenset({"expedited"}),
    review_kinds=frozenset({"concurrent"}),
    lines_of_business=_GOVERNMENT,
)
REG03_URGENT_PRE_SERVICE = ClockRule(
    "REG-03",
    72,
    ClockUnit.HOURS,
    "NCQA urgent pre-service decision",
    urgencies=frozenset({"expedited"}),
    review_kinds=frozenset({"pre_service"}),
)
REG03_NON_URGENT_PRE_SERVICE = ClockRule(
    "REG-03",
    15,
    ClockUnit.CALENDAR_DAYS,
    "NCQA non-urgent pre-service decision",
    urgencies=frozenset({"standard"}),
    review_kinds=_PA,
)
REG03_POST_SERVICE = ClockRule(
    "REG-03",
    30,
    ClockUnit.CALENDAR_DAYS,
    "NCQA post-service decision",
    review_kinds=frozenset({"post_service"}),
)
# IOP-12 governs IOP requests only; the caller adds it when the request is for IOP.
IOP12_DECISION = ClockRule(
    "IOP-12",
    14,
    ClockUnit.CALENDAR_DAYS,
    "IOP request decision",
    review_kinds=_PA,
)
TCM07_OUTREACH_BUSINESS_DAYS = 2
TCM07_OUTREACH = ClockRule(
    "TCM-07",
    TCM07_OUTREACH_BUSINESS_DAYS,
    ClockUnit.BUSINESS_DAYS,
    "Aggressive outreach after a missed appointment or contact",
)
OPM04_FORM_DAYS = 30
IOP13_LEAD_DAYS = 14

# The regulatory decision clocks every request is checked against; service rules (IOP-12) and
# stricter state limits are added by the caller.
DECISION_CLOCKS: tuple[ClockRule, ...] = (
    REG01_EXPEDITED,
    REG01_STANDARD,
    REG03_URGENT_CONCURRENT,
    REG03_URGENT_CONCURRENT_MEDICARE_MEDICAID,
    REG03_URGENT_PRE_SERVICE,
    REG03_NON_URGENT_PRE_SERVICE,
    REG03_POST_SERVICE,
)


def deadline(start: datetime, rule: ClockRule, *, tz: ZoneInfo, holidays: frozenset[date]) -> Deadline:
    """The deadline ``rule`` sets for a clock started at ``start``, expressed in the plan's zone."""
    require_aware(start, field="start", record=rule.rule_id)
    started = start.astimezone(tz)
    if rule.unit is ClockUnit.HOURS:
        due = add_hours(started, rule.amount).astimezone(tz)
    elif rule.unit is ClockUnit.CALENDAR_DAYS:
        due = add_calendar_days(started, rule.amount, tz)
    else:
        due = add_business_days(started, rule.amount, tz=tz, holidays=holidays)
    return Deadline(due=due, rule_id=rule.rule_id, label=rule.label, started=started)


def strictest(deadlines: Iterable[Deadline]) -> Deadline:
    """The earliest-due deadline governs; ties go to the lowest rule ID, then label (deterministic)."""
    candidates = list(deadlines)
    if not candidates:
        raise InputError("no deadlines to compare", field="deadlines")
    return min(candidates, key=lambda d: (_utc(d.due), d.rule_id, d.label, _utc(d.started)))


def _check_literal(value: str, allowed: frozenset[str], *, field: str) -> str:
    if value not in allowed:
        raise InputError(
            f"unknown {field} {value!r}; expected one of {', '.join(sorted(allowed))}", field=field
        )
    return value


def applicable_rules(
    rules: Iterable[ClockRule],
    *,
    urgency: Urgency,
    review_kind: ReviewKind,
    line_of_business: LineOfBusiness,
    received_on: date | None = None,
) -> tuple[ClockRule, ...]:
    """The rules whose scope covers this request (unscoped rules always do)."""
    _check_literal(urgency, URGENCIES, field="urgency")
    _check_literal(review_kind, REVIEW_KINDS, field="review_kind")
    _check_literal(line_of_business, LINES_OF_BUSINESS, field="line_of_business")
    return tuple(
        rule
        for rule in rules
        if rule.applies_to(
            urgency=urgency,
            review_kind=review_kind,
            line_of_business=line_of_business,
            received_on=received_on,
        )
    )


def decision_due(
    received: datetime,
    *,
    urgency: Urgency,
    review_kind: ReviewKind,
    line_of_business: LineOfBusiness,
    applicable: Iterable[ClockRule] = DECISION_CLOCKS,
    tz: ZoneInfo,
    holidays: frozenset[date],
) -> Deadline:
    """When the decision on a request is due: the strictest of the rules that govern it.

    ``applicable`` is the candidate set (by default the REG-01/REG-03 catalog; add IOP-12 for IOP
    requests and any shorter state limit). Each candidate's scope is matched against the request,
    including its effective date, and the earliest due wins; the result names the rule that set it.
    """
    require_aware(received, field="received")
    rules = applicable_rules(
        applicable,
        urgency=urgency,
        review_kind=review_kind,
        line_of_business=line_of_business,
        received_on=local_date(received, tz, field="received"),
    )
    if not rules:
        raise InputError(
            f"no decision clock applies to a {urgency} {review_kind} request for {line_of_business}",
            field="applicable",
        )
    return strictest(deadline(received, rule, tz=tz, holidays=holidays) for rule in rules)


def time_to_decision(received: datetime, decided: datetime) -> timedelta:
    """Elapsed time from receipt to decision (REG-02 reports its average and median)."""
    require_aware(received, field="received")
    require_aware(decided, field="decided")
    if _utc(decided) < _utc(received):
        raise InputError(
            f"decided {decided.isoformat()} before the request was received {received.isoformat()}",
            field="decided",
        )
    return _utc(decided) - _utc(received)


def clock_status(deadline: Deadline, now: datetime, *, warn_within: timedelta) -> ClockStatus:
    """``overdue`` once ``now`` is past ``due``; ``due_soon`` within ``warn_within`` of it (``now ==
    due`` is still due_soon: due is the last on-time instant); otherwise ``on_time``."""
    require_aware(now, field="now")
    if warn_within < timedelta(0):
        raise InputError("the warning window cannot be negative", field="warn_within")
    remaining = _utc(deadline.due) - _utc(now)
    if remaining < timedelta(0):
        return "overdue"
    if remaining <= warn_within:
        return "due_soon"
    return "on_time"


def date_deadline(start_day: date, due_day: date, *, rule_id: str, label: str, tz: ZoneInfo) -> Deadline:
    """A Deadline for a date-based clock: started at the start of ``start_day``, due at the end of
    ``due_day`` (local, plan zone)."""
    return Deadline(
        due=end_of_day(due_day, tz), rule_id=rule_id, label=label, started=start_of_day(start_day, tz)
    )


def _days(amount: int, *, field: str) -> int:
    if isinstance(amount, bool) or not isinstance(amount, int) or amount < 0:
        raise InputError(f"must be a whole number of days ≥ 0, got {amount!r}", field=field)
    return amount


def form_due(letter_date: date, days: int = OPM04_FORM_DAYS) -> date:
    """OPM-04: the last day the Clinical Update Request Form may be returned (letter date + days).

    The letter date is day zero: a letter dated 2026-03-02 with 30 days is due 2026-04-01.
    """
    if isinstance(letter_date, datetime) or not isinstance(letter_date, date):
        raise InputError(f"expected the letter date, got {letter_date!r}", field="letter_date")
    return letter_date + timedelta(days=_days(days, field="days"))


def is_form_late(returned: date, letter_date: date, days: int = OPM04_FORM_DAYS) -> bool:
    """OPM-04/OPM-07: returned after the due date (returning it on the due date is on time)."""
    if isinstance(returned, datetime) or not isinstance(returned, date):
        raise InputError(f"expected the date the form was returned, got {returned!r}", field="returned")
    return returned > form_due(letter_date, days)


def form_deadline(letter_date: date, *, tz: ZoneInfo, days: int = OPM04_FORM_DAYS) -> Deadline:
    """OPM-04 as a Deadline: due at the end of ``form_due`` in the plan's zone."""
    return date_deadline(
        letter_date,
        form_due(letter_date, days),
        rule_id="OPM-04",
        label="Clinical Update Request Form return",
        tz=tz,
    )


def outreach_due(
    missed: datetime,
    *,
    tz: ZoneInfo,
    holidays: frozenset[date],
    business_days: int = TCM07_OUTREACH_BUSINESS_DAYS,
) -> Deadline:
    """TCM-07: aggressive outreach by the end of the 2nd business day after a missed appointment."""
    rule = ClockRule("TCM-07", business_days, ClockUnit.BUSINESS_DAYS, TCM07_OUTREACH.label)
    return deadline(missed, rule, tz=tz, holidays=holidays)


@dataclass(frozen=True, slots=True)
class ContinuingRequestTiming:
    """IOP-13: submit a continuing-service request at least ``lead_days`` before the authorization
    expires. ``auth_end`` is the last authorized day (inclusive); the latest on-time submission date
    is ``auth_end - lead_days``: exactly 14 days before is on time, 13 days before is late."""

    lead_days: int = IOP13_LEAD_DAYS
    rule_id: str = "IOP-13"
    label: str = "Continuing-service request submission"

    def __post_init__(self) -> None:
        _days(self.lead_days, field="lead_days")

    def latest_submission(self, auth_end: date) -> date:
        if isinstance(auth_end, datetime) or not isinstance(auth_end, date):
            raise InputError(f"expected the authorization end date, got {auth_end!r}", field="auth_end")
        return auth_end - timedelta(days=self.lead_days)

    def is_late(self, submitted: date, auth_end: date) -> bool:
        if isinstance(submitted, datetime) or not isinstance(submitted, date):
            raise InputError(f"expected the submission date, got {submitted!r}", field="submitted")
        return submitted > self.latest_submission(auth_end)

    def deadline(self, auth_start: date, auth_end: date, *, tz: ZoneInfo) -> Deadline:
        """The submission clock runs from the authorization's first day to the latest submission date.

        An authorization shorter than ``lead_days`` has its latest submission before it starts; the
        deadline is then due at the end of the first day (already as late as it can be on time)."""
        latest = max(self.latest_submission(auth_end), auth_start)
        return date_deadline(auth_start, latest, rule_id=self.rule_id, label=self.label, tz=tz)


def clock_rule_from_mapping(
    data: Mapping[str, object], *, source: str | None = None, record: str | int | None = None
) -> ClockRule:
    """Build a ClockRule from parsed pack data (YAML/JSON), naming the file, record and field on error.

    Keys: rule_id, amount, unit, label; optional urgencies, review_kinds, lines_of_business (lists)
    and effective_from (ISO date).
    """
    try:
        missing = [key for key in ("rule_id", "amount", "unit", "label") if key not in data]
        if missing:
            raise InputError(f"missing {', '.join(missing)}", field=missing[0])
        unknown = sorted(
            set(data)
            - {
                "rule_id",
                "amount",
                "unit",
                "label",
                "urgencies",
                "review_kinds",
                "lines_of_business",
                "effective_from",
            }
        )
        if unknown:
            raise InputError(f"unknown key(s) {', '.join(unknown)}", field=unknown[0])
        scopes: dict[str, frozenset[str]] = {}
        for key in ("urgencies", "review_kinds", "lines_of_business"):
            raw = data.get(key, [])
            if not isinstance(raw, list | tuple | frozenset | set) or not all(
                isinstance(v, str) for v in raw
            ):
                raise InputError("expected a list of names", field=key)
            scopes[key] = frozenset(raw)
        effective = data.get("effective_from")
        effective_from: date | None
        if effective is None:
            effective_from = None
        elif isinstance(effective, date) and not isinstance(effective, datetime):
            effective_from = effective
        elif isinstance(effective, str):
            try:
                effective_from = date.fromisoformat(effective.strip())
            except ValueError as exc:
                raise InputError(
                    f"{effective!r} is not a valid date (expected YYYY-MM-DD)", field="effective_from"
                ) from exc
        else:
            raise InputError(f"expected a date, got {effective!r}", field="effective_from")
        rule_id, amount, unit, label = data["rule_id"], data["amount"], data["unit"], data["label"]
        if not isinstance(rule_id, str):
            raise InputError("expected a rule ID", field="rule_id")
        if isinstance(amount, bool) or not isinstance(amount, int):
            raise InputError(f"expected a whole number, got {amount!r}", field="amount")
        try:
            clock_unit = ClockUnit(str(unit))
        except ValueError as exc:
            raise InputError(
                f"unknown clock unit {unit!r}; expected one of {', '.join(u.value for u in ClockUnit)}",
                field="unit",
            ) from exc
        if not isinstance(label, str):
            raise InputError("expected a label", field="label")
        return ClockRule(
            rule_id,
            amount,
            clock_unit,
            label,
            urgencies=scopes["urgencies"],
            review_kinds=scopes["review_kinds"],
            lines_of_business=scopes["lines_of_business"],
            effective_from=effective_from,
        )
    except InputError as exc:
        raise InputError(
            exc.message,
            field=exc.field,
            record=record if record is not None else exc.record,
            source=source,
        ) from exc
