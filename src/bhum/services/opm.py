"""Focused Outpatient Management (OPM-03..OPM-08): run the clinical-intelligence catalog on the claims
files, store the flags, reach out to the treating provider and the member, take the returned form,
record the clinical determination and, when the form never comes, discontinue (OPM-07).

Idempotency and crash safety: flags are upserted by (member, rule, as-of) in one transaction; each
member's outreach (core case, OPM case, OPM-05 authorization, two letter records, audit) is one
transaction keyed by a deterministic case id for (member, provider, month), and letter ids are
idempotency keys, so a PDF written before a crash is found again (same bytes) on the re-run. The
numbers (form window, approval window, open authorization length) come from the packs in force.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pyarrow as pa

from bhum.analytics.catalog import Catalog, load_catalog
from bhum.analytics.runner import run_catalog, write_report
from bhum.analytics.source import ClaimsSource
from bhum.domain.access import AuditAction, Role, User
from bhum.domain.authorization import Authorization
from bhum.domain.calendar import local_date, start_of_day
from bhum.domain.cases import Case, CaseProgram, CaseStatus, DueDate
from bhum.domain.errors import InputError, InvalidTransition, NotFound, PermissionDenied
from bhum.domain.letters import (
    AppealRights,
    ClinicalUpdateForm,
    Letter,
    LetterContent,
    LetterDecision,
    LetterKind,
    MemberRef,
    PlanContact,
    Reason,
    Recipient,
    RecipientKind,
    ServiceLine,
    idempotency_key,
)
from bhum.domain.members import Member
from bhum.domain.opm import (
    ClaimService,
    ClinicalReview,
    Ineligible,
    LevelOfCare,
    OpmDetermination,
    applicable_services,
    check_level_change,
    opm_case_id,
    opm_eligibility,
    outreach_cycle,
    parse_clinical_update,
    treating_provider,
)
from bhum.domain.values import CARC, CPT, HCPCS, NDC, RARC, REVENUE, Code, DateSpan
from bhum.policy import PackRegistry
from bhum.services.audit import actor_id, record_access
from bhum.services.authorization import APPEAL_TEXT, DEFAULT_PLAN_CONTACT, EXPEDITED_TEXT, ON_FILE
from bhum.services.coordination import plan_contact_for_member
from bhum.services.opm_records import (
    OpmCaseRecord,
    OpmCaseState,
    OpmRecords,
    StoredFlag,
    opm_records,
)
from bhum.services.unit_of_work import UnitOfWork

UowFactory = Callable[[], UnitOfWork]
# Writes a letter PDF into a directory and returns its path (bhum.adapters.letters.write).
LetterWriter = Callable[[LetterContent, Path], Path]
Progress = Callable[[str, int, int], None]  # (step, done, total)

RUN_ACTOR = "system:opm-run"
TICK_ACTOR = "system:opm-tick"
TEMPLATE_VERSION = "1"
# OPM-06: the roles that record a clinical determination.
REVIEWER_ROLES = frozenset({Role.CLINICAL_REVIEWER, Role.PHYSICIAN_REVIEWER, Role.MEDICAL_DIRECTOR})
RETURN_BY = "Fax it to 1-800-555-0199 or upload it on the provider portal. Quote the case number."

# Plain-language names of the services most often on flagged claims (letters need a display).
_DISPLAYS = {
    "90791": "Psychiatric diagnostic evaluation",
    "90832": "Psychotherapy, 30 minutes",
    "90834": "Psychotherapy, 45 minutes",
    "90837": "Psychotherapy, 60 minutes",
    "90847": "Family psychotherapy",
    "90853": "Group psychotherapy",
    "99213": "Office visit, established patient",
    "99214": "Office visit, established patient",
    "H0031": "Mental health assessment",
    "H2011": "Crisis intervention",
    "T1017": "Targeted case management, 15 minutes",
    "S9480": "Intensive outpatient psychiatric services, per diem",
    "H0015": "Substance use intensive outpatient services",
    "H0019": "Behavioral health long-term residential treatment",
}


# -- parameters from the packs ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class OpmParameters:
    """The program's numbers, read from the packs in force (never code constants)."""

    form_days: int  # OPM-04: days from the letter date to return the form
    approval_window_days: int  # OPM-05: current treatment approved during this period
    min_flags: int  # OPM-03: flags needed to identify a member
    open_authorization_days: int  # IOP-14: span of the routine outpatient authorization
    denial_codes: tuple[Code, ...]  # OPM-07: claim adjustment codes when the form is not returned
    pack_version: str

    @classmethod
    def from_packs(cls, packs: PackRegistry) -> OpmParameters:
        returned = packs.rule("opm.clinical-update-returned")
        return cls(
            form_days=packs.duration("opm.clinical-update-returned", "form_return_window").amount,
            approval_window_days=packs.integer(
                "opm.treatment-approved-during-window", "approval_window_days"
            ),
            min_flags=packs.integer("opm.member-identified", "min_flags"),
            open_authorization_days=packs.integer(
                "iop.open-authorization-one-year", "open_authorization_days"
            ),
            denial_codes=tuple(c for c in returned.codes_when_not_met if c.system in (CARC, RARC)),
            pack_version=f"{returned.pack_id}@{returned.pack_version}",
        )


