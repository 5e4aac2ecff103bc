"""The provider's internal utilization view (MN-04) and re-authorization reminders (IOP-13).

Pure boundaries of ``authorization_use`` (units, pace, run-out date, the IOP-13 window 14 vs 13 days
before expiry) and ``provider_utilization`` over a store (SQLite and PostgreSQL): only the NPI's
authorizations, read through ``AuthorizationRepository.for_provider``, the read audited without member ids.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from bhum.adapters.store import SqlStore
from bhum.domain.access import AuditAction
from bhum.domain.authorization import Authorization
from bhum.domain.errors import InputError
from bhum.domain.members import Member, Sex
from bhum.domain.values import HCPCS, Code, DateSpan
from bhum.policy import PackRegistry, load_packs
from bhum.services.utilization import authorization_use, lead_time_days, provider_utilization

REPO = Path(__file__).resolve().parents[2]
NPI = "1234567893"
OTHER_NPI = "1000000002"
IOP = Code(HCPCS, "S9480", "Intensive outpatient psychiatric services, per diem")
AT = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def registry() -> PackRegistry:
    return load_packs(REPO / "packs")


def approved(
    auth_id: str = "A1",
    *,
    member_id: str = "M1",
    npi: str = NPI,
    start: date = date(2026, 3, 1),
    end: date | None = date(2026, 3, 30),
    units: int = 40,
    used: int = 0,
) -> Authorization:
    auth = Authorization.request(
        authorization_id=auth_id, member_id=member_id, provider_npi=npi, service_codes=(IOP,),
        span=DateSpan(start, end), units_requested=units, at=AT, by="system:test",
    )  # fmt: skip
    auth.approve(at=AT, by="system:test")
    auth.units_used = used
    return auth


def test_iop13_lead_time_comes_from_the_pack(registry: PackRegistry) -> None:
    """IOP-13: the continuing-service request is due at least 14 days before expiry."""
    assert lead_time_days(registry) == 14


def test_mn04_units_authorized_used_remaining() -> None:
    use = authorization_use(approved(units=40, used=15), date(2026, 3, 10), 14)
    assert (use.units_authorized, use.units_used, use.units_remaining) == (40, 15, 25)


def test_mn04_remaining_never_negative_when_used_beyond_the_authorization() -> None:
    use = authorization_use(approved(units=10, used=12), date(2026, 3, 10), 14)
    assert use.units_remaining == 0


def test_mn04_run_out_date_at_the_current_pace() -> None:
    """20 units in the 10 days 1-10 March is 2 a day: the 20 left last to 20 March."""
    use = authorization_use(approved(units=40, used=20, end=date(2026, 4, 30)), date(2026, 3, 10), 14)
    assert use.units_per_day == 2.0
    assert use.runs_out_on == date(2026, 3, 20)


def test_mn04_a_partial_day_of_units_rounds_the_run_out_date_up() -> None:
    """21 left at 2 a day: 10 days use 20, the last unit goes on the 11th day."""
    use = authorization_use(approved(units=41, used=20, end=date(2026, 4, 30)), date(2026, 3, 10), 14)
    assert use.runs_out_on == date(2026, 3, 21)


def test_mn04_units_lasting_past_the_span_have_no_run_out_date() -> None:
    use = authorization_use(approved(units=400, used=20, end=date(2026, 3, 30)), date(2026, 3, 10), 14)
    assert use.runs_out_on is None


def test_mn04_no_use_yet_has_no_pace() -> None:
    use = authorization_use(approved(units=40, used=0), date(2026, 3, 10), 14)
    assert use.units_per_day is None and use.runs_out_on is None


def test_mn04_units_running_out_on_the_last_day_of_the_span_still_have_a_date() -> None:
    """30 units over 1-10 March is 3 a day; 60 left last exactly to 30 March, the last day."""
    use = authorization_use(approved(units=90, used=30, end=date(2026, 3, 30)), date(2026, 3, 10), 14)
    assert use.runs_out_on == date(2026, 3, 30)


@pytest.mark.parametrize(
    ("days_before_expiry", "overdue"),
    [(14, False), (13, True)],
    ids=["14-days-before-on-time", "13-days-before-overdue"],
)
def test_iop13_request_due_14_days_before_expiry(days_before_expiry: int, overdue: bool) -> None:
    """IOP-13 boundary: on the 14th day before expiry the request is due today; on the 13th it is late."""
    end = date(2026, 3, 30)
    use = authorization_use(approved(end=end, used=5), end - timedelta(days=days_before_expiry), 14)
    assert use.continuing_request_due == date(2026, 3, 16)
    assert use.continuing_request is not None
    assert "IOP-13" in use.continuing_request
    assert ("(overdue)" in use.continuing_request) is overdue


@pytest.mark.parametrize(("days_before_due", "shown"), [(14, True), (15, False)])
def test_iop13_reminder_opens_one_lead_time_before_the_due_date(days_before_due: int, shown: bool) -> None:
    """The reminder appears once the due date (expiry - 14) is at most 14 days away."""
    end = date(2026, 3, 30)
    due = end - timedelta(days=14)
    use = authorization_use(approved(end=end), due - timedelta(days=days_before_due), 14)
    assert (use.continuing_request is not None) is shown
    assert (use.continuing_request_due is not None) is shown


def test_iop13_no_reminder_after_expiry_or_for_open_or_inactive_authorizations() -> None:
    end = date(2026, 3, 30)
    assert authorization_use(approved(end=end), end + timedelta(days=1), 14).continuing_request is None
    assert authorization_use(approved(end=end), end, 14).continuing_request is not None  # last day
    assert authorization_use(approved(end=None), date(2026, 3, 29), 14).continuing_request is None
    stopped = approved(end=end)
    stopped.discontinue(at=AT, by="system:test", reason="OPM-07", rule_id="OPM-07")
    assert authorization_use(stopped, date(2026, 3, 20), 14).continuing_request is None


# -- over the store (for_provider) ---------------------------------------------------------------


def _seed(store: SqlStore) -> None:
    with store.unit_of_work() as uow:
        uow.members.upsert_many(
            Member(f"M{i}", "Syn", f"Thetic{i}", Sex.UNKNOWN, date(1990, 1, 1)) for i in range(1, 4)
        )
        uow.authorizations.add(approved("A-late", member_id="M1", end=date(2026, 4, 30), used=10))
        uow.authorizations.add(approved("A-soon", member_id="M2", end=date(2026, 3, 24), used=20))
        uow.authorizations.add(approved("A-other", member_id="M3", npi=OTHER_NPI, used=3))
        uow.commit()


def test_mn04_provider_view_reads_only_that_providers_authorizations(
    store: SqlStore, registry: PackRegistry
) -> None:
    _seed(store)
    now = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
    rows = provider_utilization(
        store.unit_of_work(), NPI, registry=registry, actor="system:test", now=now, reason="test"
    )
    assert [r.authorization_id for r in rows] == ["A-soon", "A-late"]  # soonest expiry first
    soon = rows[0]
    assert (soon.units_authorized, soon.units_used, soon.units_remaining) == (40, 20, 20)
    assert soon.runs_out_on == date(2026, 3, 20)
    assert soon.continuing_request_due == date(2026, 3, 10)  # 24 March - 14 days: due today
    assert rows[1].continuing_request is None  # 30 April is far off
    with store.unit_of_work() as uow:
        reads = [e for e in uow.audit.list() if e.action is AuditAction.READ]
    assert [(e.entity_type, e.entity_id, e.member_id) for e in reads] == [("provider_utilization", NPI, None)]
    assert reads[0].detail == {"authorizations": "2"}


def test_mn04_for_provider_returns_nothing_for_an_unknown_npi(store: SqlStore) -> None:
    _seed(store)
    with store.unit_of_work() as uow:
        assert list(uow.authorizations.for_provider("1999999999")) == []
        assert [a.authorization_id for a in uow.authorizations.for_provider(OTHER_NPI)] == ["A-other"]


def test_mn04_a_malformed_npi_is_refused_naming_the_field(store: SqlStore, registry: PackRegistry) -> None:
    with pytest.raises(InputError) as caught:
        provider_utilization(
            store.unit_of_work(), "12345", registry=registry, actor="system:test",
            now=datetime(2026, 3, 10, tzinfo=UTC), reason="test",
        )  # fmt: skip
    assert caught.value.field == "npi"
