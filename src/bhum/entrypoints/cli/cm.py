"""`bhum cm` commands: the case manager's and care coordinator's work from the command line
(TCM-05..TCM-12, COC-01..COC-04, REG-06).

Every command acts as a named bhum user (``--as USERNAME``), so the same access rules apply as in
the API: a case manager reaches only their caseload, a supervisor every member. Structured input
(progress notes, service plans, consents, coordination events, stays, letter details) is read from
JSON files with the API's own request models; a bad file is refused naming the file and the field,
and nothing is stored. Numbers come from the tcm pack in force.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any, Protocol, TypeVar

import typer
from pydantic import BaseModel, ValidationError

from bhum.domain.access import User
from bhum.domain.case_management import CaseloadType, SupervisorOverride
from bhum.domain.consent import DisclosurePurpose, RecordKind
from bhum.domain.errors import BhumError, InputError, NotFound
from bhum.domain.letters import Recipient, RecipientKind, StaffContact
from bhum.entrypoints.api.routes.case_management import (
    ProgressNoteIn,
    ServicePlanIn,
    ServicePlanRecordIn,
    StayIn,
    letter_writer,
)
from bhum.entrypoints.api.routes.consent import ConsentIn
from bhum.entrypoints.api.routes.coordination import EventsIn, PcpLetterIn, event_to_domain
from bhum.policy import PackRegistry
from bhum.services.access import ScopeResolver
from bhum.services.care_records import CareUnitOfWork
from bhum.services.case_management import (
    AssignmentRefused,
    CareParameters,
    assign_member,
    check_service_plan,
    escalate_overdue,
    list_open_tasks,
    record_missed_appointment,
    record_progress_note,
    record_refusal,
    record_service_plan,
    transition_eligibility,
    view_caseload,
)
from bhum.services.consent import DisclosureRefused, disclose, record_consent
from bhum.services.coordination import raise_coordination_tasks, send_pcp_letter
from bhum.services.unit_of_work import UnitOfWork

app = typer.Typer(help="Case management and coordination of care.", no_args_is_help=True)

Model = TypeVar("Model", bound=BaseModel)
AsUser = Annotated[str, typer.Option("--as", help="The bhum user acting (their roles and caseload apply)")]


class CmCliDependencies(Protocol):
    """What the commands need from the composition root (``bhum.bootstrap.Application``)."""

    def uow_factory(self) -> UnitOfWork: ...
    @property
    def clock(self) -> Callable[[], datetime]: ...
    @property
    def packs(self) -> PackRegistry: ...
    @property
    def letters_dir(self) -> Path: ...
    @property
    def settings(self) -> Any: ...
    def holidays(self, first: date, last: date) -> frozenset[date]: ...
    def scopes(self, uow: UnitOfWork) -> ScopeResolver: ...


def _deps(ctx: typer.Context) -> CmCliDependencies:
    deps = ctx.obj
    needed = ("uow_factory", "clock", "packs", "letters_dir", "settings", "holidays", "scopes")
    if deps is None or not all(hasattr(deps, a) for a in needed):
        typer.echo("bhum cm: no store configured (the bhum command sets it up)", err=True)
        raise typer.Exit(2)
    return deps  # type: ignore[no-any-return]


def _uow(deps: CmCliDependencies) -> CareUnitOfWork:
    uow = deps.uow_factory()
    if not isinstance(uow, CareUnitOfWork):
        raise RuntimeError("the composition root's unit of work lacks the care-management repositories")
    return uow


def _user(deps: CmCliDependencies, username: str) -> User:
    with deps.uow_factory() as uow:
        user = uow.users.get_by_username(username)
    if user is None or not user.active:
        raise NotFound(f"no active user named {username!r}")
    return user


def _params(deps: CmCliDependencies) -> CareParameters:
    return CareParameters.from_packs(deps.packs)


def _read(path: Path, model: type[Model]) -> Model:
    """A JSON file through the API's request model; refusals name the file and the field."""
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InputError(f"cannot read the file: {exc.strerror}", source=str(path)) from exc
    except json.JSONDecodeError as exc:
        raise InputError(f"not JSON: {exc.msg} at line {exc.lineno}", source=str(path)) from exc
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"]) or "body"
        raise InputError(str(first["msg"]), field=field, source=str(path)) from exc