# -- step 1: flags ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Identified:
    """What the catalog found: the flags table (analytics FLAGS_SCHEMA) and, per member, the treating
    provider and service of every flagged claim."""

    flags: pa.Table
    services: Mapping[str, tuple[ClaimService, ...]]


def _service_code(hcpcs: str | None, revenue: str | None) -> Code | None:
    if hcpcs:
        system = CPT if hcpcs[:5].isdigit() else HCPCS
        return Code(system, hcpcs, _DISPLAYS.get(hcpcs, f"Service {hcpcs}"))
    if revenue:
        return Code(REVENUE, revenue, f"Facility service, revenue code {revenue}")
    return None


def identify(
    claims_dir: str | os.PathLike[str],
    as_of: date,
    *,
    catalog: Catalog | None = None,
    rule_ids: Iterable[str] | None = None,
) -> Identified:
    """Validate the claims files and run the catalog. Bad input raises InputError (file, row, field)
    before anything is written anywhere."""
    source = ClaimsSource.from_files(claims_dir)
    flags = run_catalog(source, catalog or load_catalog(), as_of, rule_ids=rule_ids)
    claim_ids = sorted({c for ids in flags["claim_ids"].to_pylist() for c in ids or ()})
    by_claim: dict[str, list[ClaimService]] = {}
    if claim_ids:
        med = source.table("medical_claim")
        medical = (
            med.filter(med.claim_id.isin(claim_ids))
            .select(
                "claim_id",
                "claim_line_start_date",
                "rendering_npi",
                "billing_npi",
                "hcpcs_code",
                "revenue_center_code",
            )
            .to_pyarrow()
        )
        for row in medical.to_pylist():
            npi = row["rendering_npi"] or row["billing_npi"]
            service = _service_code(row["hcpcs_code"], row["revenue_center_code"])
            by_claim.setdefault(row["claim_id"], []).append(
                ClaimService(row["claim_id"], row["claim_line_start_date"], npi, service)
            )
        rx = source.table("pharmacy_claim")
        pharmacy = (
            rx.filter(rx.claim_id.isin(claim_ids))
            .select("claim_id", "dispensing_date", "prescribing_provider_npi", "ndc_code", "drug_class")
            .to_pyarrow()
        )
        for row in pharmacy.to_pylist():
            ndc = row["ndc_code"]
            service = Code(NDC, ndc, f"Prescription ({row['drug_class']})") if ndc else None
            by_claim.setdefault(row["claim_id"], []).append(
                ClaimService(
                    row["claim_id"], row["dispensing_date"], row["prescribing_provider_npi"], service
                )
            )
    services: dict[str, tuple[ClaimService, ...]] = {}
    for member, ids in zip(flags["member_id"].to_pylist(), flags["claim_ids"].to_pylist(), strict=True):
        found = [s for c in ids or () for s in by_claim.get(c, ())]
        services[member] = tuple(dict.fromkeys((*services.get(member, ()), *found)))
    return Identified(flags, services)


