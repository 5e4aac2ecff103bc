"""The store's answers behind "is authorization required?" and the engine's round trips (issue 3,
"Measured"), on SQLite and PostgreSQL.

- OPM-01: the SQL test of the plan's psychological-testing notices is the domain's
  ``TestingPreauthNotice.applies``, case for case, at the edges of the notice's dates.
- IOP-14: the open authorization's start is the latest active (approved / partially approved)
  authorization of the member carrying the same service code (system and code).
- Round trips: "required?" is one coverage read plus one audit row (plus one notice or open
  authorization read where the pack answer can change); an automatic approval stays within its
  statement budget. These counts are the latency work's guard: they never measure time.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from typing import Any

import pytest
from sqlalchemy import event

from bhum.adapters.store import SqlStore
from bhum.domain.authorization import Authorization, TestingPreauthNotice
from bhum.domain.errors import NotFound
from bhum.domain.values import CPT, HCPCS, Code, DateSpan
from bhum.services.authorization import authorization_required
from tests.integration.test_auth_engine import ENGINE, NOW, NPI, auth_uow, example, seed, submit

OTHER_NPI = "1093817465"
MEMBER = "SYN-M-0001"  # P1 from 2026-01-01, open-ended
TESTING = Code(CPT, "96130")
ROUTINE = Code(CPT, "90834")

NOTICES = [
    # provider only, March 2026
    TestingPreauthNotice("P1", DateSpan(date(2026, 3, 1), date(2026, 3, 31)), provider_npi=NPI),
    # member only, open-ended from April
    TestingPreauthNotice("P1", DateSpan(date(2026, 4, 1), None), member_id=MEMBER),
    # both: applies only to this member with this provider, in May
    TestingPreauthNotice(
        "P1", DateSpan(date(2026, 5, 1), date(2026, 5, 31)), provider_npi=OTHER_NPI, member_id="SYN-M-0004"
    ),
    # another plan's notice for the same provider: never applies on P1
    TestingPreauthNotice("P3", DateSpan(date(2026, 1, 1), None), provider_npi=OTHER_NPI),
]
DAYS = [
    date(2026, 2, 28),  # before every P1 notice
    date(2026, 3, 1),  # first day of the provider notice
    date(2026, 3, 31),  # its last day
    date(2026, 4, 1),  # the day after; first day of the member notice
    date(2026, 5, 1),
    date(2026, 5, 31),
    date(2026, 6, 1),
]


@pytest.fixture
def world(store: SqlStore) -> Iterator[SqlStore]:
    seed(store)
    yield store


@contextmanager
def statements(store: SqlStore) -> Iterator[list[str]]:
    """The SQL statements the block sends (transaction control left out: BEGIN is a statement on
    SQLite and implicit on PostgreSQL)."""
    sent: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        word = statement.lstrip().split(None, 1)[0].upper()
        if word not in {"BEGIN", "SAVEPOINT", "RELEASE", "ROLLBACK", "COMMIT"}:
            sent.append(statement)

    event.listen(store.engine, "before_cursor_execute", record)
    try:
        yield sent
    finally:
        event.remove(store.engine, "before_cursor_execute", record)


def ask(store: SqlStore, service: Code, on: date, *, member_id: str = MEMBER, npi: str = NPI) -> Any:
    return authorization_required(
        auth_uow(store),
        ENGINE,
        member_id=member_id,
        provider_npi=npi,
        service=service,
        on=on,
        actor="system:test",
        now=NOW,
    )


def test_opm01_notice_query_is_the_domain_rule_case_for_case(world: SqlStore) -> None:
    """OPM-01: for every plan, provider, member and day at the notices' edges, the store's answer
    equals ``any(notice.applies(...))`` over the same notices."""
    with world.unit_of_work() as uow:
        uow.testing_notices.upsert_many(NOTICES)
        uow.commit()
    checked = applying = 0
    with auth_uow(world) as uow:
        for plan, npi, member, day in itertools.product(
            ("P1", "P3"), (NPI, OTHER_NPI), (MEMBER, "SYN-M-0004"), DAYS
        ):
            expected = any(
                n.applies(plan_id=plan, provider_npi=npi, member_id=member, on=day) for n in NOTICES
            )
            found = uow.auth.testing_notice_applies(plan_id=plan, provider_npi=npi, member_id=member, on=day)
            assert found is expected, (plan, npi, member, day)
            checked += 1
            applying += expected
    assert checked == 2 * 2 * 2 * len(DAYS)
    assert 0 < applying < checked  # the grid holds both answers


def test_opm01_notice_edges_named_explicitly(world: SqlStore) -> None:
    """OPM-01 boundaries: the last day counts, the day after does not; a notice naming a provider
    and a member needs both; another plan's notice does not apply."""
    with world.unit_of_work() as loading:
        loading.testing_notices.upsert_many(NOTICES)
        loading.commit()
    with auth_uow(world) as uow:

        def applies(plan: str, npi: str, member: str, day: date) -> bool:
            return uow.auth.testing_notice_applies(plan_id=plan, provider_npi=npi, member_id=member, on=day)

        assert applies("P1", NPI, "SYN-M-0004", date(2026, 3, 31)) is True
        assert applies("P1", NPI, "SYN-M-0004", date(2026, 4, 1)) is False
        assert applies("P1", NPI, "SYN-M-0004", date(2026, 2, 28)) is False
        assert applies("P1", OTHER_NPI, MEMBER, date(2026, 4, 1)) is True  # member notice, any provider
        assert applies("P1", OTHER_NPI, MEMBER, date(2026, 3, 31)) is False
        assert applies("P1", OTHER_NPI, "SYN-M-0004", date(2026, 5, 31)) is True  # both named, both match
        assert applies("P1", NPI, "SYN-M-0004", date(2026, 5, 15)) is False  # right member, wrong provider
        assert applies("P1", OTHER_NPI, MEMBER, date(2026, 3, 15)) is False  # right provider, wrong member
        assert applies("P1", OTHER_NPI, "SYN-M-0001", date(2026, 1, 15)) is False  # P3's notice
        assert applies("P3", OTHER_NPI, MEMBER, date(2026, 1, 15)) is True