def _fail(exc: BhumError) -> typer.Exit:
    typer.echo(f"error: {exc}", err=True)
    return typer.Exit(1)


def _run(action: Callable[[], None]) -> None:
    try:
        action()
    except DisclosureRefused as exc:
        typer.echo(f"refused ({exc.decision.rule_id}): {exc.decision.reason}", err=True)
        raise typer.Exit(3) from exc
    except AssignmentRefused as exc:
        typer.echo(f"refused: {exc}", err=True)
        raise typer.Exit(3) from exc
    except BhumError as exc:
        raise _fail(exc) from exc


@app.command("assign")
def assign(
    ctx: typer.Context,
    member_id: str,
    as_user: AsUser,
    staff: Annotated[str, typer.Option(help="The case manager's staff id")],
    caseload_type: Annotated[CaseloadType, typer.Option("--type", help="Caseload type (TCM-06)")],
    family: Annotated[str | None, typer.Option(help="Family id (wraparound)")] = None,
    override_reason: Annotated[
        str | None, typer.Option(help="A supervisor's reason to go beyond the caseload limit")
    ] = None,
) -> None:
    """TCM-06: put a member on a caseload."""
    deps = _deps(ctx)

    def act() -> None:
        user = _user(deps, as_user)
        override = SupervisorOverride(user.id, override_reason) if override_reason is not None else None
        case, decision = assign_member(
            _uow(deps), user, member_id=member_id, staff_id=staff, caseload_type=caseload_type,
            now=deps.clock(), family_id=family, override=override, limits=_params(deps).caseload_limits,
        )  # fmt: skip
        flag = " (supervisor override)" if decision.overridden else ""
        typer.echo(
            f"{case.case_id}\t{caseload_type.value}\t{decision.count_after}/{decision.limits.maximum}"
            f"\t{decision.status_after.value}{flag}"
        )

    _run(act)


@app.command("caseload")
def caseload(ctx: typer.Context, staff_id: str, as_user: AsUser) -> None:
    """TCM-06: a caseload with its counts against the limits."""
    deps = _deps(ctx)

    def act() -> None:
        limits = _params(deps).caseload_limits
        view = view_caseload(
            _uow(deps), _user(deps, as_user), staff_id=staff_id, now=deps.clock(), limits=limits
        )
        for kind, count in view.counts.items():
            bounds = limits[kind]
            typer.echo(
                f"# {kind.value}: {count} {bounds.counted_in} "
                f"({bounds.minimum}-{bounds.maximum}, {view.statuses[kind].value})"
            )
        for e in view.entries:
            override = "\toverride" if e.overridden else ""
            typer.echo(f"{e.case_id}\t{e.member_id}\t{e.caseload_type.value}\t{e.family_id or '-'}{override}")

    _run(act)


@app.command("note")
def note(ctx: typer.Context, member_id: str, file: Path, as_user: AsUser) -> None:
    """TCM-09: record a progress note from a JSON file (all 11 elements)."""
    deps = _deps(ctx)

    def act() -> None:
        body = _read(file, ProgressNoteIn)
        uow = _uow(deps)
        stored = record_progress_note(
            uow, _user(deps, as_user), body.to_domain(), member_id=member_id, scopes=deps.scopes(uow),
            now=deps.clock(), original_signature_days=_params(deps).original_signature_days,
        )  # fmt: skip
        due = stored.original_signature_due
        typer.echo(f"{stored.note.note_id}\trecorded" + (f"\toriginal signature due {due}" if due else ""))

    _run(act)