def stored_flags(flags: pa.Table) -> list[StoredFlag]:
    return [
        StoredFlag(
            member_id=r["member_id"],
            rule_id=r["rule_id"],
            as_of=r["as_of"],
            member_rank=int(r["member_rank"]),
            member_score=float(r["member_score"]),
            implements=r["implements"] or "",
            source=r["source"] or "",
            title=r["title"] or "",
            measure=r["measure"] or "",
            value=float(r["value"]),
            comparator=r["comparator"] or "",
            threshold=float(r["threshold"]),
            evidence=r["evidence"] or "",
            score=float(r["score"]),
            index_date=r["index_date"],
            claim_ids=tuple(r["claim_ids"] or ()),
            claim_dates=tuple(r["claim_dates"] or ()),
            sentence=r["sentence"] or "",
            pack_version=r["pack_version"] or "",
        )
        for r in flags.to_pylist()
    ]


def store_flags(uow_factory: UowFactory, flags: Sequence[StoredFlag], *, now: datetime) -> int:
    """All flags in one transaction (nothing half-written); returns how many were new."""
    with uow_factory() as uow:
        new = opm_records(uow).upsert_flags(flags)
        record_access(
            uow,
            RUN_ACTOR,
            AuditAction.CREATE,
            "opm_flags",
            flags[0].as_of.isoformat() if flags else "none",
            None,
            "OPM-03 clinical-intelligence run",
            now,
            detail={"flags": str(len(flags)), "new": str(new)},
        )
        uow.commit()
    return new


# -- step 2: outreach ------------------------------------------------------------------------------


@dataclass(slots=True)
class OutreachSummary:
    opened: list[str] = field(default_factory=list)  # case ids opened by this run
    already_done: list[str] = field(default_factory=list)  # cases of this cycle found from a previous run
    skipped: Counter[str] = field(default_factory=Counter)  # Ineligible reason -> members
    letters: int = 0
    capacity_reached: bool = False


@dataclass(frozen=True, slots=True)
class OutreachSettings:
    as_of: date
    letter_date: date
    now: datetime
    letters_dir: Path
    write_letter: LetterWriter
    parameters: OpmParameters
    capacity: int | None = None  # new cases per cycle (month); None = everyone eligible
    plan_contact: PlanContact = DEFAULT_PLAN_CONTACT
    actor: str = RUN_ACTOR


def _letterhead(uow: UnitOfWork, member_id: str, on: date, fallback: PlanContact) -> PlanContact:
    """The covering plan's own contact details for the letterhead; the configured contact when the
    plan's file carries none (older population files)."""
    try:
        return plan_contact_for_member(uow, member_id, on)
    except (InputError, NotFound):
        return fallback


def _member_recipient(member: Member) -> Recipient:
    a = member.address
    city = " ".join(p for p in (a.city, a.state, a.zip_code) if p)
    address = tuple(x for x in (a.line, city) if x) or ON_FILE
    return Recipient(RecipientKind.MEMBER, f"{member.first_name} {member.last_name}", address)


def _provider_recipient(uow: UnitOfWork, npi: str) -> Recipient:
    provider = uow.providers.get(npi)
    return Recipient(
        RecipientKind.PROVIDER, provider.name if provider else "Treating provider", ON_FILE, npi=npi
    )


def _lines(services: Sequence[Code], span: DateSpan) -> tuple[ServiceLine, ...]:
    return tuple(
        ServiceLine(c if c.display else replace(c, display=f"Service {c.code}"), span, "sessions")
        for c in services
    )


def _record_letter(
    uow: UnitOfWork,
    content: LetterContent,
    path: Path,
    *,
    member_id: str,
    case_id: str,
    decision_id: str,
    now: datetime,
) -> bool:
    recipient_id = content.recipient.npi if content.recipient.npi else member_id
    return uow.letters.add(
        Letter(
            letter_id=content.letter_id,
            kind=content.kind,
            recipient_kind=content.recipient.kind,
            recipient_id=recipient_id,
            member_id=member_id,
            template=f"{content.kind.value}@{TEMPLATE_VERSION}",
            created_at=now,
            idempotency_key=content.letter_id,
            case_id=case_id,
            decision_id=decision_id,
            file_path=str(path),
        )
    )


def _ranked_members(flags: Sequence[StoredFlag]) -> list[tuple[str, list[StoredFlag]]]:
    by_member: dict[str, list[StoredFlag]] = {}
    for f in flags:
        by_member.setdefault(f.member_id, []).append(f)
    order = sorted(by_member, key=lambda m: (min(f.member_rank for f in by_member[m]), m))
    return [(m, sorted(by_member[m], key=lambda f: (-f.score, f.rule_id))) for m in order]


