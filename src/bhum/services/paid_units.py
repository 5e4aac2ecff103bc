"""The member's history of paid claim-line units, kept in the store (TCM-02 caps, IOP-02/04 stays, MN-04).

The daily and monthly T1017 caps count every unit already paid to the member that day and month, and
an IOP per diem day makes other services that day duplicative. A claim check therefore needs the units
paid before the batch. This module records what a checked batch paid and hands the history back for
the members of a new batch, as an Arrow table in ``bhum.services.claims.HISTORY_SCHEMA``.

Idempotent by claim id + line number: recording a batch again replaces the earlier record of each of
its lines (a line denied on the re-check drops out), so re-checking a batch never double-counts; and
``paid_history_for_batch`` leaves out the batch's own lines, so a batch never caps itself.

The store provides ``PaidUnitHistory`` on its unit of work as ``uow.paid_units``
(``bhum.adapters.store.paid_units.ClaimsSqlUnitOfWork``); services reach it with :func:`paid_unit_history`.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol

import pyarrow as pa
import pyarrow.compute as pc

from bhum.domain.access import AuditAction
from bhum.domain.claim_edits import ClaimCheckParameters
from bhum.domain.errors import BhumError, InputError
from bhum.services.audit import record_access
from bhum.services.claims import HISTORY_SCHEMA
from bhum.services.unit_of_work import UnitOfWork

LineKey = tuple[str, int]  # (claim_id, claim_line_number)
_MODIFIERS = ("hcpcs_modifier_1", "hcpcs_modifier_2", "hcpcs_modifier_3", "hcpcs_modifier_4")
_REQUIRED = ("claim_id", "claim_line_number", "member_id", "service_date", "hcpcs_code", "paid_units")


@dataclass(frozen=True, slots=True)
class PaidUnitLine:
    """Units paid on one claim line."""

    claim_id: str
    claim_line_number: int
    member_id: str
    service_date: date
    hcpcs_code: str
    level_modifier: str | None  # the T1017 level modifier (TF/TG/HN/HM), None for PACT and other codes
    paid_units: float
    billing_npi: str | None = None
    authorization_id: str | None = None

    @property
    def key(self) -> LineKey:
        return (self.claim_id, self.claim_line_number)


class PaidUnitHistory(Protocol):
    def replace(self, keys: Collection[LineKey], lines: Sequence[PaidUnitLine], recorded_at: datetime) -> int:
        """Drop the stored lines under ``keys`` and store ``lines`` (every line's key is in ``keys``);
        returns how many lines were stored before under those keys."""
        ...

    def for_members(
        self, member_ids: Collection[str], *, exclude: Collection[LineKey] = ()
    ) -> Sequence[PaidUnitLine]:
        """Paid lines of these members, by service date then claim, leaving out the ``exclude`` keys."""
        ...

    def count(self) -> int: ...


class PaidUnitsUnitOfWork(UnitOfWork):
    paid_units: PaidUnitHistory


class PaidUnitHistoryMissing(BhumError):
    """The unit of work has no ``paid_units`` (the composition root must use the claims-aware one)."""


def paid_unit_history(uow: UnitOfWork) -> PaidUnitHistory:
    history: PaidUnitHistory | None = getattr(uow, "paid_units", None)
    if history is None:
        raise PaidUnitHistoryMissing(
            "this unit of work has no paid-unit history: build it with "
            "bhum.adapters.store.paid_units.ClaimsSqlUnitOfWork"
        )
    return history


def has_paid_unit_history(uow: UnitOfWork) -> bool:
    """True once the unit of work is entered and carries ``paid_units``."""
    return getattr(uow, "paid_units", None) is not None


# -- decisions -> lines ---------------------------------------------------------------------------


def _level_modifiers(parameters: ClaimCheckParameters) -> frozenset[str]:
    return (
        parameters.cm1_level_modifiers
        | parameters.cm2_level_modifiers
        | {v.level_modifier for v in parameters.variants if v.level_modifier}
    )


def batch_keys(table: pa.Table, source: str = "decisions") -> list[LineKey]:
    """The (claim id, line number) of every row of a batch or of its decisions."""
    for name in ("claim_id", "claim_line_number"):
        if name not in table.column_names:
            raise InputError(f"{source} have no {name!r} column", field=name, source=source)
    ids = table.column("claim_id").to_pylist()
    lines = table.column("claim_line_number").to_pylist()
    return [(str(c), int(n)) for c, n in zip(ids, lines, strict=True) if c is not None and n is not None]


def paid_lines(decisions: pa.Table, parameters: ClaimCheckParameters) -> list[PaidUnitLine]:
    """The lines of a batch's decisions that paid at least part of a unit, with their level modifier.
    Filtering and the modifier are computed column-wise; only paid lines become objects."""
    missing = [c for c in _REQUIRED if c not in decisions.column_names]
    if missing:
        raise InputError(f"decisions have no {missing[0]!r} column", field=missing[0], source="decisions")
    paid = decisions.filter(pc.fill_null(pc.greater(decisions.column("paid_units"), 0), False))
    levels = sorted(_level_modifiers(parameters))
    level: pa.ChunkedArray | pa.Array = pa.nulls(paid.num_rows, pa.string())
    # The first level modifier wins, as in the engine (modifier 1 before 2 ...).
    for name in reversed(_MODIFIERS):
        if name in paid.column_names:
            column = paid.column(name)
            level = pc.if_else(pc.fill_null(pc.is_in(column, pa.array(levels)), False), column, level)
    names = paid.column_names

    def values(name: str) -> list[object]:
        return paid.column(name).to_pylist() if name in names else [None] * paid.num_rows

    rows = zip(
        values("claim_id"),
        values("claim_line_number"),
        values("member_id"),
        values("service_date"),
        values("hcpcs_code"),
        level.to_pylist(),
        values("paid_units"),
        values("billing_npi"),
        values("authorization_id"),
        strict=True,
    )
    return [
        PaidUnitLine(str(c), int(n), str(m), d, str(h), lv, float(u), npi, auth)  # type: ignore[arg-type]
        for c, n, m, d, h, lv, u, npi, auth in rows
    ]


def history_table(lines: Iterable[PaidUnitLine]) -> pa.Table:
    """Paid lines as the claim engine's history (``HISTORY_SCHEMA``)."""
    columns: dict[str, list[object]] = {n: [] for n in HISTORY_SCHEMA.names}
    for line in lines:
        columns["member_id"].append(line.member_id)
        columns["service_date"].append(line.service_date)
        columns["hcpcs_code"].append(line.hcpcs_code)
        columns["level_modifier"].append(line.level_modifier)
        columns["paid_units"].append(line.paid_units)
    return pa.table(columns, schema=HISTORY_SCHEMA)


# -- use cases ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RecordedPaidUnits:
    lines_in_batch: int
    paid_lines_stored: int
    replaced: int  # lines of the batch already stored by an earlier check (now replaced)


def record_paid_units(
    uow_factory: Callable[[], UnitOfWork],
    decisions: pa.Table,
    parameters: ClaimCheckParameters,
    *,
    actor: str,
    now: datetime,
    reason: str,
) -> RecordedPaidUnits:
    """Store the units a checked batch paid, replacing any earlier record of the same claim lines, in one
    transaction with one audit event (counts only, never member ids)."""
    keys = batch_keys(decisions)
    lines = paid_lines(decisions, parameters)
    with uow_factory() as uow:
        replaced = paid_unit_history(uow).replace(set(keys), lines, now)
        record_access(
            uow,
            actor,
            AuditAction.UPDATE,
            "paid_claim_units",
            f"{len(keys)} lines",
            None,
            reason,
            now,
            detail={"paid_lines": str(len(lines)), "replaced": str(replaced)},
        )
        uow.commit()
    return RecordedPaidUnits(len(keys), len(lines), replaced)


def paid_history_for_batch(uow: UnitOfWork, batch: pa.Table) -> pa.Table:
    """The stored paid units of the members of ``batch`` (claim lines or decisions), leaving out the
    batch's own lines so a re-check does not count a line against itself. Call inside an open unit of
    work; the caller audits the read with the rest of the batch's reference data."""
    if batch.num_rows == 0:
        return HISTORY_SCHEMA.empty_table()
    members = {m for m in batch.column("member_id").to_pylist() if m}
    lines = paid_unit_history(uow).for_members(members, exclude=set(batch_keys(batch, "claim lines")))
    return history_table(lines)
