"""The provider's internal utilization view (MN-04) with re-authorization reminders (IOP-13).

For each of a provider's authorizations: units authorized, used and remaining; the date units run out
at the current pace (units used per day since the start); and, for authorizations that expire soon, the
continuing-service request to file and its due date (at least ``lead_time`` before expiry, IOP-13).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from bhum.domain.access import AuditAction
from bhum.domain.authorization import Authorization
from bhum.domain.errors import InputError
from bhum.policy import DurationUnit, PackRegistry
from bhum.services.audit import record_access
from bhum.services.unit_of_work import UnitOfWork

LEAD_TIME_RULE = "iop.continuing-request-timing"


@dataclass(frozen=True, slots=True)
class AuthorizationUse:
    authorization_id: str
    member_id: str
    service_codes: tuple[str, ...]
    status: str
    start: date
    end: date | None
    units_authorized: int
    units_used: int
    units_remaining: int
    units_per_day: float | None  # the current pace; None before the start or with no use yet
    runs_out_on: date | None  # the day units run out at the current pace (None: they do not)
    continuing_request_due: date | None  # IOP-13: file the continuing-service request by this day
    continuing_request: str | None  # what to file, in words; None when not within the window


def lead_time_days(registry: PackRegistry) -> int:
    lead = registry.duration(LEAD_TIME_RULE, "lead_time")
    if lead.unit is not DurationUnit.CALENDAR_DAYS:
        raise InputError(f"{LEAD_TIME_RULE}.lead_time must be in calendar days", field="lead_time")
    return lead.amount


def authorization_use(auth: Authorization, today: date, lead_days: int) -> AuthorizationUse:
    """Units, pace, run-out date and the IOP-13 reminder of one authorization on ``today``."""
    elapsed = (min(today, auth.span.end or today) - auth.span.start).days + 1
    pace = auth.units_used / elapsed if elapsed > 0 and auth.units_used > 0 else None
    remaining = auth.units_remaining
    runs_out: date | None = None
    if pace is not None and auth.is_active:
        # The last unit is used on the day the running total reaches the authorization.
        runs_out = today + timedelta(days=max(math.ceil(remaining / pace), 0))
        if auth.span.end is not None and runs_out > auth.span.end:
            runs_out = None  # units last past the end of the span
    due: date | None = None
    request: str | None = None
    if auth.is_active and auth.span.end is not None:
        due_on = auth.span.end - timedelta(days=lead_days)
        # Within the window: the due date is at most one lead time away (or already passed, still unexpired).
        if today <= auth.span.end and (due_on - today).days <= lead_days:
            due = due_on
            late = " (overdue)" if today > due_on else ""
            request = (
                f"IOP-13: file a continuing-service request for authorization {auth.authorization_id} "
                f"by {due_on.isoformat()}{late}, at least {lead_days} days before it expires on "
                f"{auth.span.end.isoformat()}; {remaining} of {auth.units_authorized} units remain"
            )
    return AuthorizationUse(
        authorization_id=auth.authorization_id,
        member_id=auth.member_id,
        service_codes=tuple(c.code for c in auth.service_codes),
        status=auth.status.value,
        start=auth.span.start,
        end=auth.span.end,
        units_authorized=auth.units_authorized,
        units_used=auth.units_used,
        units_remaining=remaining,
        units_per_day=round(pace, 3) if pace is not None else None,
        runs_out_on=runs_out,
        continuing_request_due=due,
        continuing_request=request,
    )


def provider_utilization(
    uow: UnitOfWork,
    npi: str,
    *,
    registry: PackRegistry,
    actor: str,
    now: datetime,
    reason: str,
) -> Sequence[AuthorizationUse]:
    """The provider's authorizations with units, pace and IOP-13 reminders; the read is audited."""
    if not (len(npi) == 10 and npi.isdigit()):
        raise InputError(f"{npi!r} is not a 10-digit NPI", field="npi")
    lead = lead_time_days(registry)
    today = now.date()
    with uow:
        rows = sorted(
            (authorization_use(a, today, lead) for a in uow.authorizations.for_provider(npi)),
            key=lambda u: (u.end or date.max, u.authorization_id),
        )
        record_access(
            uow,
            actor,
            AuditAction.READ,
            "provider_utilization",
            npi,
            None,
            reason,
            now,
            detail={"authorizations": str(len(rows))},
        )
        uow.commit()
    return rows