def reach_out(
    uow_factory: UowFactory,
    flags: Sequence[StoredFlag],
    services: Mapping[str, Sequence[ClaimService]],
    settings: OutreachSettings,
    *,
    progress: Progress | None = None,
) -> OutreachSummary:
    """OPM-04/05/08: top-ranked members first, one transaction per member, up to the cycle's capacity."""
    summary = OutreachSummary()
    cycle = outreach_cycle(settings.as_of)
    members = _ranked_members(flags)
    with uow_factory() as uow:
        opened_before = opm_records(uow).cases_in_cycle(cycle)
    for done, (member_id, member_flags) in enumerate(members, start=1):
        if progress is not None:
            progress("outreach", done, len(members))
        if len(member_flags) < settings.parameters.min_flags:
            continue
        if settings.capacity is not None and opened_before + len(summary.opened) >= settings.capacity:
            summary.capacity_reached = True
            break
        with uow_factory() as uow:
            outcome = _reach_member(
                uow, member_id, member_flags, services.get(member_id, ()), cycle, settings
            )
            if isinstance(outcome, Ineligible):
                summary.skipped[outcome.value] += 1
                continue
            case_id, is_new, letters = outcome
            if is_new:
                uow.commit()
                summary.opened.append(case_id)
                summary.letters += letters
            else:
                summary.already_done.append(case_id)
    return summary


def _reach_member(
    uow: UnitOfWork,
    member_id: str,
    member_flags: Sequence[StoredFlag],
    claim_services: Sequence[ClaimService],
    cycle: str,
    s: OutreachSettings,
) -> Ineligible | tuple[str, bool, int]:
    records = opm_records(uow)
    member = uow.members.get(member_id)
    if member is None:
        return Ineligible.NOT_IN_STORE
    coverage = member.coverage_on(s.as_of)
    plan = uow.plans.get(coverage.plan_id) if coverage is not None else None
    eligibility = opm_eligibility(coverage, plan, s.as_of)
    if not eligibility.eligible or eligibility.plan_id is None:
        return eligibility.reason or Ineligible.NO_COVERAGE
    npi = treating_provider(claim_services)
    if npi is None or not (len(npi) == 10 and npi.isdigit()):
        return Ineligible.NO_TREATING_PROVIDER
    case_id = opm_case_id(member_id, npi, cycle)
    if records.get_case(case_id) is not None:
        return case_id, False, 0  # done by an earlier run this cycle (committed with its letters)
    if records.open_case_for(member_id, npi) is not None:
        return Ineligible.CASE_ALREADY_OPEN
    p = s.parameters
    due = s.letter_date + timedelta(days=p.form_days)  # OPM-04: letter date + the pack's window
    approved_until = s.letter_date + timedelta(days=p.approval_window_days)  # OPM-05
    services = applicable_services(claim_services, npi)
    rule_ids = tuple(sorted({"OPM-03", *(i for f in member_flags for i in f.implements.split(";") if i)}))

    case = Case(
        case_id=case_id,
        member_id=member_id,
        program=CaseProgram.OUTPATIENT_MANAGEMENT,
        opened_at=s.now,
        provider_npi=npi,
        rule_ids=rule_ids,
    )
    case.add_due_date(DueDate("Clinical Update Request Form return", due, "OPM-04"))
    case.move_to(CaseStatus.AWAITING_INFORMATION, at=s.now)
    uow.cases.add(case)

    # OPM-05: current treatment is approved during the period. Related authorizations are the active
    # ones with this provider; without one, an open routine outpatient authorization (IOP-14) is made
    # so OPM-07 has something to discontinue and the claim checks something to read.
    related = [a for a in uow.authorizations.active_on(member_id, s.letter_date) if a.provider_npi == npi]
    authorization_ids = [a.authorization_id for a in related]
    if not related and services:
        span = DateSpan(s.letter_date, s.letter_date + timedelta(days=p.open_authorization_days))
        auth = Authorization.request(
            authorization_id=f"{case_id}-AUTH",
            member_id=member_id,
            provider_npi=npi,
            service_codes=services,
            span=span,
            units_requested=span.days or 1,
            at=s.now,
            by=s.actor,
        )
        auth.approve(
            at=s.now,
            by=s.actor,
            reason=f"OPM-05: current treatment approved during the update period to {approved_until}",
            rule_id="OPM-05",
        )
        uow.authorizations.add(auth)
        authorization_ids.append(auth.authorization_id)

    decision_id = f"outreach:{s.letter_date.isoformat()}"
    letterhead = _letterhead(uow, member_id, s.letter_date, s.plan_contact)
    provider = _provider_recipient(uow, npi)
    member_to = _member_recipient(member)
    ref = MemberRef(f"{member.first_name} {member.last_name}", member_id)
    window = DateSpan(s.letter_date, due)
    reasons = tuple(
        Reason(
            next((i for i in f.implements.split(";") if i), "OPM-03"),
            f.title,
            f.sentence,
        )
        for f in member_flags
    )
    provider_letter = LetterContent(
        letter_id=idempotency_key(LetterKind.OPM_CLINICAL_UPDATE_REQUEST, case_id, decision_id, provider),
        kind=LetterKind.OPM_CLINICAL_UPDATE_REQUEST,
        letter_date=s.letter_date,
        plan=letterhead,
        recipient=provider,
        member=ref,
        reference=case_id,
        service_lines=_lines(services, window),
        reasons=reasons,
        due_date=due,
        form=ClinicalUpdateForm(case_id=case_id, due_date=due, return_by=RETURN_BY),
    )
    member_letter = LetterContent(
        letter_id=idempotency_key(LetterKind.OPM_MEMBER_NOTICE, case_id, decision_id, member_to),
        kind=LetterKind.OPM_MEMBER_NOTICE,
        letter_date=s.letter_date,
        plan=letterhead,
        recipient=member_to,
        member=ref,
        reference=case_id,
        service_lines=_lines(services, DateSpan(s.letter_date, approved_until)),
        due_date=due,
    )
    letter_ids: list[str] = []
    for content in (provider_letter, member_letter):
        path = s.write_letter(content, s.letters_dir)
        _record_letter(
            uow, content, path, member_id=member_id, case_id=case_id, decision_id=decision_id, now=s.now
        )
        letter_ids.append(content.letter_id)
    records.add_case(
        OpmCaseRecord(
            case_id=case_id,
            member_id=member_id,
            provider_npi=npi,
            plan_id=eligibility.plan_id,
            cycle=cycle,
            as_of=s.as_of,
            letter_date=s.letter_date,
            due_on=due,
            created_at=s.now,
            flag_rule_ids=tuple(f.rule_id for f in member_flags),
            services=services,
            authorization_ids=tuple(authorization_ids),
            letter_ids=tuple(letter_ids),
        )
    )
    record_access(
        uow,
        s.actor,
        AuditAction.CREATE,
        "opm_case",
        case_id,
        member_id,
        "OPM-04/OPM-05 outreach: case, provider letter with form, member notice",
        s.now,
        detail={"letters": str(len(letter_ids)), "due_on": due.isoformat()},
    )
    return case_id, True, len(letter_ids)


