"""Claim checks for a batch (issue 5): parameters from the packs, reference data from the store, and the
use case that runs a set-based engine over a batch and hands the decisions to a writer.

The engine itself (DuckDB SQL over Arrow tables) lives in ``bhum.adapters.claims_engine``; this module
only knows the ``ClaimsEngine`` protocol, so the service stays free of any database library.

Reference data is a set of small Arrow tables (``ReferenceTables``): members, coverage, residence,
provider contract types, staff credentials, authorizations, testing notices and the member's history of
paid units. They come from the store (``reference_from_uow``) or, without a server, from a population
directory (``bhum.adapters.claims_engine.population_reference``).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

import pyarrow as pa
import pyarrow.compute as pc

from bhum.domain.access import AuditAction
from bhum.domain.authorization import AuthorizationStatus
from bhum.domain.claim_edits import (
    AdjustmentCodes,
    ClaimCheckParameters,
    Edit,
    Rounding,
    T1017Variant,
)
from bhum.domain.errors import InputError
from bhum.domain.values import CARC, RARC, Code
from bhum.policy import PackRegistry
from bhum.services.audit import record_access
from bhum.services.unit_of_work import UnitOfWork

_VARIANT_RULES = (
    "tcm.t1017-tf-limits",
    "tcm.t1017-tg-limits",
    "tcm.t1017-hn-limits",
    "tcm.t1017-hm-limits",
    "tcm.t1017-pact-limits",
)

# Arrow schemas of the reference tables the engine reads.
MEMBERS_SCHEMA = pa.schema([("member_id", pa.string()), ("birth_date", pa.date32())])
COVERAGE_SCHEMA = pa.schema(
    [
        ("member_id", pa.string()),
        ("plan_id", pa.string()),
        ("start_date", pa.date32()),
        ("end_date", pa.date32()),
        ("bh_benefit", pa.bool_()),
    ]
)
RESIDENCE_SCHEMA = pa.schema(
    [
        ("member_id", pa.string()),
        ("setting", pa.string()),
        ("start_date", pa.date32()),
        ("end_date", pa.date32()),
    ]
)
PROVIDER_CONTRACTS_SCHEMA = pa.schema([("npi", pa.string()), ("contract_type", pa.string())])
STAFF_SCHEMA = pa.schema([("staff_id", pa.string()), ("credentials", pa.string())])
AUTHORIZATIONS_SCHEMA = pa.schema(
    [
        ("authorization_id", pa.string()),
        ("member_id", pa.string()),
        ("provider_npi", pa.string()),
        ("code_system", pa.string()),
        ("code", pa.string()),
        ("start_date", pa.date32()),
        ("end_date", pa.date32()),
        ("units_authorized", pa.int64()),
        ("units_used", pa.int64()),
        ("status", pa.string()),
        ("status_since", pa.date32()),  # the day the current status began (OPM-07 discontinuation)
    ]
)
NOTICES_SCHEMA = pa.schema(
    [
        ("plan_id", pa.string()),
        ("provider_npi", pa.string()),
        ("member_id", pa.string()),
        ("effective_from", pa.date32()),
        ("effective_to", pa.date32()),
    ]
)
# Units already paid before this batch: T1017 (daily/monthly caps) and IOP per diem days (IOP-02/04).
HISTORY_SCHEMA = pa.schema(
    [
        ("member_id", pa.string()),
        ("service_date", pa.date32()),
        ("hcpcs_code", pa.string()),
        ("level_modifier", pa.string()),
        ("paid_units", pa.float64()),
    ]
)


@dataclass(frozen=True, slots=True)
class ReferenceTables:
    """What a batch is checked against. Empty tables mean "nothing on file" (and the checks say so)."""

    members: pa.Table = field(default_factory=MEMBERS_SCHEMA.empty_table)
    coverage: pa.Table = field(default_factory=COVERAGE_SCHEMA.empty_table)
    residence: pa.Table = field(default_factory=RESIDENCE_SCHEMA.empty_table)
    provider_contracts: pa.Table = field(default_factory=PROVIDER_CONTRACTS_SCHEMA.empty_table)
    staff: pa.Table = field(default_factory=STAFF_SCHEMA.empty_table)
    authorizations: pa.Table = field(default_factory=AUTHORIZATIONS_SCHEMA.empty_table)
    notices: pa.Table = field(default_factory=NOTICES_SCHEMA.empty_table)
    history: pa.Table = field(default_factory=HISTORY_SCHEMA.empty_table)
    origin: str = "empty"  # "store", "population:<dir>" or "empty": reported with the results

    @property
    def has_members(self) -> bool:
        return bool(self.members.num_rows > 0)


@dataclass(frozen=True, slots=True)
class RejectedLine:
    """A line that could not be read: the file, its line (or segment) and the field, with why."""

    source: str
    line: int | None
    field: str | None
    message: str
    claim_id: str | None = None


@dataclass(frozen=True, slots=True)
class ClaimBatch:
    """Lines read from one or more files (the ``medical_claim`` columns plus ``line_order``, ``source``
    and ``source_line``) and the lines that could not be read."""

    lines: pa.Table
    rejected: tuple[RejectedLine, ...] = ()


class ClaimsEngine(Protocol):
    def check(
        self, batch: pa.Table, reference: ReferenceTables, parameters: ClaimCheckParameters
    ) -> pa.Table:
        """One decision row per line of ``batch`` (see docs/claim-checks.md for the columns)."""
        ...


@dataclass(frozen=True, slots=True)
class CheckSummary:
    lines: int
    paid: int
    partial: int
    denied: int
    rejected: int
    billed_units: float
    paid_units: float
    paid_amount: float
    reference: str


@dataclass(frozen=True, slots=True)
class CheckResult:
    decisions: pa.Table
    rejected: tuple[RejectedLine, ...]
    summary: CheckSummary


# -- parameters from the packs -------------------------------------------------------------------


def _codes(registry: PackRegistry, rule_id: str) -> AdjustmentCodes:
    codes = registry.rule(rule_id).codes_when_not_met
    carc = next((c for c in codes if c.system == CARC), None)
    rarc = next((c for c in codes if c.system == RARC), None)
    if carc is None:
        raise InputError(f"rule {rule_id} carries no CARC", field="codes_when_not_met", record=rule_id)
    return AdjustmentCodes(carc, rarc)


def _code_values(codes: Iterable[Code]) -> frozenset[str]:
    return frozenset(c.code for c in codes)


def check_parameters(registry: PackRegistry) -> ClaimCheckParameters:
    """Every number, code set and adjustment code the claim checks use, read from the packs."""
    variants = []
    for rule_id in _VARIANT_RULES:
        rule = registry.rule(rule_id)
        level = rule.parameters.get("level_modifier")
        variants.append(
            T1017Variant(
                rule_id=rule_id,
                level_modifier=level.value.code
                if level is not None and isinstance(level.value, Code)
                else None,
                min_age=registry.integer(rule_id, "min_age"),
                max_age=registry.integer(rule_id, "max_age"),
                daily_limit=registry.integer(rule_id, "daily_limit"),
                monthly_limit=registry.integer(rule_id, "monthly_limit"),
                contract_types=_code_values(registry.code_set(rule_id, "contract_types")),
            )
        )
    cap_codes = _codes(registry, "tcm.t1017-tf-limits")
    codes = {edit: _codes(registry, edit.value) for edit in Edit if edit.value in _RULE_BACKED}
    codes[Edit.TCM_DAILY_CAP] = cap_codes
    codes[Edit.TCM_MONTHLY_CAP] = cap_codes
    per_diem = "iop.per-diem-minimum-hours"
    ages = "iop.age-groups"
    return ClaimCheckParameters(
        preauth_services=registry.code_set("opm.preauth-required-services", "preauth_services"),
        testing_services=registry.code_set("opm.testing-preauth-when-notified", "testing_codes"),
        tcm_service=registry.code("tcm.t1017-tf-limits", "service_code"),
        program_modifiers=_code_values(
            registry.code_set("tcm.claim-variant-program-modifier", "program_modifiers")
        ),
        variants=tuple(variants),
        unit_minutes=registry.integer("tcm.units-from-face-to-face-minutes", "unit_minutes"),
        rounding=Rounding(registry.string("tcm.units-from-face-to-face-minutes", "rounding")),
        billable_travel_minutes=registry.integer(
            "tcm.units-from-face-to-face-minutes", "billable_travel_minutes"
        ),
        cm1_level_modifiers=_code_values(registry.code_set("tcm.claim-staff-level", "cm1_level_modifiers")),
        cm2_level_modifiers=_code_values(registry.code_set("tcm.claim-staff-level", "cm2_level_modifiers")),
        cm1_credentials=_code_values(registry.code_set("tcm.claim-staff-level", "cm1_credentials")),
        cm2_credentials=_code_values(registry.code_set("tcm.claim-staff-level", "cm2_credentials")),
        not_reimbursable_activities=_code_values(
            registry.code_set("tcm.claim-activity", "not_reimbursable_activities")
        ),
        excluded_settings=_code_values(
            registry.code_set("tcm.claim-excluded-residence", "excluded_settings")
        ),
        per_diem_services=registry.code_set(per_diem, "per_diem_codes"),
        adolescent_min_age=registry.integer(ages, "adolescent_min_age"),
        adolescent_max_age=registry.integer(ages, "adolescent_max_age"),
        adult_min_age=registry.integer(ages, "adult_min_age"),
        adult_min_consecutive_hours=registry.number(per_diem, "adult_min_consecutive_hours"),
        adolescent_min_consecutive_hours=registry.number(per_diem, "adolescent_min_consecutive_hours"),
        min_days_per_week=registry.integer("iop.days-per-week", "min_days_per_week"),
        bundled_services=registry.code_set("iop.no-duplicate-services", "duplicative_services"),
        codes=codes,
    )


# Edits whose codes come straight from the pack rule of the same id.
_RULE_BACKED = frozenset(e.value for e in Edit) - {
    Edit.TCM_DAILY_CAP.value,
    Edit.TCM_MONTHLY_CAP.value,
    Edit.IOP_WEEK_DAYS.value,
}


# -- reference data from the store ----------------------------------------------------------------


def reference_from_uow(
    uow: UnitOfWork,
    member_ids: Sequence[str],
    *,
    history: pa.Table | None = None,
    units_used: Mapping[str, float] | None = None,
) -> ReferenceTables:
    """The store's members, coverage, residence, providers, staff and authorizations for the members of a
    batch. Reads member by member through the repositories (the store has no bulk export); use a
    population directory for very large batches."""
    plans = {p.plan_id: p for p in uow.plans.list()}
    contracts = {o.organization_id: o.contract_type.value for o in uow.organizations.list()}
    members: dict[str, list[object]] = {n: [] for n in MEMBERS_SCHEMA.names}
    coverage: dict[str, list[object]] = {n: [] for n in COVERAGE_SCHEMA.names}
    residence: dict[str, list[object]] = {n: [] for n in RESIDENCE_SCHEMA.names}
    auths: dict[str, list[object]] = {n: [] for n in AUTHORIZATIONS_SCHEMA.names}
    for member_id in sorted(set(member_ids)):
        member = uow.members.get(member_id)
        if member is None:
            continue
        members["member_id"].append(member.member_id)
        members["birth_date"].append(member.birth_date)
        for span in uow.coverage.for_member(member_id):
            plan = plans.get(span.plan_id)
            coverage["member_id"].append(member_id)
            coverage["plan_id"].append(span.plan_id)
            coverage["start_date"].append(span.span.start)
            coverage["end_date"].append(span.span.end)
            coverage["bh_benefit"].append(bool(plan and plan.bh_benefit))
        for res in uow.residence.for_member(member_id):
            residence["member_id"].append(member_id)
            residence["setting"].append(res.setting.value)
            residence["start_date"].append(res.span.start)
            residence["end_date"].append(res.span.end)
        for auth in uow.authorizations.for_member(member_id):
            since = auth.history[-1].at.date() if auth.history else auth.span.start
            for code in auth.service_codes:
                auths["authorization_id"].append(auth.authorization_id)
                auths["member_id"].append(member_id)
                auths["provider_npi"].append(auth.provider_npi)
                auths["code_system"].append(code.system)
                auths["code"].append(code.code)
                auths["start_date"].append(auth.span.start)
                auths["end_date"].append(auth.span.end)
                auths["units_authorized"].append(auth.units_authorized)
                auths["units_used"].append(
                    int(units_used[auth.authorization_id])
                    if units_used is not None and auth.authorization_id in units_used
                    else auth.units_used
                )
                auths["status"].append(auth.status.value)
                auths["status_since"].append(since)
    providers: dict[str, list[object]] = {n: [] for n in PROVIDER_CONTRACTS_SCHEMA.names}
    staff: dict[str, list[object]] = {n: [] for n in STAFF_SCHEMA.names}
    for organization_id, contract in contracts.items():
        for provider in uow.providers.for_organization(organization_id):
            providers["npi"].append(provider.npi)
            providers["contract_type"].append(contract)
        for person in uow.staff.for_organization(organization_id):
            staff["staff_id"].append(person.staff_id)
            staff["credentials"].append(";".join(sorted(c.value for c in person.credentials)))
    notices: dict[str, list[object]] = {n: [] for n in NOTICES_SCHEMA.names}
    for plan_id in plans:
        for notice in uow.testing_notices.for_plan(plan_id):
            notices["plan_id"].append(plan_id)
            notices["provider_npi"].append(notice.provider_npi)
            notices["member_id"].append(notice.member_id)
            notices["effective_from"].append(notice.effective.start)
            notices["effective_to"].append(notice.effective.end)
    return ReferenceTables(
        members=pa.table(members, schema=MEMBERS_SCHEMA),
        coverage=pa.table(coverage, schema=COVERAGE_SCHEMA),
        residence=pa.table(residence, schema=RESIDENCE_SCHEMA),
        provider_contracts=pa.table(providers, schema=PROVIDER_CONTRACTS_SCHEMA),
        staff=pa.table(staff, schema=STAFF_SCHEMA),
        authorizations=pa.table(auths, schema=AUTHORIZATIONS_SCHEMA),
        notices=pa.table(notices, schema=NOTICES_SCHEMA),
        history=history if history is not None else HISTORY_SCHEMA.empty_table(),
        origin="store",
    )


def store_has_population(uow: UnitOfWork) -> bool:
    return uow.members.count() > 0


# -- the use case ---------------------------------------------------------------------------------


def _total(decisions: pa.Table, column: str) -> float:
    total = pc.sum(decisions.column(column)).as_py() if decisions.num_rows else None
    return float(total or 0.0)


def summarize(decisions: pa.Table, rejected: Sequence[RejectedLine], reference: str) -> CheckSummary:
    """Counts and totals, column-wise (no loop over the lines)."""
    counts: dict[str, int] = {}
    if decisions.num_rows:
        for entry in pc.value_counts(decisions.column("status")).to_pylist():
            counts[str(entry["values"])] = int(entry["counts"])
    return CheckSummary(
        lines=decisions.num_rows,
        paid=counts.get("paid", 0),
        partial=counts.get("partial", 0),
        denied=counts.get("denied", 0),
        rejected=len(rejected),
        billed_units=_total(decisions, "billed_units"),
        paid_units=_total(decisions, "paid_units"),
        paid_amount=round(_total(decisions, "paid_amount"), 2),
        reference=reference,
    )


def check_batch(
    batch: ClaimBatch,
    reference: ReferenceTables,
    parameters: ClaimCheckParameters,
    engine: ClaimsEngine,
) -> CheckResult:
    """Decide every readable line of a batch; unreadable lines come back as ``rejected``."""
    decisions = engine.check(batch.lines, reference, parameters)
    return CheckResult(decisions, batch.rejected, summarize(decisions, batch.rejected, reference.origin))


def check_batch_against_store(
    uow_factory: Callable[[], UnitOfWork],
    batch: ClaimBatch,
    parameters: ClaimCheckParameters,
    engine: ClaimsEngine,
    *,
    actor: str,
    now: datetime,
    reason: str,
    history: pa.Table | None = None,
) -> CheckResult:
    """Check a batch against the store's records; the read of member data is audited (one event per
    batch, naming how many members were read, never who).

    With the store's paid-unit history (MN-04): the member's earlier paid lines count toward the
    T1017 caps, each authorization's units used are the units paid against it by earlier claims (a
    re-check of the same batch never counts a line against itself), and after the check the batch's
    paid units are recorded and every authorization it touched carries its new units used."""
    # paid_units builds on this module's history schema, so it is imported here, not at the top.
    from bhum.services.paid_units import (
        batch_keys,
        has_paid_unit_history,
        paid_history_for_batch,
        record_paid_units,
    )

    member_ids = batch.lines.column("member_id").to_pylist() if batch.lines.num_rows else []
    ids = sorted({m for m in member_ids if m})
    keep_history = False
    with uow_factory() as uow:
        used: dict[str, float] | None = None
        if has_paid_unit_history(uow):
            keep_history = True
            if history is None:
                history = paid_history_for_batch(uow, batch.lines)
            used = units_used_by_authorization(uow, ids, exclude=batch_keys(batch.lines, "claim lines"))
        reference = reference_from_uow(uow, ids, history=history, units_used=used)
        record_access(
            uow,
            actor,
            AuditAction.READ,
            "claim_batch",
            f"{batch.lines.num_rows} lines",
            None,
            reason,
            now,
            detail={"members": str(len(ids))},
        )
        uow.commit()
    result = check_batch(batch, reference, parameters, engine)
    if keep_history:
        record_paid_units(uow_factory, result.decisions, parameters, actor=actor, now=now, reason=reason)
        sync_units_used(uow_factory, ids, actor=actor, now=now, reason=reason)
    return result


def units_used_by_authorization(
    uow: UnitOfWork, member_ids: Sequence[str], *, exclude: Collection[tuple[str, int]] = ()
) -> dict[str, float]:
    """Units paid against each authorization of these members, from the stored paid lines (leaving
    out the ``exclude`` claim lines). Every authorization with a paid line is named, with 0 when all
    of its lines are excluded."""
    from bhum.services.paid_units import paid_unit_history

    history = paid_unit_history(uow)
    totals: dict[str, float] = {}
    for line in history.for_members(member_ids):
        if line.authorization_id:
            totals.setdefault(line.authorization_id, 0.0)
    skip = set(exclude)
    for line in history.for_members(member_ids, exclude=skip):
        if line.authorization_id:
            totals[line.authorization_id] += line.paid_units
    return totals


def sync_units_used(
    uow_factory: Callable[[], UnitOfWork],
    member_ids: Sequence[str],
    *,
    actor: str,
    now: datetime,
    reason: str,
) -> int:
    """MN-04: set each authorization's units used to the units paid against it; returns how many changed."""
    changed = 0
    with uow_factory() as uow:
        totals = units_used_by_authorization(uow, member_ids)
        for authorization_id, units in sorted(totals.items()):
            auth = uow.authorizations.get(authorization_id)
            if auth is None or auth.units_used == int(units):
                continue
            auth.units_used = int(units)
            uow.authorizations.save(auth)
            changed += 1
        if changed:
            what = f"{changed} authorizations"
            record_access(
                uow, actor, AuditAction.UPDATE, "authorization", what, None, reason, now,
                detail={"units_used_updated": str(changed)},
            )  # fmt: skip
        uow.commit()
    return changed


ACTIVE_AUTHORIZATION_STATUSES = frozenset(
    {AuthorizationStatus.APPROVED.value, AuthorizationStatus.PARTIALLY_APPROVED.value, "expired"}
)