@app.command("plan")
def plan(
    ctx: typer.Context,
    member_id: str,
    file: Path,
    as_user: AsUser,
    store: Annotated[
        bool,
        typer.Option("--store", help="Store the plan (needs effective_from); a revision is a new version"),
    ] = False,
) -> None:
    """TCM-10: check a service plan (goals, objectives, three signatures) from a JSON file; with
    --store, keep it (the same plan again changes nothing, a changed one is stored as the next version)."""
    deps = _deps(ctx)

    def act() -> None:
        uow = _uow(deps)
        if store:
            body = _read(file, ServicePlanRecordIn)
            recorded = record_service_plan(
                uow, _user(deps, as_user), body.to_domain(), member_id=member_id, effective=body.effective(),
                scopes=deps.scopes(uow), now=deps.clock(),
            )  # fmt: skip
            state = "stored" if recorded.created else "unchanged"
            typer.echo(
                f"{recorded.stored.plan.plan_id}\tversion {recorded.stored.version}\t{state}"
                f"\tdevelopment compensable: {recorded.validation.development_compensable}"
            )
            return
        checked = _read(file, ServicePlanIn)
        result = check_service_plan(
            uow, _user(deps, as_user), checked.to_domain(), member_id=member_id, scopes=deps.scopes(uow),
            now=deps.clock(),
        )  # fmt: skip
        typer.echo(f"{result.plan_id}\tcomplete\tdevelopment compensable: {result.development_compensable}")

    _run(act)


@app.command("missed")
def missed(
    ctx: typer.Context,
    member_id: str,
    as_user: AsUser,
    at: Annotated[datetime, typer.Option(help="When the appointment was missed (plan zone if no offset)")],
) -> None:
    """TCM-07: an outreach task due within 2 business days of a missed appointment."""
    deps = _deps(ctx)

    def act() -> None:
        tz = deps.settings.plan_time_zone
        missed_at = at if at.tzinfo is not None else at.replace(tzinfo=tz)
        day = missed_at.astimezone(tz).date()
        uow = _uow(deps)
        task = record_missed_appointment(
            uow, _user(deps, as_user), member_id=member_id, missed_at=missed_at, tz=tz,
            holidays=deps.holidays(day, date(day.year + 1, 12, 31)), scopes=deps.scopes(uow),
            now=deps.clock(), business_days=_params(deps).outreach_business_days,
        )  # fmt: skip
        typer.echo(f"{task.task_id}\toutreach\tdue {task.due_at.astimezone(tz).isoformat()}")

    _run(act)


@app.command("tasks")
def tasks(
    ctx: typer.Context,
    as_user: AsUser,
    overdue: Annotated[bool, typer.Option(help="Only tasks past due")] = False,
) -> None:
    """Open tasks of the acting user, soonest due first."""
    deps = _deps(ctx)

    def act() -> None:
        now = deps.clock()
        found = list_open_tasks(
            _uow(deps), _user(deps, as_user), now=now, due_before=now if overdue else None
        )
        for t in found:
            flag = "\tescalated" if t.escalated else ""
            typer.echo(f"{t.task_id}\t{t.kind.value}\t{t.member_id or '-'}\t{t.due_at.isoformat()}{flag}")

    _run(act)


@app.command("escalate")
def escalate(ctx: typer.Context, as_user: AsUser) -> None:
    """TCM-07/08: the acting supervisor takes over every overdue outreach and contact task."""
    deps = _deps(ctx)

    def act() -> None:
        escalated = escalate_overdue(_uow(deps), _user(deps, as_user), now=deps.clock())
        for t in escalated:
            typer.echo(f"{t.task_id}\t{t.kind.value}\tescalated")
        typer.echo(f"{len(escalated)} task(s) escalated", err=True)

    _run(act)


@app.command("refuse")
def refuse(
    ctx: typer.Context,
    member_id: str,
    as_user: AsUser,
    on: Annotated[datetime, typer.Option(formats=["%Y-%m-%d"], help="The day the member refused")],
    reason: Annotated[str, typer.Option(help="What the member said (optional)")] = "",
) -> None:
    """TCM-12: record a refusal of case management; no other service is restricted."""
    deps = _deps(ctx)

    def act() -> None:
        uow = _uow(deps)
        refusal = record_refusal(
            uow, _user(deps, as_user), member_id=member_id, refused_on=on.date(), scopes=deps.scopes(uow),
            now=deps.clock(), reason=reason,
        )  # fmt: skip
        typer.echo(f"refusal recorded {refusal.refused_on.isoformat()} (TCM-12: other services unaffected)")

    _run(act)


@app.command("consent")
def consent(ctx: typer.Context, member_id: str, file: Path, as_user: AsUser) -> None:
    """COC-04 / REG-06: add a consent or release from a JSON file to the registry."""
    deps = _deps(ctx)

    def act() -> None:
        body = _read(file, ConsentIn)
        uow = _uow(deps)
        stored = record_consent(
            uow, _user(deps, as_user), body.to_domain(member_id), scopes=deps.scopes(uow), now=deps.clock()
        )
        typer.echo(f"{stored.consent_id}\t{stored.scope.value}\t{stored.recipient}")

    _run(act)


