"""Store table and repository of paid claim-line units (``uow.paid_units``), and the unit of work that
carries them. Migration 0005 creates the table.

Idempotency lives in the schema: one row per (claim_id, claim_line_number); recording a batch again
deletes and re-inserts its lines in the same transaction.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Sequence
from datetime import date, datetime
from typing import Self, TypeVar

from sqlalchemy import Float, Index, Integer, String, UniqueConstraint, delete, func, insert, select, tuple_
from sqlalchemy.orm import Mapped, Session, mapped_column

from bhum.adapters.store.opm import OpmSqlUnitOfWork
from bhum.adapters.store.tables import Base, UtcDateTime
from bhum.services.paid_units import LineKey, PaidUnitLine

_T = TypeVar("_T")
_CHUNK = 400  # keys per statement: well under SQLite's and PostgreSQL's bound-parameter limits


class PaidClaimUnitRow(Base):
    __tablename__ = "paid_claim_units"
    __table_args__ = (
        UniqueConstraint("claim_id", "claim_line_number"),
        Index("ix_paid_claim_units_member_id_service_date", "member_id", "service_date"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    claim_id: Mapped[str] = mapped_column(String(64))
    claim_line_number: Mapped[int] = mapped_column(Integer)
    # No foreign key: a batch checked against a population directory may pay members not in the store.
    member_id: Mapped[str] = mapped_column(String(64))
    service_date: Mapped[date]
    hcpcs_code: Mapped[str] = mapped_column(String(16))
    level_modifier: Mapped[str | None] = mapped_column(String(8))
    paid_units: Mapped[float] = mapped_column(Float)
    billing_npi: Mapped[str | None] = mapped_column(String(10))
    authorization_id: Mapped[str | None] = mapped_column(String(255))
    recorded_at: Mapped[datetime] = mapped_column(UtcDateTime)


def _chunks(items: Sequence[_T]) -> Iterator[Sequence[_T]]:
    for start in range(0, len(items), _CHUNK):
        yield items[start : start + _CHUNK]


def _line(row: PaidClaimUnitRow) -> PaidUnitLine:
    return PaidUnitLine(
        claim_id=row.claim_id,
        claim_line_number=row.claim_line_number,
        member_id=row.member_id,
        service_date=row.service_date,
        hcpcs_code=row.hcpcs_code,
        level_modifier=row.level_modifier,
        paid_units=row.paid_units,
        billing_npi=row.billing_npi,
        authorization_id=row.authorization_id,
    )


class SqlPaidUnitHistory:
    def __init__(self, session: Session) -> None:
        self.session = session

    def replace(self, keys: Collection[LineKey], lines: Sequence[PaidUnitLine], recorded_at: datetime) -> int:
        stray = [line.key for line in lines if line.key not in keys]
        if stray:
            raise ValueError(f"paid line {stray[0]} is not among the keys being replaced")
        key_column = tuple_(PaidClaimUnitRow.claim_id, PaidClaimUnitRow.claim_line_number)
        replaced = 0
        for chunk in _chunks(sorted(keys)):
            result = self.session.execute(delete(PaidClaimUnitRow).where(key_column.in_(chunk)))
            replaced += int(getattr(result, "rowcount", 0) or 0)
        values = [
            {
                "claim_id": line.claim_id,
                "claim_line_number": line.claim_line_number,
                "member_id": line.member_id,
                "service_date": line.service_date,
                "hcpcs_code": line.hcpcs_code,
                "level_modifier": line.level_modifier,
                "paid_units": line.paid_units,
                "billing_npi": line.billing_npi,
                "authorization_id": line.authorization_id,
                "recorded_at": recorded_at,
            }
            for line in lines
        ]
        if values:
            self.session.execute(insert(PaidClaimUnitRow), values)
        self.session.flush()
        return replaced

    def for_members(
        self, member_ids: Collection[str], *, exclude: Collection[LineKey] = ()
    ) -> Sequence[PaidUnitLine]:
        skip = set(exclude)
        found: list[PaidUnitLine] = []
        for chunk in _chunks(sorted(member_ids)):
            rows = self.session.scalars(select(PaidClaimUnitRow).where(PaidClaimUnitRow.member_id.in_(chunk)))
            found.extend(_line(r) for r in rows if (r.claim_id, r.claim_line_number) not in skip)
        found.sort(key=lambda x: (x.service_date, x.member_id, x.claim_id, x.claim_line_number))
        return found

    def count(self) -> int:
        return int(self.session.scalar(select(func.count()).select_from(PaidClaimUnitRow)) or 0)


class ClaimsSqlUnitOfWork(OpmSqlUnitOfWork):
    """The OPM/care-management unit of work plus ``paid_units`` (same session, same transaction)."""

    paid_units: SqlPaidUnitHistory

    def __enter__(self) -> Self:
        entered = super().__enter__()
        self.paid_units = SqlPaidUnitHistory(self.session)
        return entered
