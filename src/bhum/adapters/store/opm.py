"""Store tables and records of the Focused Outpatient Management program (``uow.opm``), and the unit of
work that carries them. Migration 0004 creates the tables.

Idempotency lives in the schema: a flag is unique by (member, rule, as-of); an OPM case by (member,
provider, cycle); and ``open_key`` (member|provider while the case is open, NULL once closed) is
unique, so two open cases for the same member and provider cannot both be committed.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any, Self

from sqlalchemy import JSON, Float, ForeignKey, Integer, String, Text, UniqueConstraint, func, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from bhum.adapters.store.care_management import SqlCareUnitOfWork
from bhum.adapters.store.tables import Base
from bhum.domain.values import Code
from bhum.services.opm_records import OPEN_STATES, OpmCaseRecord, OpmCaseState, StoredFlag


class OpmFlagRow(Base):
    __tablename__ = "opm_flags"
    # Re-running the catalog for the same as-of date refreshes these rows, never duplicates them.
    __table_args__ = (UniqueConstraint("member_id", "rule_id", "as_of"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    member_id: Mapped[str] = mapped_column(String(64), index=True)  # flags may name members not loaded
    rule_id: Mapped[str] = mapped_column(String(64))
    as_of: Mapped[date] = mapped_column(index=True)
    member_rank: Mapped[int] = mapped_column(Integer)
    member_score: Mapped[float] = mapped_column(Float)
    implements: Mapped[str] = mapped_column(String(255))
    source: Mapped[str] = mapped_column(Text)
    title: Mapped[str] = mapped_column(Text)
    measure: Mapped[str] = mapped_column(Text)
    value: Mapped[float] = mapped_column(Float)
    comparator: Mapped[str] = mapped_column(String(4))
    threshold: Mapped[float] = mapped_column(Float)
    evidence: Mapped[str] = mapped_column(Text)
    score: Mapped[float] = mapped_column(Float)
    index_date: Mapped[date | None]
    claim_ids: Mapped[list[str]] = mapped_column(JSON)
    claim_dates: Mapped[list[str]] = mapped_column(JSON)
    sentence: Mapped[str] = mapped_column(Text)
    pack_version: Mapped[str] = mapped_column(String(64))


class OpmCaseRow(Base):
    __tablename__ = "opm_cases"
    __table_args__ = (UniqueConstraint("member_id", "provider_npi", "cycle"),)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.case_id"), primary_key=True)
    member_id: Mapped[str] = mapped_column(ForeignKey("members.member_id"), index=True)
    provider_npi: Mapped[str] = mapped_column(String(10))
    plan_id: Mapped[str] = mapped_column(String(255))
    cycle: Mapped[str] = mapped_column(String(7), index=True)
    as_of: Mapped[date]
    letter_date: Mapped[date]
    due_on: Mapped[date] = mapped_column(index=True)
    created_at: Mapped[datetime]
    state: Mapped[str] = mapped_column(String(16), index=True)
    # member|provider while open, NULL when closed: unique, so one open case per member and provider.
    open_key: Mapped[str | None] = mapped_column(String(128), unique=True)
    flag_rule_ids: Mapped[list[str]] = mapped_column(JSON)
    services: Mapped[list[list[str | None]]] = mapped_column(JSON)
    authorization_ids: Mapped[list[str]] = mapped_column(JSON)
    letter_ids: Mapped[list[str]] = mapped_column(JSON)
    form: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    form_returned_at: Mapped[datetime | None]
    form_submitted_by: Mapped[str | None]
    review: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    discontinued_from: Mapped[date | None]


_FLAG_FIELDS = (
    "member_rank",
    "member_score",
    "implements",
    "source",
    "title",
    "measure",
    "value",
    "comparator",
    "threshold",
    "evidence",
    "score",
    "index_date",
    "sentence",
    "pack_version",
)


def _flag_values(flag: StoredFlag) -> dict[str, Any]:
    values = {name: getattr(flag, name) for name in _FLAG_FIELDS}
    values["claim_ids"] = list(flag.claim_ids)
    values["claim_dates"] = [d.isoformat() for d in flag.claim_dates]
    return values


def _flag(row: OpmFlagRow) -> StoredFlag:
    return StoredFlag(
        member_id=row.member_id,
        rule_id=row.rule_id,
        as_of=row.as_of,
        claim_ids=tuple(row.claim_ids),
        claim_dates=tuple(date.fromisoformat(d) for d in row.claim_dates),
        **{name: getattr(row, name) for name in _FLAG_FIELDS},
    )


def _open_key(record: OpmCaseRecord) -> str | None:
    return f"{record.member_id}|{record.provider_npi}" if record.state in OPEN_STATES else None


def _case_values(record: OpmCaseRecord) -> dict[str, Any]:
    return {
        "member_id": record.member_id,
        "provider_npi": record.provider_npi,
        "plan_id": record.plan_id,
        "cycle": record.cycle,
        "as_of": record.as_of,
        "letter_date": record.letter_date,
        "due_on": record.due_on,
        "created_at": record.created_at,
        "state": record.state.value,
        "open_key": _open_key(record),
        "flag_rule_ids": list(record.flag_rule_ids),
        "services": [[c.system, c.code, c.display] for c in record.services],
        "authorization_ids": list(record.authorization_ids),
        "letter_ids": list(record.letter_ids),
        "form": record.form,
        "form_returned_at": record.form_returned_at,
        "form_submitted_by": record.form_submitted_by,
        "review": record.review,
        "discontinued_from": record.discontinued_from,
    }


def _case(row: OpmCaseRow) -> OpmCaseRecord:
    return OpmCaseRecord(
        case_id=row.case_id,
        member_id=row.member_id,
        provider_npi=row.provider_npi,
        plan_id=row.plan_id,
        cycle=row.cycle,
        as_of=row.as_of,
        letter_date=row.letter_date,
        due_on=row.due_on,
        created_at=row.created_at,
        state=OpmCaseState(row.state),
        flag_rule_ids=tuple(row.flag_rule_ids),
        services=tuple(Code(str(s[0]), str(s[1]), s[2]) for s in row.services),
        authorization_ids=tuple(row.authorization_ids),
        letter_ids=tuple(row.letter_ids),
        form=row.form,
        form_returned_at=row.form_returned_at,
        form_submitted_by=row.form_submitted_by,
        review=row.review,
        discontinued_from=row.discontinued_from,
    )


class SqlOpmRecords:
    def __init__(self, session: Session) -> None:
        self.session = session

    # -- flags
    def upsert_flags(self, flags: Sequence[StoredFlag]) -> int:
        new = 0
        by_as_of: dict[date, list[StoredFlag]] = {}
        for flag in flags:
            by_as_of.setdefault(flag.as_of, []).append(flag)
        for as_of, group in by_as_of.items():
            existing = {
                (r.member_id, r.rule_id): r
                for r in self.session.scalars(select(OpmFlagRow).where(OpmFlagRow.as_of == as_of))
            }
            for flag in group:
                row = existing.get((flag.member_id, flag.rule_id))
                if row is None:
                    row = OpmFlagRow(member_id=flag.member_id, rule_id=flag.rule_id, as_of=as_of)
                    self.session.add(row)
                    existing[(flag.member_id, flag.rule_id)] = row
                    new += 1
                for name, value in _flag_values(flag).items():
                    setattr(row, name, value)
        self.session.flush()
        return new

    def latest_as_of(self) -> date | None:
        return self.session.scalar(select(func.max(OpmFlagRow.as_of)))

    def flags(self, *, as_of: date | None = None, limit: int = 100, offset: int = 0) -> Sequence[StoredFlag]:
        day = as_of or self.latest_as_of()
        if day is None:
            return []
        rows = self.session.scalars(
            select(OpmFlagRow)
            .where(OpmFlagRow.as_of == day)
            .order_by(OpmFlagRow.member_rank, OpmFlagRow.score.desc(), OpmFlagRow.rule_id)
            .limit(limit)
            .offset(offset)
        )
        return [_flag(r) for r in rows]

    def flags_for_member(self, member_id: str) -> Sequence[StoredFlag]:
        rows = self.session.scalars(
            select(OpmFlagRow)
            .where(OpmFlagRow.member_id == member_id)
            .order_by(OpmFlagRow.as_of.desc(), OpmFlagRow.score.desc(), OpmFlagRow.rule_id)
        )
        return [_flag(r) for r in rows]

    def count_flags(self) -> int:
        return int(self.session.scalar(select(func.count()).select_from(OpmFlagRow)) or 0)

    # -- cases
    def add_case(self, record: OpmCaseRecord) -> None:
        self.session.add(OpmCaseRow(case_id=record.case_id, **_case_values(record)))
        self.session.flush()

    def save_case(self, record: OpmCaseRecord) -> None:
        row = self.session.get(OpmCaseRow, record.case_id)
        if row is None:
            raise KeyError(record.case_id)
        for name, value in _case_values(record).items():
            setattr(row, name, value)
        self.session.flush()

    def get_case(self, case_id: str) -> OpmCaseRecord | None:
        row = self.session.get(OpmCaseRow, case_id)
        return _case(row) if row is not None else None

    def open_case_for(self, member_id: str, provider_npi: str) -> OpmCaseRecord | None:
        row = self.session.scalar(
            select(OpmCaseRow).where(OpmCaseRow.open_key == f"{member_id}|{provider_npi}")
        )
        return _case(row) if row is not None else None

    def cases_in_cycle(self, cycle: str) -> int:
        query = select(func.count()).select_from(OpmCaseRow).where(OpmCaseRow.cycle == cycle)
        return int(self.session.scalar(query) or 0)

    def overdue_cases(self, day: date) -> Sequence[OpmCaseRecord]:
        rows = self.session.scalars(
            select(OpmCaseRow)
            .where(OpmCaseRow.state == OpmCaseState.AWAITING_FORM.value, OpmCaseRow.due_on < day)
            .order_by(OpmCaseRow.due_on, OpmCaseRow.case_id)
        )
        return [_case(r) for r in rows]

    def list_cases(
        self, *, state: OpmCaseState | None = None, member_id: str | None = None, limit: int = 100
    ) -> Sequence[OpmCaseRecord]:
        query = select(OpmCaseRow)
        if state is not None:
            query = query.where(OpmCaseRow.state == state.value)
        if member_id is not None:
            query = query.where(OpmCaseRow.member_id == member_id)
        rows = self.session.scalars(query.order_by(OpmCaseRow.created_at, OpmCaseRow.case_id).limit(limit))
        return [_case(r) for r in rows]

    def count_cases(self) -> int:
        return int(self.session.scalar(select(func.count()).select_from(OpmCaseRow)) or 0)


class OpmSqlUnitOfWork(SqlCareUnitOfWork):
    """The care-management unit of work plus ``opm`` (same session, same transaction)."""

    opm: SqlOpmRecords

    def __enter__(self) -> Self:
        entered = super().__enter__()
        self.opm = SqlOpmRecords(self.session)
        return entered