@app.command("disclose")
def disclose_(
    ctx: typer.Context,
    member_id: str,
    as_user: AsUser,
    record_kind: Annotated[RecordKind, typer.Option(help="What is disclosed")],
    recipient: Annotated[str, typer.Option(help="Who receives it (npi:..., an organization, a person)")],
    purpose: Annotated[DisclosurePurpose, typer.Option(help="Why")],
    entity_id: Annotated[str, typer.Option(help="The record disclosed")],
    entity_type: Annotated[str, typer.Option(help="Its type")] = "record",
) -> None:
    """COC-04 / REG-06: may this record go to this recipient? Audited either way (exit 3 refused)."""
    deps = _deps(ctx)

    def act() -> None:
        now = deps.clock()
        decision = disclose(
            _uow(deps), _user(deps, as_user), member_id=member_id, record_kind=record_kind,
            recipient=recipient, purpose=purpose, entity_type=entity_type, entity_id=entity_id, now=now,
            on=now.astimezone(deps.settings.plan_time_zone).date(),
        )  # fmt: skip
        typer.echo(f"allowed ({decision.rule_id}): {decision.reason}")

    _run(act)


@app.command("coordinate")
def coordinate(
    ctx: typer.Context,
    member_id: str,
    events_file: Path,
    as_user: AsUser,
    letter: Annotated[
        Path | None,
        typer.Option(
            help="JSON with pcp and coordinator: also send the PCP letters (letterhead: the member's plan)"
        ),
    ] = None,
) -> None:
    """COC-01/02: coordination tasks from a JSON events file, and with --letter the PCP letters
    (sent once per task; refused when the consent registry does not allow it)."""
    deps = _deps(ctx)

    def act() -> None:
        body = _read(events_file, EventsIn)
        details = _read(letter, PcpLetterIn) if letter is not None else None
        user = _user(deps, as_user)
        events = [event_to_domain(member_id, e, i) for i, e in enumerate(body.events)]
        uow = _uow(deps)
        created = raise_coordination_tasks(
            uow, user, member_id=member_id, events=events, now=deps.clock(), scopes=deps.scopes(uow)
        )
        for task in created:
            typer.echo(
                f"{task.task_id}\t{task.spec.rule_id}\t{task.spec.trigger.value}\tdue {task.spec.due_on}"
            )
            if details is None or not task.spec.notify_pcp:
                continue
            uow = _uow(deps)
            sent = send_pcp_letter(
                uow, user, member_id=member_id, task_id=task.task_id,
                plan=details.plan.to_domain() if details.plan is not None else None,
                pcp=Recipient(
                    RecipientKind.PROVIDER, details.pcp.name, tuple(details.pcp.address_lines),
                    details.pcp.npi,
                ),
                coordinator=StaffContact(
                    details.coordinator.name, details.coordinator.phone, details.coordinator.credential
                ),
                write=letter_writer(deps.letters_dir), now=deps.clock(), tz=deps.settings.plan_time_zone,
                scopes=deps.scopes(uow), record_kind=details.record_kind,
            )  # fmt: skip
            state = "sent" if sent.created else "already sent"
            typer.echo(f"{task.task_id}\tletter {sent.letter.letter_id}\t{state}\t{sent.letter.file_path}")

    _run(act)


@app.command("transition")
def transition(ctx: typer.Context, member_id: str, stay_file: Path, as_user: AsUser) -> None:
    """TCM-05: whether and from which date case management may be billed as a transition."""
    deps = _deps(ctx)

    def act() -> None:
        stay = _read(stay_file, StayIn)
        uow = _uow(deps)
        window = transition_eligibility(
            uow, _user(deps, as_user), stay.to_domain(), member_id=member_id, scopes=deps.scopes(uow),
            now=deps.clock(), limits=_params(deps).transition_limits,
        )  # fmt: skip
        if window.eligible:
            typer.echo(f"eligible {window.billable_from} .. {window.billable_through}: {window.reason}")
        else:
            typer.echo(f"not eligible: {window.reason}")

    _run(act)
