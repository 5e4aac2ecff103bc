"""835 (005010X221A1) remittance advice from claim-line decisions, built column-wise.

Every segment of every line is built with Arrow string kernels over whole columns (no object per
line), then lines are joined into claims and claims into one transaction set per payee (billing NPI)
with list joins. Amounts are handled in integer cents so balancing is exact:

* each line:   SVC02 charge - sum(line CAS amounts) = SVC03 paid, else ``InputError`` (the line);
* each claim:  CLP03 = sum of SVC02, CLP04 = sum of SVC03, CLP05 = sum of PR adjustments;
* each payee:  BPR02 = sum of CLP04 - sum of PLB amounts.

The decision columns are documented in docs/x12.md and in ``DECISION_COLUMNS`` below.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from bhum.domain.errors import InputError

IMPLEMENTATION = "005010X221A1"
_SOURCE = "835 decisions"
_T = "~\n"  # segment terminator; a line break after each segment keeps the file readable

_ADJUSTMENT = pa.struct(
    [
        ("group_code", pa.string()),
        ("reason_code", pa.string()),
        ("amount", pa.float64()),
        ("quantity", pa.float64()),
    ]
)

# name -> (type, required)
DECISION_COLUMNS: dict[str, tuple[pa.DataType, bool]] = {
    "claim_id": (pa.string(), True),
    "claim_line_number": (pa.int32(), True),
    "member_id": (pa.string(), True),
    "billing_npi": (pa.string(), True),
    "service_date": (pa.date32(), True),
    "charge_amount": (pa.float64(), True),
    "paid_amount": (pa.float64(), True),
    "paid_units": (pa.float64(), True),
    "denied_units": (pa.float64(), True),
    "adjustments": (pa.list_(_ADJUSTMENT), True),
    "service_end_date": (pa.date32(), False),
    "hcpcs_code": (pa.string(), False),
    "hcpcs_modifier_1": (pa.string(), False),
    "hcpcs_modifier_2": (pa.string(), False),
    "hcpcs_modifier_3": (pa.string(), False),
    "hcpcs_modifier_4": (pa.string(), False),
    "revenue_center_code": (pa.string(), False),
    "remark_codes": (pa.list_(pa.string()), False),
    "patient_last_name": (pa.string(), False),
    "patient_first_name": (pa.string(), False),
    "payer_claim_control_number": (pa.string(), False),
}
DECISION_SCHEMA = pa.schema([(name, kind) for name, (kind, _) in DECISION_COLUMNS.items()])

_GROUP_CODES = ("CO", "PR", "OA", "PI")
_DELIMITERS = "*~:^"
_TEXT_COLUMNS = (
    "claim_id", "member_id", "billing_npi", "hcpcs_code", "hcpcs_modifier_1", "hcpcs_modifier_2",
    "hcpcs_modifier_3", "hcpcs_modifier_4", "revenue_center_code", "patient_last_name",
    "patient_first_name", "payer_claim_control_number",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Adjustment:
    """One CAS trio: group code (CO contractual, PR patient, OA other, PI payer-initiated), CARC, amount."""

    group_code: str
    reason_code: str
    amount: float
    quantity: float | None = None


@dataclass(frozen=True, slots=True)
class LineDecision:
    """A claim line as decided by the claim checks, in the shape the 835 needs."""

    claim_id: str
    claim_line_number: int
    member_id: str
    billing_npi: str
    service_date: date
    charge_amount: float
    paid_amount: float
    paid_units: float
    denied_units: float
    adjustments: Sequence[Adjustment] = ()
    remark_codes: Sequence[str] = ()
    hcpcs_code: str | None = None
    modifiers: Sequence[str] = ()
    revenue_center_code: str | None = None
    service_end_date: date | None = None
    patient_last_name: str | None = None
    patient_first_name: str | None = None
    payer_claim_control_number: str | None = None


@dataclass(frozen=True, slots=True)
class Payer:
    """Loop 1000A and TRN03: who pays. ``identifier`` is TRN03 ("1" + the payer's EIN)."""

    name: str
    identifier: str
    address: str
    city: str
    state: str
    zip_code: str
    contact_phone: str | None = None  # PER*BL (technical contact)
    routing_number: str | None = None  # BPR07, needed when paying by ACH
    account_number: str | None = None  # BPR09


@dataclass(frozen=True, slots=True)
class Payee:
    """Loop 1000B: who is paid, keyed in the decisions by ``billing_npi``."""

    name: str
    npi: str
    tax_id: str | None = None
    routing_number: str | None = None  # BPR13
    account_number: str | None = None  # BPR15


@dataclass(frozen=True, slots=True)
class ProviderAdjustment:
    """A PLB adjustment outside any claim (L6 interest, WO overpayment recovery); positive reduces BPR02."""

    npi: str
    fiscal_period_end: date
    reason_code: str
    amount: float
    reference: str | None = None


@dataclass(frozen=True, slots=True)
class Envelope:
    """ISA/GS identification and control numbers. ``created`` is passed in: adapters get time from callers."""

    sender_id: str
    receiver_id: str
    created: datetime
    interchange_control_number: int = 1
    group_control_number: int = 1
    usage_indicator: str = "T"


@dataclass(frozen=True, slots=True)
class PaymentRun:
    """What one remittance file pays: per payee a check/EFT trace number, on one production date."""

    payer: Payer
    payees: Mapping[str, Payee]
    production_date: date
    payment_date: date
    trace_numbers: Mapping[str, str]  # billing NPI -> check or EFT trace number (TRN02)
    payment_method: str = "CHK"  # CHK check, ACH electronic funds transfer
    claim_filing_indicator: str = "MC"  # CLP06: MC Medicaid, HM HMO, 12 PPO, CI commercial ...
    provider_adjustments: Sequence[ProviderAdjustment] = field(default_factory=tuple)


@dataclass(frozen=True, slots=True)
class Remittance:
    text: str
    transaction_sets: int
    claims: int
    lines: int
    total_paid_cents: int


def decisions_table(lines: Iterable[LineDecision]) -> pa.Table:
    """The decision table for ``write_835`` from dataclasses (convenient for small batches and tests)."""
    rows: dict[str, list[Any]] = {name: [] for name in DECISION_SCHEMA.names}
    for line in lines:
        modifiers = [*line.modifiers, None, None, None, None][:4]
        values: dict[str, Any] = {
            "claim_id": line.claim_id,
            "claim_line_number": line.claim_line_number,
            "member_id": line.member_id,
            "billing_npi": line.billing_npi,
            "service_date": line.service_date,
            "charge_amount": line.charge_amount,
            "paid_amount": line.paid_amount,
            "paid_units": line.paid_units,
            "denied_units": line.denied_units,
            "adjustments": [
                {
                    "group_code": a.group_code,
                    "reason_code": a.reason_code,
                    "amount": a.amount,
                    "quantity": a.quantity,
                }
                for a in line.adjustments
            ],
            "service_end_date": line.service_end_date,
            "hcpcs_code": line.hcpcs_code,
            "revenue_center_code": line.revenue_center_code,
            "remark_codes": list(line.remark_codes),
            "patient_last_name": line.patient_last_name,
            "patient_first_name": line.patient_first_name,
            "payer_claim_control_number": line.payer_claim_control_number,
        }
        for i in range(4):
            values[f"hcpcs_modifier_{i + 1}"] = modifiers[i]
        for name, column in rows.items():
            column.append(values[name])
    return pa.table(rows, schema=DECISION_SCHEMA)


# -- column helpers ------------------------------------------------------------------------------


def _join(*parts: Any) -> pa.Array:
    return pc.binary_join_element_wise(*parts, "")


def _money(cents: np.ndarray) -> pa.Array:
    """Integer cents -> "1234.50" (X12 R type with two decimals), vectorized."""
    magnitude = np.abs(cents)
    whole = pc.cast(pa.array(magnitude // 100), pa.string())
    fraction = pc.utf8_lpad(pc.cast(pa.array(magnitude % 100), pa.string()), 2, "0")
    sign = pa.array(np.where(cents < 0, "-", ""))
    return _join(sign, whole, ".", fraction)


def _number(values: pa.Array) -> pa.Array:
    """Quantities: 16.0 -> "16", 0.5 -> "0.5"."""
    return pc.cast(values, pa.string())


def _yyyymmdd(values: pa.Array) -> pa.Array:
    # date32 -> "2026-01-05" -> "20260105"; an order of magnitude faster than strftime
    return pc.replace_substring(pc.cast(values, pa.string()), "-", "")


def _cents(values: pa.Array) -> np.ndarray:
    cents: np.ndarray = np.rint(values.to_numpy(zero_copy_only=False) * 100).astype(np.int64)
    return cents


def _seg(value: str) -> str:
    return value + _T


def _row_error(table: pa.Table, row: int, message: str, field_name: str) -> InputError:
    claim = table.column("claim_id")[row].as_py()
    line = table.column("claim_line_number")[row].as_py()
    return InputError(message, field=field_name, record=f"claim {claim} line {line}", source=_SOURCE)


def _prepare(decisions: pa.Table) -> pa.Table:
    """Check columns, types, nulls and delimiters; cast; order lines by payee, claim and line number."""
    columns: dict[str, pa.ChunkedArray] = {}
    n = decisions.num_rows
    for name, (kind, required) in DECISION_COLUMNS.items():
        if name not in decisions.column_names:
            if required:
                raise InputError("the decisions table lacks a required column", field=name, source=_SOURCE)
            columns[name] = pa.chunked_array([pa.nulls(n, kind)])
            continue
        try:
            columns[name] = decisions.column(name).cast(kind)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
            raise InputError(f"column cannot be read as {kind}: {exc}", field=name, source=_SOURCE) from exc
    table = pa.table(columns)
    for name, (_, required) in DECISION_COLUMNS.items():
        if required and table.column(name).null_count:
            row = pc.index(pc.is_null(table.column(name)), True).as_py()
            raise (
                _row_error(table, row, "a required value is empty", name)
                if name not in ("claim_id", "claim_line_number")
                else InputError("a required value is empty", field=name, record=f"row {row}", source=_SOURCE)
            )
    for name in _TEXT_COLUMNS:
        if not _may_hold_delimiter(table.column(name)):
            continue
        hits = pc.match_substring_regex(table.column(name), r"[*~:^\n]")
        if pc.any(hits).as_py():
            row = pc.index(hits, True).as_py()
            raise _row_error(table, row, f"contains an X12 delimiter ({_DELIMITERS})", name)
    return _grouped(table.combine_chunks())


_DELIMITER_BYTES = np.zeros(256, dtype=bool)
_DELIMITER_BYTES[[ord(c) for c in "*~:^\n"]] = True


def _may_hold_delimiter(column: pa.ChunkedArray) -> bool:
    """False when no delimiter byte is anywhere in the column's character data (one pass over the
    bytes; the per-row regex then only runs to name the row). ASCII delimiters never occur inside
    multi-byte UTF-8 characters, so a clean buffer means clean values."""
    for chunk in column.chunks:
        buffers = chunk.buffers()
        data = buffers[2] if len(buffers) > 2 else None
        if (
            data is not None
            and data.size
            and bool(_DELIMITER_BYTES[np.frombuffer(data, dtype=np.uint8)].any())
        ):
            return True
    return False


def _codes(values: pa.Array) -> np.ndarray:
    """Integer codes in order of first appearance (dictionary encoding), for cheap run detection."""
    encoded = pc.dictionary_encode(values)
    codes: np.ndarray = encoded.indices.to_numpy(zero_copy_only=False)
    return codes


def _grouped(table: pa.Table) -> pa.Table:
    """Lines grouped by payee, then by claim, keeping the caller's order otherwise.

    The claim checks emit a claim's lines together, so usually only a stable integer sort by payee
    is needed; a full sort by (billing NPI, claim id, line number) is the fallback when a claim's
    lines are scattered.
    """
    payee = _codes(table.column("billing_npi").chunk(0))
    if len(payee) > 1 and bool(np.any(payee[1:] < payee[:-1])):
        table = table.take(pa.array(np.argsort(payee, kind="stable"))).combine_chunks()
    key = _codes(_join(table.column("billing_npi").chunk(0), "\x00", table.column("claim_id").chunk(0)))
    runs = 1 + int(np.count_nonzero(key[1:] != key[:-1])) if len(key) else 0
    if runs == (int(key.max()) + 1 if len(key) else 0):
        return table
    order = pc.sort_indices(
        table,
        sort_keys=[
            ("billing_npi", "ascending"),
            ("claim_id", "ascending"),
            ("claim_line_number", "ascending"),
        ],
    )
    return table.take(order).combine_chunks()


# -- the writer ----------------------------------------------------------------------------------


def write_835(decisions: pa.Table, run: PaymentRun, envelope: Envelope) -> Remittance:
    """An 835 interchange: one transaction set per billing NPI, claims in claim-id order."""
    table = _prepare(decisions)
    n = table.num_rows
    if n == 0:
        raise InputError("no claim lines to remit", field="claim_id", source=_SOURCE)

    adjustments = table.column("adjustments").chunk(0) if table.num_rows else None
    assert adjustments is not None
    flat = pc.list_flatten(adjustments)
    parent = pc.list_parent_indices(adjustments).to_numpy(zero_copy_only=False)
    group = flat.field("group_code")
    reason = flat.field("reason_code")
    adj_cents = _cents(pc.fill_null(flat.field("amount"), 0.0))
    if len(flat):
        if pc.any(pc.invert(pc.is_in(group, pa.array(_GROUP_CODES)))).as_py() or group.null_count:
            bad = int(
                parent[
                    pc.index(
                        pc.invert(pc.fill_null(pc.is_in(group, pa.array(_GROUP_CODES)), False)), True
                    ).as_py()
                ]
            )
            raise _row_error(
                table, bad, f"adjustment group code must be one of {_GROUP_CODES}", "adjustments.group_code"
            )
        if reason.null_count or pc.any(pc.equal(reason, "")).as_py():
            bad = int(parent[pc.index(pc.fill_null(pc.equal(reason, ""), True), True).as_py()])
            raise _row_error(table, bad, "an adjustment needs a CARC reason code", "adjustments.reason_code")
        if pc.any(pc.equal(reason, "62")).as_py():
            bad = int(parent[pc.index(pc.equal(reason, "62"), True).as_py()])
            raise _row_error(
                table, bad, "CARC 62 is deactivated and may not be sent", "adjustments.reason_code"
            )

    charge = _cents(table.column("charge_amount").chunk(0))
    paid = _cents(table.column("paid_amount").chunk(0))
    adjusted = np.bincount(parent, weights=adj_cents, minlength=n).round().astype(np.int64)
    unbalanced = np.nonzero(charge - adjusted != paid)[0]
    if len(unbalanced):
        row = int(unbalanced[0])
        raise _row_error(
            table,
            row,
            f"charge {charge[row] / 100:.2f} - adjustments {adjusted[row] / 100:.2f} "
            f"!= paid {paid[row] / 100:.2f}",
            "adjustments",
        )
    is_pr = (
        pc.equal(group, "PR").to_numpy(zero_copy_only=False).astype(bool) if len(flat) else np.zeros(0, bool)
    )
    patient_cents = np.bincount(parent[is_pr], weights=adj_cents[is_pr], minlength=n).round().astype(np.int64)

    col = table.column
    # -- line blocks: SVC, DTM, CAS, REF*6R, LQ ---------------------------------------------------
    hcpcs = col("hcpcs_code").chunk(0)
    revenue = col("revenue_center_code").chunk(0)
    if pc.any(pc.and_(pc.is_null(hcpcs), pc.is_null(revenue))).as_py():
        row = pc.index(pc.and_(pc.is_null(hcpcs), pc.is_null(revenue)), True).as_py()
        raise _row_error(table, row, "a line needs a procedure code or a revenue code", "hcpcs_code")
    procedure = pc.binary_join_element_wise(
        "HC", hcpcs, *(col(f"hcpcs_modifier_{i}").chunk(0) for i in range(1, 5)), ":", null_handling="skip"
    )
    svc01 = pc.if_else(pc.is_null(hcpcs), _join("NU:", revenue), procedure)
    svc04 = pc.if_else(pc.is_null(hcpcs), "", pc.fill_null(revenue, ""))
    paid_units = col("paid_units").chunk(0)
    denied_units = col("denied_units").chunk(0)
    billed_units = pc.add(paid_units, denied_units)
    # SVC07 (original units) only when units were cut, so a fully paid line stays short
    svc_tail = pc.if_else(pc.greater(denied_units, 0), _join("**", _number(billed_units)), "")
    svc = _join(
        "SVC*",
        svc01,
        "*",
        _money(charge),
        "*",
        _money(paid),
        "*",
        svc04,
        "*",
        _number(paid_units),
        svc_tail,
        _T,
    )

    start = col("service_date").chunk(0)
    end = pc.fill_null(col("service_end_date").chunk(0), start)
    single_day = pc.equal(start, end)
    start_text = _yyyymmdd(start)
    if pc.all(single_day).as_py():
        dtm = _join("DTM*472*", start_text, _T)
    else:
        dtm = pc.if_else(
            single_day,
            _join("DTM*472*", start_text, _T),
            _join("DTM*150*", start_text, _T, "DTM*151*", _yyyymmdd(end), _T),
        )

    cas = _cas_blocks(adjustments, flat, group, reason, adj_cents, parent, n)
    ref = _join("REF*6R*", pc.cast(col("claim_line_number").chunk(0), pa.string()), _T)
    remarks = col("remark_codes").chunk(0)
    remark_flat = pc.list_flatten(remarks)
    lq_each = _join("LQ*HE*", remark_flat, _T)
    lq = pc.binary_join(pa.ListArray.from_arrays(_offsets(remarks), lq_each), "")
    line_block = _join(svc, dtm, cas, ref, lq)

    # -- claims: runs of equal (billing NPI, claim id) --------------------------------------------
    npi = col("billing_npi").chunk(0)
    claim_id = col("claim_id").chunk(0)
    key = _codes(_join(npi, "\x00", claim_id))
    starts = np.flatnonzero(np.concatenate(([True], key[1:] != key[:-1])))
    claim_charge = np.add.reduceat(charge, starts)
    claim_paid = np.add.reduceat(paid, starts)
    claim_patient = np.add.reduceat(patient_cents, starts)
    first = pa.array(starts)
    ids = pc.take(claim_id, first)
    status = pa.array(np.where((claim_paid == 0) & (claim_charge != 0), "4", "1"))  # 4 = denied
    control = pc.coalesce(pc.take(col("payer_claim_control_number").chunk(0), first), ids)
    last_name = pc.fill_null(pc.take(col("patient_last_name").chunk(0), first), "UNKNOWN")
    first_name = pc.fill_null(pc.take(col("patient_first_name").chunk(0), first), "")
    clp = _join(
        "CLP*",
        ids,
        "*",
        status,
        "*",
        _money(claim_charge),
        "*",
        _money(claim_paid),
        "*",
        _money(claim_patient),
        "*",
        run.claim_filing_indicator,
        "*",
        control,
        _T,
        "NM1*QC*1*",
        last_name,
        "*",
        first_name,
        "****MI*",
        pc.take(col("member_id").chunk(0), first),
        _T,
    )
    claim_offsets = pa.array(np.append(starts, n).astype(np.int32))
    claim_lines = pc.binary_join(pa.ListArray.from_arrays(claim_offsets, line_block), "")
    claim_block = _join(clp, claim_lines)
    claim_segments = pc.count_substring(claim_block, "~").to_numpy(zero_copy_only=False)
    claim_npi = pc.take(npi, first)
    payee_codes = _codes(claim_npi)

    # -- transaction sets, one per payee ----------------------------------------------------------
    payee_starts = np.flatnonzero(np.concatenate(([True], payee_codes[1:] != payee_codes[:-1])))
    payee_ends = np.append(payee_starts[1:], len(starts))
    created = envelope.created
    chunks = [
        _isa(envelope),
        _seg(
            f"GS*HP*{envelope.sender_id}*{envelope.receiver_id}*{created:%Y%m%d}*{created:%H%M}*"
            f"{envelope.group_control_number}*X*{IMPLEMENTATION}"
        ),
    ]
    total_paid = 0
    for index, (a, b) in enumerate(zip(payee_starts, payee_ends, strict=True)):
        payee_npi = str(claim_npi[a].as_py())
        paid_cents = int(claim_paid[a:b].sum())
        body = pc.binary_join(
            pa.ListArray.from_arrays(pa.array([0, b - a], pa.int32()), claim_block[a:b]), ""
        )[0]
        header, plb, header_count, plb_count = _transaction_header(run, payee_npi, paid_cents, index + 1)
        segments = header_count + 1 + int(claim_segments[a:b].sum()) + plb_count + 1  # + LX + SE
        chunks.append(header)
        chunks.append(_seg("LX*1"))
        chunks.append(body.as_py())
        chunks.append(plb)
        chunks.append(_seg(f"SE*{segments}*{index + 1:04d}"))
        total_paid += paid_cents - _plb_cents(run, payee_npi)
    count = len(payee_starts)
    chunks.append(_seg(f"GE*{count}*{envelope.group_control_number}"))
    chunks.append(_seg(f"IEA*1*{envelope.interchange_control_number:09d}"))
    return Remittance("".join(chunks), count, len(starts), n, total_paid)


def write_835_file(path: str | Path, decisions: pa.Table, run: PaymentRun, envelope: Envelope) -> Remittance:
    """``write_835`` to a file, written whole or not at all (temporary file, then rename)."""
    remittance = write_835(decisions, run, envelope)
    target = Path(path)
    partial = target.with_name(target.name + ".partial")
    partial.write_text(remittance.text, encoding="ascii")
    partial.replace(target)
    return remittance


def _offsets(lists: pa.ListArray) -> pa.Array:
    lengths = pc.fill_null(pc.list_value_length(lists), 0).to_numpy(zero_copy_only=False)
    return pa.array(np.concatenate(([0], np.cumsum(lengths))).astype(np.int32))


def _cas_blocks(
    adjustments: pa.ListArray,
    flat: pa.StructArray,
    group: pa.Array,
    reason: pa.Array,
    cents: np.ndarray,
    parent: np.ndarray,
    n: int,
) -> pa.Array:
    """Per line, its CAS segments: one per group code, up to six reason trios each."""
    quantity = flat.field("quantity")
    # a trio always fills three elements (reason, amount, quantity) so the next trio stays aligned
    trio = _join(reason, "*", _money(cents), "*", pc.fill_null(_number(quantity), ""))
    each = _join(pc.utf8_rtrim(_join("CAS*", group, "*", trio), "*"), _T)
    counts = np.bincount(parent, minlength=n)
    if not len(counts) or counts.max(initial=0) <= 1:
        return pc.binary_join(pa.ListArray.from_arrays(_offsets(adjustments), each), "")
    # Lines with several adjustments: the trios of one group code share a CAS segment (six trios at
    # most), groups in order of first appearance. Done with sorts over the flat trios, no loop per line.
    k = np.arange(len(parent))
    codes = pc.dictionary_encode(group)
    gid = np.asarray(codes.indices.to_numpy(zero_copy_only=False), dtype=np.int64)
    key = parent.astype(np.int64) * (int(gid.max(initial=0)) + 1) + gid
    _, first_index, inverse = np.unique(key, return_index=True, return_inverse=True)
    first = first_index[inverse]  # the first trio of the same line and group code
    order = np.lexsort((k, first))
    sorted_first = first[order]
    starts = np.flatnonzero(np.concatenate(([True], sorted_first[1:] != sorted_first[:-1])))
    run_start = np.repeat(starts, np.diff(np.concatenate((starts, [len(order)]))))
    chunk = (np.arange(len(order)) - run_start) // 6
    segment_break = np.concatenate(
        ([True], (sorted_first[1:] != sorted_first[:-1]) | (chunk[1:] != chunk[:-1]))
    )
    segment_starts = np.flatnonzero(segment_break)
    segment_offsets = pa.array(np.concatenate((segment_starts, [len(order)])).astype(np.int32))
    ordered_trios = trio.take(pa.array(order))
    joined = pc.binary_join(pa.ListArray.from_arrays(segment_offsets, ordered_trios), "*")
    head = group.take(pa.array(order[segment_starts]))
    segments = _join(pc.utf8_rtrim(_join("CAS*", head, "*", joined), "*"), _T)
    segment_parent = parent[order[segment_starts]]
    per_line = np.bincount(segment_parent, minlength=n)
    line_offsets = pa.array(np.concatenate(([0], np.cumsum(per_line))).astype(np.int32))
    return pc.binary_join(pa.ListArray.from_arrays(line_offsets, segments), "")


def _isa(envelope: Envelope) -> str:
    created = envelope.created
    return _seg(
        f"ISA*00*{'':10}*00*{'':10}*ZZ*{envelope.sender_id:<15.15}*ZZ*{envelope.receiver_id:<15.15}*"
        f"{created:%y%m%d}*{created:%H%M}*^*00501*{envelope.interchange_control_number:09d}*0*"
        f"{envelope.usage_indicator}*:"
    )


def _plb_cents(run: PaymentRun, npi: str) -> int:
    return sum(round(a.amount * 100) for a in run.provider_adjustments if a.npi == npi)


def _transaction_header(run: PaymentRun, npi: str, paid_cents: int, number: int) -> tuple[str, str, int, int]:
    payee = run.payees.get(npi)
    if payee is None:
        raise InputError(
            "no payee (name, NPI) given for this billing NPI", field="billing_npi", record=npi, source=_SOURCE
        )
    trace = run.trace_numbers.get(npi)
    if not trace:
        raise InputError(
            "no check/EFT trace number given for this payee",
            field="trace_numbers",
            record=npi,
            source=_SOURCE,
        )
    payer = run.payer
    total = paid_cents - _plb_cents(run, npi)
    amount = _money(np.array([total]))[0].as_py()
    paid_on = f"{run.payment_date:%Y%m%d}"
    if total == 0:
        bpr = f"BPR*H*{amount}*C*NON************{paid_on}"  # notification only: nothing paid
    elif run.payment_method == "ACH":
        if not (
            payer.routing_number and payer.account_number and payee.routing_number and payee.account_number
        ):
            raise InputError(
                "ACH needs payer and payee routing and account numbers",
                field="payment_method",
                record=npi,
                source=_SOURCE,
            )
        bpr = (
            f"BPR*I*{amount}*C*ACH*CCP*01*{payer.routing_number}*DA*{payer.account_number}*{payer.identifier}"
            f"**01*{payee.routing_number}*DA*{payee.account_number}*{paid_on}"
        )
    elif run.payment_method == "CHK":
        bpr = f"BPR*I*{amount}*C*CHK************{paid_on}"
    else:
        raise InputError(
            f"payment method {run.payment_method!r} is not CHK or ACH", field="payment_method", source=_SOURCE
        )
    segments = [
        f"ST*835*{number:04d}",
        bpr,
        f"TRN*1*{trace}*{payer.identifier}",
        f"DTM*405*{run.production_date:%Y%m%d}",
        f"N1*PR*{payer.name}",
        f"N3*{payer.address}",
        f"N4*{payer.city}*{payer.state}*{payer.zip_code}",
    ]
    if payer.contact_phone:
        segments.append(f"PER*BL*CLAIMS*TE*{payer.contact_phone}")
    segments.append(f"N1*PE*{payee.name}*XX*{payee.npi}")
    if payee.tax_id:
        segments.append(f"REF*TJ*{payee.tax_id}")
    plb = [
        f"PLB*{a.npi}*{a.fiscal_period_end:%Y%m%d}*{a.reason_code}{':' + a.reference if a.reference else ''}*"
        f"{_money(np.array([round(a.amount * 100)]))[0].as_py()}"
        for a in run.provider_adjustments
        if a.npi == npi
    ]
    return "".join(map(_seg, segments)), "".join(map(_seg, plb)), len(segments), len(plb)