# -- the whole run ---------------------------------------------------------------------------------


@dataclass(slots=True)
class RunSummary:
    as_of: date
    flags: int
    new_flags: int
    members_flagged: int
    flags_by_rule: dict[str, int]
    top_members: list[tuple[int, str, float, int]]  # (rank, member id, score, flags)
    report: Path | None
    outreach: OutreachSummary | None


def run_program(
    uow_factory: UowFactory,
    claims_dir: str | os.PathLike[str],
    *,
    as_of: date,
    now: datetime,
    report: Path | None = None,
    outreach: OutreachSettings | None = None,
    catalog: Catalog | None = None,
    progress: Progress | None = None,
    top: int = 10,
) -> RunSummary:
    """``bhum opm run``: validate + run the catalog, store flags (one transaction), write the report,
    then reach out (one transaction per member). Bad input raises before anything is written."""
    if report is not None and report.suffix.lower() not in (".parquet", ".csv"):
        raise InputError("the report must be a .parquet or .csv file", source=str(report), field="report")
    if progress is not None:
        progress("catalog", 0, 1)
    found = identify(claims_dir, as_of, catalog=catalog)
    if progress is not None:
        progress("catalog", 1, 1)
    flags = stored_flags(found.flags)
    new = store_flags(uow_factory, flags, now=now)
    written = write_report(found.flags, report) if report is not None else None
    by_rule = Counter(f.rule_id for f in flags)
    members: dict[str, tuple[int, float, int]] = {}
    for f in flags:
        rank, score, count = members.get(f.member_id, (f.member_rank, f.member_score, 0))
        members[f.member_id] = (rank, score, count + 1)
    ranked = sorted(((r, m, s, c) for m, (r, s, c) in members.items()), key=lambda t: (t[0], t[1]))
    summary = RunSummary(
        as_of=as_of,
        flags=len(flags),
        new_flags=new,
        members_flagged=len(members),
        flags_by_rule=dict(sorted(by_rule.items())),
        top_members=ranked[:top],
        report=written,
        outreach=None,
    )
    if outreach is not None:
        summary.outreach = reach_out(uow_factory, flags, found.services, outreach, progress=progress)
    return summary