def _authorization(
    auth_id: str, code: Code, start: date, status: str, member_id: str = MEMBER
) -> Authorization:
    auth = Authorization.request(
        authorization_id=auth_id,
        member_id=member_id,
        provider_npi=NPI,
        service_codes=(Code(HCPCS, "H0015"), code),
        span=DateSpan(start, None),
        units_requested=10,
        at=NOW,
        by="system:test",
    )
    if status == "approved":
        auth.approve(at=NOW, by="system:test")
    elif status == "partial":
        auth.partially_approve(4, at=NOW, by="system:test", reason="fewer sessions")
    elif status == "pended":
        auth.pend(at=NOW, by="system:test", reason="clinical review")
    elif status == "denied":
        auth.deny(at=NOW, by="system:test", reason="not met")
    return auth


def test_iop14_open_authorization_start_is_the_latest_active_one_with_the_code(world: SqlStore) -> None:
    """IOP-14: approved and partially approved count; pended, denied, other codes, another code
    system with the same code, and other members do not."""
    with auth_uow(world) as uow:
        assert uow.auth.open_authorization_start(member_id=MEMBER, service=ROUTINE) is None
        for auth in (
            _authorization("A-OLD", ROUTINE, date(2026, 1, 5), "approved"),
            _authorization("A-PART", ROUTINE, date(2026, 2, 1), "partial"),
            _authorization("A-PEND", ROUTINE, date(2026, 3, 1), "pended"),
            _authorization("A-DENY", ROUTINE, date(2026, 3, 2), "denied"),
            _authorization("A-OTHER-CODE", Code(CPT, "90837"), date(2026, 4, 1), "approved"),
            _authorization("A-OTHER-SYSTEM", Code(HCPCS, "90834"), date(2026, 4, 2), "approved"),
            _authorization("A-OTHER-MEMBER", ROUTINE, date(2026, 5, 1), "approved", member_id="SYN-M-0002"),
        ):
            uow.authorizations.add(auth)
        uow.commit()
    with auth_uow(world) as uow:
        assert uow.auth.open_authorization_start(member_id=MEMBER, service=ROUTINE) == date(2026, 2, 1)
        # the display is a label: the same system and code match whatever it says
        labelled = Code(CPT, "90834", "Psychotherapy, 45 minutes")
        assert uow.auth.open_authorization_start(member_id=MEMBER, service=labelled) == date(2026, 2, 1)
        assert uow.auth.open_authorization_start(member_id="SYN-M-0003", service=ROUTINE) is None
    answer = ask(world, ROUTINE, date(2026, 3, 9))
    assert (answer.required, answer.rule_id) == (False, "IOP-14")
    assert answer.open_authorization_end == date(2027, 1, 31)  # 2026-02-01 + 364 days


def test_required_reads_once_and_audits_every_question(world: SqlStore) -> None:
    """REG-05 hot path: the per diem question is one coverage read and one audit row; testing adds
    the notice read; every question is audited; an unknown member is refused."""
    with world.unit_of_work() as uow:
        uow.testing_notices.upsert_many(NOTICES)
        uow.commit()
    with auth_uow(world) as uow:
        audited = len(uow.audit.list(member_id=MEMBER))
    with statements(world) as sent:
        iop = ask(world, Code(HCPCS, "S9480"), date(2026, 3, 9))
    assert iop.required is True and iop.rule_id == "OPM-01"
    assert [s.lstrip().split(None, 1)[0].upper() for s in sent] == ["SELECT", "INSERT"]
    with statements(world) as sent:
        notified = ask(world, TESTING, date(2026, 3, 31))
        not_notified = ask(world, TESTING, date(2026, 4, 1), member_id="SYN-M-0004")  # P3: no notice for NPI
    assert (notified.required, notified.criterion) == (True, "opm.testing-preauth-when-notified")
    assert not_notified.required is False
    assert len(sent) == 6  # per question: coverage, notices, audit
    with auth_uow(world) as uow:
        assert len(uow.audit.list(member_id=MEMBER)) == audited + 2
        assert len(uow.audit.list(member_id="SYN-M-0004")) == 1
    with pytest.raises(NotFound):
        ask(world, Code(HCPCS, "S9480"), date(2026, 3, 9), member_id="SYN-M-9999")


def test_automatic_approval_stays_within_its_statement_budget(world: SqlStore) -> None:
    """The auto-decision path (evaluate + store + two letters queued) sends at most 18 statements:
    7 reads (duplicate request, member with residences and coverage, provider, plan, assessor) and
    11 writes (request and its codes, authorization with codes and history, decision with reasons,
    the engine's record, two letter jobs, one audit row). It sent 31 before the codes, history and
    reasons went out as batches and the letter jobs and decision stopped reading first."""
    with statements(world) as sent:
        result = submit(world, example("iop-initial-approve.json"))
    assert result.status.value == "approved" and result.letters_queued == 2
    assert len(sent) <= 18, "\n".join(s.split("\n", 1)[0] for s in sent)
    inserts = [s for s in sent if s.lstrip().upper().startswith("INSERT")]
    assert len(inserts) == 11
