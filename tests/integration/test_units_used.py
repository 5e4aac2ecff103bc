"""MN-04: an authorization's units used are the units claims paid against it, recorded from claim
checks; re-recording a batch never counts its lines twice, and a re-check leaves the batch's own
lines out of the units already used."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pyarrow as pa

from bhum.adapters.store import SqlStore, upgrade
from bhum.domain.authorization import Authorization
from bhum.domain.values import HCPCS, Code, DateSpan
from bhum.policy import load_packs
from bhum.services.claims import check_parameters, sync_units_used, units_used_by_authorization
from bhum.services.paid_units import batch_keys, record_paid_units
from tests.integration.test_auth_engine import NPI, REPO, seed

NOW = datetime(2026, 3, 20, 12, tzinfo=UTC)
MEMBER = "SYN-M-0001"


def _decisions(*units: float) -> pa.Table:
    n = len(units)
    return pa.table(
        {
            "claim_id": [f"C{i}" for i in range(n)],
            "claim_line_number": [1] * n,
            "member_id": [MEMBER] * n,
            "service_date": [date(2026, 3, 2 + i) for i in range(n)],
            "hcpcs_code": ["S9480"] * n,
            "paid_units": list(units),
            "billing_npi": [NPI] * n,
            "authorization_id": ["AUTH-1"] * n,
        }
    )


def test_units_used_follow_the_paid_claims(tmp_path: object) -> None:
    url = f"sqlite:///{tmp_path}/bhum.sqlite3"
    upgrade(url)
    store = SqlStore(url)
    seed(store)
    auth = Authorization.request(
        authorization_id="AUTH-1",
        member_id=MEMBER,
        provider_npi=NPI,
        service_codes=(Code(HCPCS, "S9480"),),
        span=DateSpan(date(2026, 3, 1), date(2026, 3, 30)),
        units_requested=12,
        at=NOW,
        by="test",
    )
    auth.approve(at=NOW, by="test", reason="test", rule_id="IOP-11")
    with store.unit_of_work() as uow:
        uow.authorizations.add(auth)
        uow.commit()
    params = check_parameters(load_packs(REPO / "packs"))
    decisions = _decisions(1, 1, 0, 1)  # the third line was denied

    for _ in range(2):  # recording the same batch twice counts it once
        record_paid_units(store.unit_of_work, decisions, params, actor="test", now=NOW, reason="test")
        sync_units_used(store.unit_of_work, [MEMBER], actor="test", now=NOW, reason="test")
        with store.unit_of_work() as uow:
            stored = uow.authorizations.get("AUTH-1")
            assert stored is not None and stored.units_used == 3

    with store.unit_of_work() as uow:
        # A re-check of the batch leaves its own lines out; other lines still count.
        assert units_used_by_authorization(uow, [MEMBER], exclude=batch_keys(decisions)) == {"AUTH-1": 0.0}
        assert units_used_by_authorization(uow, [MEMBER], exclude=[("C0", 1)]) == {"AUTH-1": 2.0}
    store.dispose()
