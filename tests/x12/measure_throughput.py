"""Throughput of the X12 adapters (not collected by pytest; run by hand):

    .venv/bin/python tests/x12/measure_throughput.py [lines]

Prints lines/s for writing an 835 from a decision table, for reading it back with x12sdk (a sample:
x12sdk's typed models are slow), and for reading an 837P with the bhum reader.
"""

from __future__ import annotations

import sys
import tempfile
import time
from datetime import date, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
from x12sdk.io import X12ModelReader

from bhum.adapters.x12 import DECISION_SCHEMA, Envelope, Payee, Payer, PaymentRun, read_837, write_835

PAYEES = [f"1{n:09d}" for n in range(20)]


def decisions(lines: int, seed: int = 7) -> pa.Table:
    rng = np.random.default_rng(seed)
    line_number = (np.arange(lines) % 3 + 1).astype(np.int32)
    claim = np.arange(lines) // 3
    units = rng.integers(1, 9, lines).astype(float)
    denied = np.where(rng.random(lines) < 0.3, rng.integers(1, 4, lines), 0).astype(float)
    paid_units = np.maximum(units - denied, 0)
    denied = units - paid_units
    charge = units * 20.0
    paid = paid_units * 20.0
    adjustments = [
        [{"group_code": "CO", "reason_code": "119", "amount": float(d * 20.0), "quantity": float(d)}]
        if d
        else []
        for d in denied
    ]
    remarks = [["N362"] if d else [] for d in denied]
    return pa.table(
        {
            "claim_id": pa.array([f"CLM{c:09d}" for c in claim]),
            "claim_line_number": line_number,
            "member_id": pa.array([f"M{c % 50000:07d}" for c in claim]),
            # claims arrive grouped by billing provider; interleaved payees cost one stable sort + take
            "billing_npi": pa.array([PAYEES[c * len(PAYEES) // (claim[-1] + 1)] for c in claim]),
            "service_date": pa.array(np.datetime64("2026-01-01") + (claim % 28).astype("timedelta64[D]")),
            "charge_amount": charge,
            "paid_amount": paid,
            "paid_units": paid_units,
            "denied_units": denied,
            "adjustments": pa.array(adjustments, DECISION_SCHEMA.field("adjustments").type),
            "hcpcs_code": pa.array(["T1017"] * lines),
            "hcpcs_modifier_1": pa.array(["HE"] * lines),
            "hcpcs_modifier_2": pa.array(["HN"] * lines),
            "remark_codes": pa.array(remarks, pa.list_(pa.string())),
        }
    )


def main() -> None:
    lines = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    table = decisions(lines)
    run = PaymentRun(
        Payer("BHUM HEALTH PLAN", "1123456789", "1 MAIN ST", "SPRINGFIELD", "IL", "62701"),
        {npi: Payee(f"PROVIDER {i}", npi) for i, npi in enumerate(PAYEES)},
        date(2026, 2, 1),
        date(2026, 2, 2),
        {npi: f"CHK{i:06d}" for i, npi in enumerate(PAYEES)},
    )
    envelope = Envelope("BHUMPAYER", "PROVIDERS", datetime(2026, 2, 1, 12, 0))
    started = time.perf_counter()
    remittance = write_835(table, run, envelope)
    seconds = time.perf_counter() - started
    print(
        f"835 write: {lines:,} lines in {seconds:.2f} s = {lines / seconds:,.0f} lines/s "
        f"({len(remittance.text) / 1e6:.0f} MB, {remittance.transaction_sets} transaction sets)"
    )

    sample = min(lines, 15_000)
    small = write_835(table.slice(0, sample), run, envelope).text
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "sample.835"
        path.write_text(small)
        started = time.perf_counter()
        with X12ModelReader(str(path)) as reader:
            models: list[Any] = list(reader.models())
        read = sum(len(c.service_lines) for m in models for c in m.claims())
        seconds = time.perf_counter() - started
        print(f"835 read back with x12sdk: {read:,} lines in {seconds:.2f} s = {read / seconds:,.0f} lines/s")

        path = Path(tmp) / "claims.837"
        claims = lines // 3
        path.write_text(_837(claims))
        started = time.perf_counter()
        result = read_837(path)
        seconds = time.perf_counter() - started
        n = result.table.num_rows
        assert not result.errors, result.errors[:3]
        print(f"837P read (bhum reader): {n:,} lines in {seconds:.2f} s = {n / seconds:,.0f} lines/s")


def _837(claims: int) -> str:
    head = (
        "ISA*00*          *00*          *ZZ*SUBMITTER      *ZZ*BHUMPLAN       "
        "*260105*0900*^*00501*000000001*0*T*:~"
        "GS*HC*SUBMITTER*BHUMPLAN*20260105*0900*1*X*005010X222A2~ST*837*0001*005010X222A2~"
        "BHT*0019*00*1*20260105*0900*CH~NM1*41*2*SUBMITTER*****46*S1~NM1*40*2*BHUM PLAN*****46*P1~"
        "HL*1**20*1~NM1*85*2*GOOD CMHC*****XX*1234567893~"
    )
    parts = [head]
    count = 6
    for c in range(claims):
        lines = "".join(
            f"LX*{n}~SV1*HC:T1017:HE:HN*60.00*UN*4***1~DTP*472*D8*202601{n + 4:02d}~"
            f"NTE*ADD*START=0900 STOP=1000 F2F=60~"
            for n in (1, 2, 3)
        )
        parts.append(
            f"HL*{c + 2}*1*22*0~SBR*P*18*******MC~NM1*IL*1*SYNTHETIC*MEMBER****MI*M{c:07d}~"
            f"NM1*PR*2*BHUM PLAN*****PI*P1~CLM*C{c:08d}*180.00***11:B:1*Y*A*Y*Y~HI*ABK:F331~{lines}"
        )
        count += 6 + 12
    parts.append(f"SE*{count + 1}*0001~GE*1*1~IEA*1*000000001~")
    return "".join(parts)


if __name__ == "__main__":
    main()