# -- step 3: the returned form and the clinical review (OPM-06) ------------------------------------


def _case_pair(uow: UnitOfWork, case_id: str) -> tuple[OpmRecords, OpmCaseRecord, Case]:
    records = opm_records(uow)
    record = records.get_case(case_id)
    case = uow.cases.get(case_id)
    if record is None or case is None:
        raise NotFound(f"no outpatient-management case {case_id}")
    return records, record, case


def _provider_may_submit(uow: UnitOfWork, user: User, record: OpmCaseRecord) -> None:
    """Only provider users of the case provider's organization return its form."""
    if Role.PROVIDER_USER not in user.roles:
        raise PermissionDenied("only the treating provider's organization returns the clinical update form")
    provider = uow.providers.get(record.provider_npi)
    if (
        provider is None
        or provider.organization_id is None
        or provider.organization_id != user.organization_id
    ):
        raise PermissionDenied("this case belongs to another provider organization")


def submit_form(
    uow: UnitOfWork,
    actor: User | str,
    case_id: str,
    data: Any,
    *,
    now: datetime,
    tz: ZoneInfo,
    source: str | None = None,
) -> OpmCaseRecord:
    """OPM-04/06: the provider returns the Clinical Update Request Form. A form after the due date is
    refused (OPM-07 applies); so is a second one. The caller's unit of work is committed here."""
    records, record, case = _case_pair(uow, case_id)
    if isinstance(actor, User):
        _provider_may_submit(uow, actor, record)
    if record.state is not OpmCaseState.AWAITING_FORM:
        raise InvalidTransition(f"case {case_id} is {record.state.value}; the form was already handled")
    returned_on = local_date(now, tz)
    if returned_on > record.due_on:
        raise InvalidTransition(
            f"OPM-07: the form for case {case_id} was due {record.due_on.isoformat()}; "
            f"returned {returned_on.isoformat()} is late"
        )
    form = parse_clinical_update(data, source=source, record=case_id, today=returned_on)
    record.form = form.as_json()
    record.form_returned_at = now
    record.form_submitted_by = actor_id(actor)
    record.state = OpmCaseState.IN_REVIEW
    case.move_to(CaseStatus.IN_REVIEW, at=now)
    uow.cases.save(case)
    records.save_case(record)
    record_access(
        uow, actor, AuditAction.CREATE, "opm_form", case_id, record.member_id, "OPM-04 form returned", now
    )
    uow.commit()
    return record


def record_determination(
    uow: UnitOfWork,
    actor: User | str,
    case_id: str,
    determination: OpmDetermination,
    rationale: str,
    *,
    now: datetime,
    recommended_level: LevelOfCare | None = None,
    recommendations: Sequence[str] = (),
    referrals: Sequence[str] = (),
) -> OpmCaseRecord:
    """OPM-06: a BH clinical reviewer records the determination on a returned form; the case closes."""
    records, record, case = _case_pair(uow, case_id)
    if isinstance(actor, User) and not actor.roles & REVIEWER_ROLES:
        raise PermissionDenied("only BH clinical reviewers record an OPM-06 determination")
    if record.state is not OpmCaseState.IN_REVIEW or record.form is None:
        raise InvalidTransition(
            f"case {case_id} is {record.state.value}: there is no returned form to review"
        )
    review = ClinicalReview(
        case_id=case_id,
        determination=determination,
        rationale=rationale,
        reviewer_id=actor_id(actor),
        decided_at=now,
        recommended_level=recommended_level,
        recommendations=tuple(recommendations),
        referrals=tuple(referrals),
    )
    current = LevelOfCare(record.form["level_intensity_duration"]["level_of_care"])
    check_level_change(review, current)
    record.review = {
        "determination": determination.value,
        "rationale": rationale,
        "reviewer_id": review.reviewer_id,
        "decided_at": now.isoformat(),
        "recommended_level": recommended_level.value if recommended_level else None,
        "recommendations": list(review.recommendations),
        "referrals": list(review.referrals),
        "rule_id": "OPM-06",
    }
    record.state = OpmCaseState.DETERMINED
    case.move_to(CaseStatus.CLOSED, at=now, reason=f"OPM-06 determination: {determination.value}")
    uow.cases.save(case)
    records.save_case(record)
    record_access(
        uow,
        actor,
        AuditAction.UPDATE,
        "opm_case",
        case_id,
        record.member_id,
        "OPM-06 determination",
        now,
        detail={"determination": determination.value},
    )
    uow.commit()
    return record


