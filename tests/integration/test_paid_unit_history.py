"""Paid-unit history in the store (TCM-02 caps across batches, MN-04), on SQLite and PostgreSQL.

A checked batch's paid lines are recorded idempotently by claim id + line (re-checking never
double-counts, a line denied on the re-check drops out), the history of a new batch's members feeds the
claim engine so the 16-unit day counts units paid in an earlier batch, and a batch never caps itself.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pyarrow as pa
import pytest
from sqlalchemy import inspect

from bhum.adapters.claims_engine import DuckDbClaimsEngine
from bhum.adapters.store import SqlStore, upgrade
from bhum.adapters.store.paid_units import ClaimsSqlUnitOfWork
from bhum.adapters.store.uow import SqlAlchemyUnitOfWork
from bhum.domain.access import AuditAction
from bhum.domain.claim_edits import ClaimCheckParameters
from bhum.domain.errors import InputError
from bhum.policy import load_packs
from bhum.services.claims import HISTORY_SCHEMA, ReferenceTables
from bhum.services.paid_units import (
    PaidUnitHistoryMissing,
    paid_history_for_batch,
    paid_lines,
    paid_unit_history,
    record_paid_units,
)
from tests.claims.conftest import batch, claim_line, reference

REPO = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 3, 20, 12, 0, tzinfo=UTC)
DAY = date(2026, 3, 10)


@pytest.fixture(scope="module")
def params() -> ClaimCheckParameters:
    from bhum.services.claims import check_parameters

    return check_parameters(load_packs(REPO / "packs"))


def _check(params: ClaimCheckParameters, ref: ReferenceTables, lines: pa.Table) -> pa.Table:
    return DuckDbClaimsEngine(threads=1).check(lines, ref, params)


def _uow(store: SqlStore) -> ClaimsSqlUnitOfWork:
    return ClaimsSqlUnitOfWork(store.session_factory)


def _record(store: SqlStore, decisions: pa.Table, params: ClaimCheckParameters) -> tuple[int, int, int]:
    done = record_paid_units(
        lambda: _uow(store), decisions, params, actor="system:test", now=NOW, reason="claims check"
    )
    return done.lines_in_batch, done.paid_lines_stored, done.replaced


def _history(store: SqlStore, lines: pa.Table) -> pa.Table:
    with _uow(store) as uow:
        return paid_history_for_batch(uow, lines)


def test_migration_creates_the_paid_claim_units_table(store_url: str) -> None:
    upgrade(store_url)
    s = SqlStore(store_url)
    try:
        tables = set(inspect(s.engine).get_table_names())
        assert "paid_claim_units" in tables
        uniques = inspect(s.engine).get_unique_constraints("paid_claim_units")
        assert any(set(u["column_names"]) == {"claim_id", "claim_line_number"} for u in uniques)
    finally:
        s.dispose()


def test_tcm02_units_paid_in_an_earlier_batch_count_toward_the_16_unit_day(
    store: SqlStore, params: ClaimCheckParameters
) -> None:
    """TCM-02: 12 units paid in batch 1, then 8 billed the same day in batch 2: 4 paid (16 a day)."""
    first = batch(claim_line(1, service_unit_quantity=12.0))
    decided = _check(params, reference(), first)
    assert decided.column("paid_units").to_pylist() == [12.0]
    assert _record(store, decided, params) == (1, 1, 0)

    second = batch(claim_line(2, service_unit_quantity=8.0))
    history = _history(store, second)
    assert history.schema == HISTORY_SCHEMA
    assert history.to_pylist() == [
        {
            "member_id": "M1",
            "service_date": DAY,
            "hcpcs_code": "T1017",
            "level_modifier": "TF",
            "paid_units": 12.0,
        }
    ]
    again = _check(params, reference(history=history.to_pylist()), second)
    assert again.column("paid_units").to_pylist() == [4.0]
    assert again.column("denied_units").to_pylist() == [4.0]


def test_tcm02_rechecking_a_batch_never_counts_its_own_lines(
    store: SqlStore, params: ClaimCheckParameters
) -> None:
    lines = batch(claim_line(1, service_unit_quantity=12.0))
    _record(store, _check(params, reference(), lines), params)
    history = _history(store, lines)
    assert history.num_rows == 0  # the batch's own line is left out
    rechecked = _check(params, reference(history=history.to_pylist()), lines)
    assert rechecked.column("paid_units").to_pylist() == [12.0]


def test_recording_a_batch_twice_is_idempotent_and_audited(
    store: SqlStore, params: ClaimCheckParameters
) -> None:
    lines = batch(claim_line(1, service_unit_quantity=4.0), claim_line(2, service_unit_quantity=3.0))
    decided = _check(params, reference(), lines)
    assert _record(store, decided, params) == (2, 2, 0)
    assert _record(store, decided, params) == (2, 2, 2)
    with _uow(store) as uow:
        assert uow.paid_units.count() == 2
        events = [e for e in uow.audit.list() if e.entity_type == "paid_claim_units"]
    assert [e.action for e in events] == [AuditAction.UPDATE, AuditAction.UPDATE]
    assert all(e.member_id is None for e in events)
    assert events[-1].detail == {"paid_lines": "2", "replaced": "2"}


def test_a_line_denied_on_recheck_drops_out_of_the_history(
    store: SqlStore, params: ClaimCheckParameters
) -> None:
    lines = batch(claim_line(1, service_unit_quantity=4.0))
    _record(store, _check(params, reference(), lines), params)
    # Re-checked after the member moved into a group home (TCM-04): nothing paid, the old record goes.
    denied = _check(params, reference(residence=[("group_home", date(2026, 1, 1), None)]), lines)
    assert denied.column("paid_units").to_pylist() == [0.0]
    assert _record(store, denied, params) == (1, 0, 1)
    with _uow(store) as uow:
        assert uow.paid_units.count() == 0


def test_history_is_only_for_the_members_of_the_batch(store: SqlStore, params: ClaimCheckParameters) -> None:
    decided = _check(params, reference(), batch(claim_line(1, service_unit_quantity=2.0)))
    _record(store, decided, params)
    other = batch(claim_line(5, member_id="M2"))
    assert _history(store, other).num_rows == 0
    assert _history(store, batch(claim_line(6))).column("paid_units").to_pylist() == [2.0]


def test_paid_lines_take_the_first_level_modifier(params: ClaimCheckParameters) -> None:
    decisions = pa.table(
        {
            "claim_id": ["C1", "C2", "C3"],
            "claim_line_number": [1, 1, 1],
            "member_id": ["M1", "M1", "M1"],
            "service_date": [DAY, DAY, DAY],
            "hcpcs_code": ["T1017", "T1017", "S9480"],
            "hcpcs_modifier_1": ["HE", "HF", None],
            "hcpcs_modifier_2": ["HM", None, None],
            "paid_units": [2.0, 1.0, 0.0],
        }
    )
    found = paid_lines(decisions, params)
    assert [(p.claim_id, p.level_modifier, p.paid_units) for p in found] == [
        ("C1", "HM", 2.0),
        ("C2", None, 1.0),
    ]


def test_decisions_without_a_key_column_are_refused_naming_it(params: ClaimCheckParameters) -> None:
    with pytest.raises(InputError) as caught:
        paid_lines(pa.table({"claim_id": ["C1"]}), params)
    assert caught.value.field == "claim_line_number"


def test_a_unit_of_work_without_paid_units_says_which_to_use(store: SqlStore) -> None:
    with SqlAlchemyUnitOfWork(store.session_factory) as uow, pytest.raises(PaidUnitHistoryMissing):
        paid_unit_history(uow)
