"""Cases (OPM-04/06/07) and tasks (TCM-07)."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from itertools import product

import pytest

from bhum.domain.cases import Case, CaseProgram, CaseStatus, DueDate
from bhum.domain.errors import InputError, InvalidTransition
from bhum.domain.tasks import Task, TaskKind, TaskStatus

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=timezone(timedelta(hours=-6)))
C = CaseStatus
LEGAL = {
    (C.OPEN, C.AWAITING_INFORMATION),
    (C.OPEN, C.IN_REVIEW),
    (C.OPEN, C.CLOSED),
    (C.AWAITING_INFORMATION, C.IN_REVIEW),
    (C.AWAITING_INFORMATION, C.CLOSED),
    (C.IN_REVIEW, C.AWAITING_INFORMATION),
    (C.IN_REVIEW, C.CLOSED),
}


def _case(status: CaseStatus = C.OPEN) -> Case:
    return Case("C1", "M1", CaseProgram.OUTPATIENT_MANAGEMENT, T0, status=status)


@pytest.mark.parametrize(("start", "to"), sorted(product(C, C)), ids=str)
def test_case_transitions(start: CaseStatus, to: CaseStatus) -> None:
    case = _case(start)
    if (start, to) in LEGAL:
        case.move_to(to, at=T0, reason="form returned")
        assert case.status is to
    else:
        with pytest.raises(InvalidTransition):
            case.move_to(to, at=T0)
        assert case.status is start


def test_opm04_form_due_date_is_overdue_the_day_after() -> None:
    case = _case()
    case.add_due_date(DueDate("clinical update form", date(2026, 4, 1), "OPM-04"))
    assert case.overdue_on(date(2026, 4, 1)) == ()
    assert [d.rule_id for d in case.overdue_on(date(2026, 4, 2))] == ["OPM-04"]
    case.move_to(C.CLOSED, at=T0, reason="discontinued (OPM-07)")
    assert case.overdue_on(date(2026, 5, 1)) == ()
    assert case.closed_at == T0


def test_case_needs_an_aware_opening_time() -> None:
    with pytest.raises(InputError):
        Case("C1", "M1", CaseProgram.CASE_MANAGEMENT, datetime(2026, 3, 2))


def test_tcm07_outreach_task_is_overdue_after_its_due_time_and_closes_once() -> None:
    task = Task("T1", TaskKind.OUTREACH, T0 + timedelta(days=2), T0, assigned_to="U1", rule_id="TCM-07")
    assert not task.is_overdue(T0 + timedelta(days=2))
    assert task.is_overdue(T0 + timedelta(days=2, seconds=1))
    task.escalate(to="U2")
    assert task.escalated and task.assigned_to == "U2"
    task.complete(T0 + timedelta(days=3))
    assert task.status is TaskStatus.DONE and not task.is_overdue(T0 + timedelta(days=9))
    with pytest.raises(InvalidTransition):
        task.cancel(T0 + timedelta(days=4))