# -- step 4: the clock (OPM-07) --------------------------------------------------------------------


@dataclass(slots=True)
class TickSummary:
    discontinued: list[str] = field(default_factory=list)
    authorizations: int = 0
    letters: int = 0


def tick(
    uow_factory: UowFactory,
    *,
    now: datetime,
    tz: ZoneInfo,
    parameters: OpmParameters,
    letters_dir: Path,
    write_letter: LetterWriter,
    plan_contact: PlanContact = DEFAULT_PLAN_CONTACT,
) -> TickSummary:
    """OPM-07, idempotent: every case still awaiting its form after the due date is discontinued (one
    transaction per case): related authorizations discontinued from the effective date (the claim
    checks deny later claims for those services), provider and member told, the case closed."""
    today = local_date(now, tz)
    summary = TickSummary()
    with uow_factory() as uow:
        due = [r.case_id for r in opm_records(uow).overdue_cases(today)]
    for case_id in due:
        with uow_factory() as uow:
            records, record, case = _case_pair(uow, case_id)
            if record.state is not OpmCaseState.AWAITING_FORM or record.due_on >= today:
                continue
            # The day after the due date, or today when the tick runs late: never before the notice.
            effective = max(record.due_on + timedelta(days=1), today)
            _discontinue(uow, records, record, case, effective, now, tz, parameters, summary)
            _discontinuation_letters(
                uow, record, effective, now, parameters, letters_dir, write_letter, plan_contact, summary, tz
            )
            records.save_case(record)
            record_access(
                uow,
                TICK_ACTOR,
                AuditAction.UPDATE,
                "opm_case",
                case_id,
                record.member_id,
                "OPM-07 form not returned: discontinued",
                now,
                detail={"effective": effective.isoformat()},
            )
            uow.commit()
            summary.discontinued.append(case_id)
    return summary


def _discontinue(
    uow: UnitOfWork,
    records: OpmRecords,
    record: OpmCaseRecord,
    case: Case,
    effective: date,
    now: datetime,
    tz: ZoneInfo,
    parameters: OpmParameters,
    summary: TickSummary,
) -> None:
    related = {a.authorization_id: a for a in uow.authorizations.active_on(record.member_id, effective)}
    related = {k: a for k, a in related.items() if a.provider_npi == record.provider_npi}
    for auth_id in record.authorization_ids:
        a = uow.authorizations.get(auth_id)
        if a is not None and a.is_active:
            related[auth_id] = a
    reason = (
        f"discontinued by OPM-07 from {effective.isoformat()}: the Clinical Update Request Form due "
        f"{record.due_on.isoformat()} was not returned"
    )
    for auth in related.values():
        at = max(start_of_day(effective, tz), auth.history[-1].at if auth.history else now)
        auth.discontinue(at=at, by=TICK_ACTOR, reason=reason, rule_id="OPM-07")
        uow.authorizations.save(auth)
        summary.authorizations += 1
    record.authorization_ids = tuple(dict.fromkeys((*record.authorization_ids, *related)))
    record.state = OpmCaseState.DISCONTINUED
    record.discontinued_from = effective
    case.move_to(CaseStatus.CLOSED, at=now, reason=f"OPM-07: {reason}")
    uow.cases.save(case)


