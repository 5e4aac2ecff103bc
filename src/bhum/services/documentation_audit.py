"""Documentation audit of billed T1017 sessions (MN-05 over TCM-09 / TCM-10).

Input: billed sessions (claim lines in the ``medical_claim`` schema, or the decisions of a claim check),
progress notes and service plans in the schema of docs/documentation-audit-schema.md. Output: one row
per billed T1017 session naming the TCM-09 elements its note lacks, the TCM-10 signatures its service
plan lacks, and the amount at risk of recoupment; plus one row per plan.

Each note and plan is judged once in Python (``bhum.domain.documentation_audit``); matching sessions to
notes and plans is set-based (Arrow joins), so a batch of many claim lines is never looped over.
A note matches a session by the claim id + line it names, else by member and date of service (the
best-documented note of that day); a plan by member, the session's date inside its effective span (the
latest such plan).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from bhum.domain.access import AuditAction
from bhum.domain.case_management import (
    PlanGoal,
    ProgressNote,
    ServicePlan,
    SignatureKind,
    activity_from_code,
)
from bhum.domain.documentation_audit import (
    ELEMENTS,
    AuditedNote,
    AuditedPlan,
    audit_note,
    audit_plan,
)
from bhum.domain.errors import InputError
from bhum.domain.values import DateSpan, parse_date
from bhum.policy import PackRegistry
from bhum.services.audit import record_access
from bhum.services.care_records import CareUnitOfWork
from bhum.services.unit_of_work import UnitOfWork

NOTE_FIELDS = frozenset(
    {
        "note_id", "member_id", "staff_id", "claim_id", "claim_line_number", "session_date",
        "persons_served", "start_time", "stop_time", "signature", "signed_on", "original_signature_on",
        "provider_credentials", "plan_needs_addressed", "activities", "activity_narrative",
        "progress_or_barriers", "member_response", "new_needs_identified", "member_satisfaction",
    }
)  # fmt: skip
PLAN_FIELDS = frozenset(
    {
        "plan_id", "member_id", "effective_from", "effective_to", "goals", "member_participated",
        "member_signed_on", "case_manager_signed_on", "licensed_professional_signed_on",
        "licensed_professional_id",
    }
)  # fmt: skip
ALL_ELEMENTS = ";".join(e.value for e in ELEMENTS)
SESSION_COLUMNS = (
    "claim_id",
    "claim_line_number",
    "member_id",
    "service_date",
    "rendering_staff_id",
    "units",
    "amount",
    "amount_basis",
)


@dataclass(frozen=True, slots=True)
class AuditParameters:
    service_code: str  # T1017 (TCM-01)
    original_signature_days: int  # TCM-09 faxed signatures

    @classmethod
    def from_packs(cls, registry: PackRegistry) -> AuditParameters:
        return cls(
            service_code=registry.code("tcm.t1017-tf-limits", "service_code").code,
            original_signature_days=registry.integer(
                "tcm.faxed-signature-originalled", "original_signature_days"
            ),
        )


# -- parsing notes and plans (records from JSON, JSON lines or CSV) --------------------------------


class _Record:
    """One input record, read field by field; every error names the source, record and field."""

    def __init__(self, values: Mapping[str, Any], allowed: frozenset[str], source: str, index: int) -> None:
        self.values = values
        self.source = source
        self.record: str | int = index
        unknown = sorted(set(values) - allowed)
        if unknown:
            raise InputError("is not a field of this schema", field=unknown[0], record=index, source=source)

    def error(self, field: str, message: str) -> InputError:
        return InputError(message, field=field, record=self.record, source=self.source)

    def text(self, field: str) -> str:
        value = self.values.get(field)
        if value is None:
            return ""
        if not isinstance(value, str | int | float):
            raise self.error(field, "must be text")
        return str(value).strip()

    def required(self, field: str) -> str:
        value = self.text(field)
        if not value:
            raise self.error(field, "is missing")
        return value

    def optional(self, field: str) -> str | None:
        return self.text(field) or None

    def day(self, field: str) -> date | None:
        value = self.values.get(field)
        if isinstance(value, date):
            return value
        text = self.text(field)
        return parse_date(text, field=field, record=self.record, source=self.source) if text else None

    def clock(self, field: str) -> time | None:
        value = self.values.get(field)
        if isinstance(value, time):
            return value
        text = self.text(field)
        if not text:
            return None
        try:
            return time.fromisoformat(text)
        except ValueError as exc:
            raise self.error(field, f"{text!r} is not a time (HH:MM)") from exc

    def items(self, field: str) -> tuple[str, ...]:
        value = self.values.get(field)
        if value is None:
            return ()
        if isinstance(value, list | tuple):
            return tuple(str(v).strip() for v in value if str(v).strip())
        return tuple(v.strip() for v in self.text(field).split(";") if v.strip())  # CSV: "a;b"

    def whole(self, field: str) -> int | None:
        text = self.text(field)
        if not text:
            return None
        try:
            return int(text)
        except ValueError as exc:
            raise self.error(field, f"{text!r} is not a whole number") from exc

    def flag(self, field: str) -> bool:
        value = self.values.get(field)
        if isinstance(value, bool):
            return value
        text = self.text(field).lower()
        if text in ("", "false", "no", "0"):
            return False
        if text in ("true", "yes", "1"):
            return True
        raise self.error(field, f"{text!r} is not true or false")


def parse_notes(records: Iterable[Mapping[str, Any]], *, source: str) -> list[AuditedNote]:
    """Progress notes from records (docs/documentation-audit-schema.md). Blank elements are kept as
    missing (that is what the audit reports); malformed values and unknown fields are refused."""
    notes: list[AuditedNote] = []
    seen: set[str] = set()
    for index, values in enumerate(records, start=1):
        r = _Record(values, NOTE_FIELDS, source, index)
        note_id = r.required("note_id")
        r.record = note_id
        if note_id in seen:
            raise r.error("note_id", "appears twice")
        seen.add(note_id)
        signature_text = r.text("signature").lower()
        try:
            signature = SignatureKind(signature_text) if signature_text else None
        except ValueError as exc:
            raise r.error("signature", f"{signature_text!r} is not original or faxed") from exc
        note = ProgressNote(
            note_id=note_id,
            session_date=r.day("session_date"),
            persons_served=r.items("persons_served"),
            start_time=r.clock("start_time"),
            stop_time=r.clock("stop_time"),
            signature=signature,
            signed_on=r.day("signed_on"),
            original_signature_on=r.day("original_signature_on"),
            provider_credentials=r.text("provider_credentials"),
            plan_needs_addressed=r.text("plan_needs_addressed"),
            activities=tuple(
                activity_from_code(a, record=note_id, source=source) for a in r.items("activities")
            ),
            activity_narrative=r.text("activity_narrative"),
            progress_or_barriers=r.text("progress_or_barriers"),
            member_response=r.text("member_response"),
            new_needs_identified=r.text("new_needs_identified"),
            member_satisfaction=r.text("member_satisfaction"),
        )
        claim_id, line = r.optional("claim_id"), r.whole("claim_line_number")
        if (claim_id is None) != (line is None):
            raise r.error("claim_line_number" if line is None else "claim_id", "needs both claim_id and line")
        notes.append(AuditedNote(note, r.required("member_id"), r.optional("staff_id"), claim_id, line))
    return notes


def _goals(r: _Record) -> tuple[PlanGoal, ...]:
    value = r.values.get("goals")
    if value is None or value == "":
        return ()
    goals: list[PlanGoal] = []
    if isinstance(value, str):  # CSV: "goal: objective | objective; goal: objective"
        for part in (p for p in value.split(";") if p.strip()):
            goal, _, listed = part.partition(":")
            goals.append(PlanGoal(goal.strip(), tuple(o.strip() for o in listed.split("|") if o.strip())))
        return tuple(goals)
    if not isinstance(value, list):
        raise r.error("goals", "must be a list of {goal, objectives}")
    for position, item in enumerate(value, start=1):
        if not isinstance(item, Mapping) or set(item) - {"goal", "objectives"}:
            raise r.error(f"goals[{position}]", "must be {goal, objectives}")
        objectives = item.get("objectives") or []
        if not isinstance(objectives, list):
            raise r.error(f"goals[{position}].objectives", "must be a list")
        goals.append(PlanGoal(str(item.get("goal") or ""), tuple(str(o) for o in objectives)))
    return tuple(goals)


def parse_plans(records: Iterable[Mapping[str, Any]], *, source: str) -> list[AuditedPlan]:
    """Service plans from records (docs/documentation-audit-schema.md)."""
    plans: list[AuditedPlan] = []
    seen: set[str] = set()
    for index, values in enumerate(records, start=1):
        r = _Record(values, PLAN_FIELDS, source, index)
        plan_id = r.required("plan_id")
        r.record = plan_id
        if plan_id in seen:
            raise r.error("plan_id", "appears twice")
        seen.add(plan_id)
        start = r.day("effective_from")
        if start is None:
            raise r.error("effective_from", "is missing")
        end = r.day("effective_to")
        if end is not None and end < start:
            raise r.error("effective_to", f"ends ({end.isoformat()}) before effective_from")
        plan = ServicePlan(
            plan_id=plan_id,
            goals=_goals(r),
            member_participated=r.flag("member_participated"),
            member_signed_on=r.day("member_signed_on"),
            case_manager_signed_on=r.day("case_manager_signed_on"),
            licensed_professional_signed_on=r.day("licensed_professional_signed_on"),
            licensed_professional_id=r.optional("licensed_professional_id"),
        )
        plans.append(AuditedPlan(plan, r.required("member_id"), DateSpan(start, end)))
    return plans


# -- billed sessions ------------------------------------------------------------------------------


def _column(table: pa.Table, name: str, kind: pa.DataType) -> pa.ChunkedArray:
    if name in table.column_names:
        return pc.cast(table.column(name), kind)
    return pa.chunked_array([pa.nulls(table.num_rows, kind)])


def billed_sessions(table: pa.Table, *, service_code: str, source: str = "claims") -> pa.Table:
    """The billed T1017 sessions of claim lines (``medical_claim`` columns) or of a claim check's
    decisions (``service_date``, ``paid_units``, ``paid_amount``: only lines that paid). The amount at
    stake is what was paid; claim lines without ``paid_amount`` fall back to the allowed, then the
    charged amount, and ``amount_basis`` says which."""
    decisions = "paid_units" in table.column_names and "service_date" in table.column_names
    date_column = "service_date" if decisions else "claim_line_start_date"
    for name in ("claim_id", "claim_line_number", "member_id", "hcpcs_code", date_column):
        if name not in table.column_names:
            raise InputError(f"the file has no {name!r} column", field=name, source=source)
    t1017 = pc.fill_null(
        pc.equal(pc.utf8_trim_whitespace(_column(table, "hcpcs_code", pa.string())), service_code), False
    )
    if decisions:
        t1017 = pc.and_(t1017, pc.fill_null(pc.greater(_column(table, "paid_units", pa.float64()), 0), False))
    rows = table.filter(t1017)
    if decisions:
        units = _column(rows, "paid_units", pa.float64())
        amount = _column(rows, "paid_amount", pa.float64())
        basis = pa.chunked_array([pa.array(["paid"] * rows.num_rows, pa.string())])
    else:
        units = _column(rows, "service_unit_quantity", pa.float64())
        paid = _column(rows, "paid_amount", pa.float64())
        allowed = _column(rows, "allowed_amount", pa.float64())
        charged = _column(rows, "charge_amount", pa.float64())
        amount = pc.coalesce(paid, allowed, charged)
        basis = pc.if_else(
            pc.is_valid(paid),
            "paid",
            pc.if_else(pc.is_valid(allowed), "allowed", pc.if_else(pc.is_valid(charged), "charged", None)),
        )
    return pa.table(
        {
            "claim_id": _column(rows, "claim_id", pa.string()),
            "claim_line_number": _column(rows, "claim_line_number", pa.int64()),
            "member_id": _column(rows, "member_id", pa.string()),
            "service_date": _column(rows, date_column, pa.date32()),
            "rendering_staff_id": _column(rows, "rendering_staff_id", pa.string()),
            "units": units,
            "amount": pc.fill_null(amount, 0.0),
            "amount_basis": basis,
        }
    )


# -- the audit ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AuditSummary:
    sessions: int
    sessions_at_risk: int
    sessions_without_note: int
    sessions_without_plan: int
    amount_billed: float
    amount_at_risk: float
    plans: int
    plans_missing_signatures: int
    as_of: date


@dataclass(frozen=True, slots=True)
class DocumentationAudit:
    sessions: pa.Table  # one row per billed session (docs/documentation-audit-schema.md)
    plans: pa.Table  # one row per service plan
    summary: AuditSummary


def _note_table(notes: Sequence[AuditedNote], parameters: AuditParameters, as_of: date) -> pa.Table:
    """Per-note findings (Python per note), as the payload the joins carry by ``note_idx``."""
    columns: dict[str, list[Any]] = {
        "note_idx": [], "note_id": [], "member_id": [], "session_date": [], "claim_id": [],
        "claim_line_number": [], "missing_count": [], "missing_elements": [], "note_problems": [],
    }  # fmt: skip
    flags: dict[str, list[bool]] = {f"missing_{e.value}": [] for e in ELEMENTS}
    for idx, audited in enumerate(notes):
        found = audit_note(
            audited.note, as_of=as_of, original_signature_days=parameters.original_signature_days
        )
        columns["note_idx"].append(idx)
        columns["note_id"].append(audited.note.note_id)
        columns["member_id"].append(audited.member_id)
        columns["session_date"].append(audited.note.session_date)
        columns["claim_id"].append(audited.claim_id)
        columns["claim_line_number"].append(audited.claim_line_number)
        columns["missing_count"].append(len(found.missing))
        columns["missing_elements"].append(";".join(e.value for e in found.missing))
        columns["note_problems"].append(" ".join(found.problems))
        for element in ELEMENTS:
            flags[f"missing_{element.value}"].append(element in found.missing)
    types = {"session_date": pa.date32(), "claim_line_number": pa.int64(), "missing_count": pa.int64()}
    arrays = {name: pa.array(values, types.get(name, pa.int64() if name == "note_idx" else pa.string()))
              for name, values in columns.items()}  # fmt: skip
    arrays.update({name: pa.array(values, pa.bool_()) for name, values in flags.items()})
    return pa.table(arrays)


def _plan_table(plans: Sequence[AuditedPlan]) -> pa.Table:
    rows = []
    for idx, audited in enumerate(plans):
        found = audit_plan(audited.plan)
        rows.append(
            {
                "plan_idx": idx,
                "plan_id": audited.plan.plan_id,
                "member_id": audited.member_id,
                "effective_from": audited.effective.start,
                "effective_to": audited.effective.end,
                "missing_signatures": ";".join(s.value for s in found.missing_signatures),
                "missing_signature_count": len(found.missing_signatures),
                "plan_problems": " ".join(found.problems),
                "development_compensable": found.development_compensable,
                "rule_id": "TCM-10",
            }
        )
    schema = pa.schema(
        [
            ("plan_idx", pa.int64()), ("plan_id", pa.string()), ("member_id", pa.string()),
            ("effective_from", pa.date32()), ("effective_to", pa.date32()),
            ("missing_signatures", pa.string()), ("missing_signature_count", pa.int64()),
            ("plan_problems", pa.string()), ("development_compensable", pa.bool_()), ("rule_id", pa.string()),
        ]
    )  # fmt: skip
    return pa.Table.from_pylist(rows, schema=schema)


def _first_by(table: pa.Table, keys: list[str], order: list[tuple[str, str]], value: str) -> pa.Table:
    """For each ``keys`` group, ``value`` of the first row in ``order`` (Arrow: sort, then ordered group)."""
    if table.num_rows == 0:
        return table.select([*keys, value])
    ordered = table.sort_by([(k, "ascending") for k in keys] + order)
    grouped = ordered.group_by(keys, use_threads=False).aggregate([(value, "first")])
    return grouped.select([*keys, f"{value}_first"]).rename_columns([*keys, value])


def _take(values: pa.ChunkedArray, idx: pa.Array) -> pa.Array:
    """``values`` at ``idx`` (null where idx is null), as one contiguous array."""
    if len(values) == 0:
        return pa.nulls(len(idx), values.type)
    return pc.take(values.combine_chunks(), idx)


def audit_documentation(
    billed: pa.Table,
    notes: Sequence[AuditedNote],
    plans: Sequence[AuditedPlan],
    *,
    parameters: AuditParameters,
    as_of: date,
    source: str = "claims",
) -> DocumentationAudit:
    """MN-05: for each billed T1017 session, the TCM-09 elements missing from its note (all 11 when no
    note is on file), the TCM-10 signatures missing from its service plan, and the amount at risk."""
    sessions = billed_sessions(billed, service_code=parameters.service_code, source=source)
    sessions = sessions.append_column("session_idx", pa.array(range(sessions.num_rows), pa.int64()))
    note_rows = _note_table(notes, parameters, as_of)
    plan_rows = _plan_table(plans)

    # Notes that name their claim line, then the best-documented note of the member's day.
    named = note_rows.filter(pc.is_valid(note_rows.column("claim_id")))
    by_claim = sessions.select(["session_idx", "claim_id", "claim_line_number"]).join(
        named.select(["claim_id", "claim_line_number", "note_idx"]).rename_columns(
            ["claim_id", "claim_line_number", "claim_note_idx"]
        ),
        keys=["claim_id", "claim_line_number"],
        join_type="left outer",
    )
    dated = note_rows.filter(pc.is_valid(note_rows.column("session_date")))
    best = _first_by(
        dated.select(["member_id", "session_date", "missing_count", "note_id", "note_idx"]),
        ["member_id", "session_date"],
        [("missing_count", "ascending"), ("note_id", "ascending")],
        "note_idx",
    ).rename_columns(["member_id", "service_date", "day_note_idx"])
    by_day = sessions.select(["session_idx", "member_id", "service_date"]).join(
        best, keys=["member_id", "service_date"], join_type="left outer"
    )
    # The plan in effect on the date of service: the latest effective_from not after it.
    candidates = sessions.select(["session_idx", "member_id", "service_date"]).join(
        plan_rows.select(["plan_idx", "member_id", "effective_from", "effective_to"]),
        keys=["member_id"],
        join_type="inner",
    )
    in_effect = candidates.filter(
        pc.and_(
            pc.less_equal(candidates.column("effective_from"), candidates.column("service_date")),
            pc.fill_null(
                pc.greater_equal(candidates.column("effective_to"), candidates.column("service_date")), True
            ),
        )
    )
    plan_of = _first_by(
        in_effect.select(["session_idx", "effective_from", "plan_idx"]),
        ["session_idx"],
        [("effective_from", "descending"), ("plan_idx", "descending")],
        "plan_idx",
    )
    joined = (
        sessions.join(
            by_claim.select(["session_idx", "claim_note_idx"]), keys="session_idx", join_type="left outer"
        )
        .join(by_day.select(["session_idx", "day_note_idx"]), keys="session_idx", join_type="left outer")
        .join(plan_of.select(["session_idx", "plan_idx"]), keys="session_idx", join_type="left outer")
        .sort_by("session_idx")
        .combine_chunks()  # element-wise kernels below need equal chunking
    )
    note_idx = pc.coalesce(
        joined.column("claim_note_idx").combine_chunks(), joined.column("day_note_idx").combine_chunks()
    )
    plan_idx = joined.column("plan_idx").combine_chunks()
    has_note = pc.is_valid(note_idx)
    has_plan = pc.is_valid(plan_idx)

    missing_count = pc.fill_null(_take(note_rows.column("missing_count"), note_idx), len(ELEMENTS))
    missing_elements = pc.fill_null(_take(note_rows.column("missing_elements"), note_idx), ALL_ELEMENTS)
    missing_signatures = pc.fill_null(_take(plan_rows.column("missing_signatures"), plan_idx), "")
    signature_count = pc.fill_null(_take(plan_rows.column("missing_signature_count"), plan_idx), 0)
    note_gap = pc.greater(missing_count, 0)
    plan_gap = pc.or_(pc.invert(has_plan), pc.greater(signature_count, 0))
    at_risk = pc.or_(note_gap, plan_gap)
    amount = joined.column("amount").combine_chunks()
    amount_at_risk = pc.if_else(at_risk, amount, 0.0)

    note_reason = pc.if_else(
        has_note,
        pc.binary_join_element_wise(
            "TCM-09: note ", _take(note_rows.column("note_id"), note_idx), " lacks ",
            pc.cast(missing_count, pa.string()), " of 11 elements (", missing_elements, ")", "",
        ),
        "TCM-09: no progress note for this session (all 11 elements missing)",
    )  # fmt: skip
    plan_reason = pc.if_else(
        has_plan,
        pc.binary_join_element_wise(
            "TCM-10: service plan ", _take(plan_rows.column("plan_id"), plan_idx), " lacks the signature of ",
            missing_signatures, "",
        ),
        "TCM-10: no service plan in effect on the date of service",
    )  # fmt: skip
    both = pc.and_(note_gap, plan_gap)
    reasons = pc.if_else(
        both,
        pc.binary_join_element_wise(note_reason, plan_reason, "; "),
        pc.if_else(note_gap, note_reason, plan_reason),
    )
    rule_ids = pc.if_else(
        both,
        "MN-05;TCM-09;TCM-10",
        pc.if_else(note_gap, "MN-05;TCM-09", pc.if_else(plan_gap, "MN-05;TCM-10", "")),
    )
    reason = pc.if_else(
        at_risk,
        pc.binary_join_element_wise(
            "MN-05: ",
            reasons,
            "; ",
            pc.cast(pc.round(amount_at_risk, 2), pa.string()),
            " at risk of recoupment",
            "",
        ),
        "documentation supports the session",
    )

    columns: dict[str, Any] = {
        "claim_id": joined.column("claim_id"),
        "claim_line_number": joined.column("claim_line_number"),
        "member_id": joined.column("member_id"),
        "service_date": joined.column("service_date"),
        "rendering_staff_id": joined.column("rendering_staff_id"),
        "units": joined.column("units"),
        "amount": amount,
        "amount_basis": joined.column("amount_basis"),
        "note_id": _take(note_rows.column("note_id"), note_idx),
        "missing_count": missing_count,
        "missing_elements": missing_elements,
    }
    for element in ELEMENTS:
        name = f"missing_{element.value}"
        columns[name] = pc.fill_null(_take(note_rows.column(name), note_idx), True)
    columns.update(
        {
            "note_problems": pc.fill_null(_take(note_rows.column("note_problems"), note_idx), ""),
            "plan_id": _take(plan_rows.column("plan_id"), plan_idx),
            "plan_missing_signatures": missing_signatures,
            "at_risk": at_risk,
            "amount_at_risk": amount_at_risk,
            "rule_ids": rule_ids,
            "reason": reason,
        }
    )
    result = pa.table(columns)
    plans_out = plan_rows.drop_columns(["plan_idx"])
    summary = AuditSummary(
        sessions=result.num_rows,
        sessions_at_risk=int(pc.sum(pc.cast(at_risk, pa.int64())).as_py() or 0),
        sessions_without_note=int(pc.sum(pc.cast(pc.invert(has_note), pa.int64())).as_py() or 0),
        sessions_without_plan=int(pc.sum(pc.cast(pc.invert(has_plan), pa.int64())).as_py() or 0),
        amount_billed=round(float(pc.sum(amount).as_py() or 0.0), 2),
        amount_at_risk=round(float(pc.sum(amount_at_risk).as_py() or 0.0), 2),
        plans=plans_out.num_rows,
        plans_missing_signatures=sum(1 for c in plans_out.column("missing_signature_count").to_pylist() if c),
        as_of=as_of,
    )
    return DocumentationAudit(result, plans_out, summary)


def stored_plans(uow: UnitOfWork, member_ids: Sequence[str]) -> list[AuditedPlan]:
    """The newest version of every stored service plan (TCM-10) of these members, for the audit."""
    if not isinstance(uow, CareUnitOfWork):
        raise InputError("no plans were given and the store keeps no service plans", field="plans")
    return [AuditedPlan(s.plan, s.member_id, s.effective) for s in uow.service_plans.for_members(member_ids)]


def run_documentation_audit(
    uow_factory: Callable[[], UnitOfWork],
    billed: pa.Table,
    notes: Sequence[AuditedNote],
    plans: Sequence[AuditedPlan] | None,
    *,
    parameters: AuditParameters,
    actor: str,
    now: datetime,
    reason: str,
    source: str = "claims",
    as_of: date | None = None,
) -> DocumentationAudit:
    """The audit as of ``as_of`` (default: ``now``'s date), with one audit-trail event for the member
    data it read (counts only).
    ``plans`` None: the service plans stored for the billed sessions' members (``bhum cm plan``,
    ``POST /members/{id}/service-plans``) are used."""
    with uow_factory() as uow:
        plans_source = "given"
        if plans is None:
            members = billed_sessions(billed, service_code=parameters.service_code, source=source)
            ids = [m for m in pc.unique(members.column("member_id")).to_pylist() if m is not None]
            plans, plans_source = stored_plans(uow, ids), "store"
        audit = audit_documentation(
            billed, notes, plans, parameters=parameters, as_of=as_of or now.date(), source=source
        )
        record_access(
            uow,
            actor,
            AuditAction.READ,
            "documentation_audit",
            f"{audit.summary.sessions} sessions",
            None,
            reason,
            now,
            detail={
                "notes": str(len(notes)),
                "plans": str(len(plans)),
                "plans_from": plans_source,
                "at_risk": str(audit.summary.sessions_at_risk),
            },
        )
        uow.commit()
    return audit
