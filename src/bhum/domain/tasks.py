"""Work items for people: review a request, chase a missing form, reach out after a missed contact."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from bhum.domain.errors import InputError, InvalidTransition


class TaskKind(StrEnum):
    CLINICAL_REVIEW = "clinical_review"
    PHYSICIAN_REVIEW = "physician_review"  # REG-04
    PEER_TO_PEER = "peer_to_peer"  # REG-03
    FOLLOW_UP_CLINICAL_UPDATE = "follow_up_clinical_update"  # OPM-04/07
    OUTREACH = "outreach"  # TCM-07: within 2 business days of a missed contact
    MONTHLY_CONTACT = "monthly_contact"  # TCM-08
    CONTINUING_SERVICE_REQUEST = "continuing_service_request"  # IOP-13


class TaskStatus(StrEnum):
    OPEN = "open"
    DONE = "done"
    CANCELLED = "cancelled"


@dataclass(slots=True)
class Task:
    task_id: str
    kind: TaskKind
    due_at: datetime
    created_at: datetime
    status: TaskStatus = TaskStatus.OPEN
    assigned_to: str | None = None  # a user id
    escalated: bool = False
    member_id: str | None = None
    case_id: str | None = None
    request_id: str | None = None
    rule_id: str | None = None
    completed_at: datetime | None = None

    def __post_init__(self) -> None:
        for name in ("due_at", "created_at"):
            if getattr(self, name).tzinfo is None:
                raise InputError("a timestamp must carry its time zone", field=name, record=self.task_id)

    def is_overdue(self, now: datetime) -> bool:
        return self.status is TaskStatus.OPEN and now > self.due_at

    def complete(self, at: datetime) -> None:
        if self.status is not TaskStatus.OPEN:
            raise InvalidTransition(f"task {self.task_id} is {self.status}")
        self.status = TaskStatus.DONE
        self.completed_at = at

    def cancel(self, at: datetime) -> None:
        if self.status is not TaskStatus.OPEN:
            raise InvalidTransition(f"task {self.task_id} is {self.status}")
        self.status = TaskStatus.CANCELLED
        self.completed_at = at

    def escalate(self, to: str | None = None) -> None:
        if self.status is not TaskStatus.OPEN:
            raise InvalidTransition(f"task {self.task_id} is {self.status}")
        self.escalated = True
        if to is not None:
            self.assigned_to = to