def _discontinuation_letters(
    uow: UnitOfWork,
    record: OpmCaseRecord,
    effective: date,
    now: datetime,
    parameters: OpmParameters,
    letters_dir: Path,
    write_letter: LetterWriter,
    plan_contact: PlanContact,
    summary: TickSummary,
    tz: ZoneInfo,
) -> None:
    member = uow.members.get(record.member_id)
    if member is None:
        raise NotFound(f"case {record.case_id}: its member is gone")
    letter_date = local_date(now, tz)
    decision_id = f"opm07:{effective.isoformat()}"
    ref = MemberRef(f"{member.first_name} {member.last_name}", member.member_id)
    services = record.services or (Code(HCPCS, "H0004", "Behavioral health counseling and therapy"),)
    lines = _lines(services, DateSpan(effective, effective))
    reason = Reason(
        "OPM-07",
        "Clinical Update Request Form not returned",
        f"We asked for the Clinical Update Request Form by {record.due_on.isoformat()} and did not "
        f"receive it, so we cannot tell if the care is medically necessary. Services from "
        f"{effective.isoformat()} are no longer authorized.",
        parameters.denial_codes,
    )
    appeal = AppealRights(letter_date + timedelta(days=60), APPEAL_TEXT, EXPEDITED_TEXT)
    letter_ids = list(record.letter_ids)
    letterhead = _letterhead(uow, member.member_id, letter_date, plan_contact)
    for kind, recipient in (
        (LetterKind.OPM_DISCONTINUATION_PROVIDER, _provider_recipient(uow, record.provider_npi)),
        (LetterKind.OPM_DISCONTINUATION_MEMBER, _member_recipient(member)),
    ):
        content = LetterContent(
            letter_id=idempotency_key(kind, record.case_id, decision_id, recipient),
            kind=kind,
            letter_date=letter_date,
            plan=letterhead,
            recipient=recipient,
            member=ref,
            reference=record.case_id,
            service_lines=lines,
            decision=LetterDecision.DISCONTINUED,
            reasons=(reason,),
            effective_date=effective,
            appeal_rights=appeal,
        )
        path = write_letter(content, letters_dir)
        if _record_letter(
            uow,
            content,
            path,
            member_id=member.member_id,
            case_id=record.case_id,
            decision_id=decision_id,
            now=now,
        ):
            summary.letters += 1
        letter_ids.append(content.letter_id)
    record.letter_ids = tuple(dict.fromkeys(letter_ids))


# -- reads (audited) -------------------------------------------------------------------------------


def list_flags(
    uow: UnitOfWork, viewer: User | str, *, now: datetime, as_of: date | None = None, limit: int = 100
) -> Sequence[StoredFlag]:
    """Ranked flags with their evidence; every member shown is an audited read."""
    flags = opm_records(uow).flags(as_of=as_of, limit=limit)
    for member_id in dict.fromkeys(f.member_id for f in flags):
        record_access(uow, viewer, AuditAction.READ, "opm_flags", member_id, member_id, "OPM-03 flags", now)
    uow.commit()
    return flags


def view_case(uow: UnitOfWork, viewer: User | str, case_id: str, *, now: datetime) -> OpmCaseRecord:
    record = opm_records(uow).get_case(case_id)
    if record is None:
        raise NotFound(f"no outpatient-management case {case_id}")
    record_access(uow, viewer, AuditAction.READ, "opm_case", case_id, record.member_id, "OPM case view", now)
    uow.commit()
    return record


def list_cases(
    uow: UnitOfWork,
    viewer: User | str,
    *,
    now: datetime,
    state: OpmCaseState | None = None,
    member_id: str | None = None,
    limit: int = 100,
) -> Sequence[OpmCaseRecord]:
    cases = opm_records(uow).list_cases(state=state, member_id=member_id, limit=limit)
    for c in cases:
        record_access(uow, viewer, AuditAction.READ, "opm_case", c.case_id, c.member_id, "OPM case list", now)
    uow.commit()
    return cases


def case_letter(
    uow: UnitOfWork, viewer: User | str, case_id: str, letter_id: str, *, now: datetime
) -> Letter:
    """A letter of the case (for download); the read is audited."""
    record = opm_records(uow).get_case(case_id)
    letter = uow.letters.get(letter_id)
    if record is None or letter is None or letter.case_id != case_id:
        raise NotFound(f"case {case_id} has no letter {letter_id}")
    record_access(
        uow, viewer, AuditAction.READ, "letter", letter_id, record.member_id, "OPM letter download", now
    )
    uow.commit()
    return letter
