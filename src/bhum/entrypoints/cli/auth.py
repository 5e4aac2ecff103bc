"""`bhum auth` commands: required, evaluate, submit, show, decide, appeal, appeal-decide, p2p, letters.

Thin: parse arguments, call bhum.services.authorization, print JSON. Run on the host by an
operator: the audit actor is ``system:cli`` unless a reviewer's username is given.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any, Protocol
from zoneinfo import ZoneInfo

import typer

from bhum.adapters.letters import write as write_letter
from bhum.config import Settings
from bhum.domain.access import User
from bhum.domain.authorization import DecisionOutcome, DecisionReason
from bhum.domain.errors import BhumError, InputError
from bhum.domain.values import Code, parse_date
from bhum.policy import PackRegistry, resolve_system
from bhum.services.auth_records import AppealOutcome, PeerToPeerOutcome
from bhum.services.auth_requests import parse_submission
from bhum.services.authorization import (
    Engine,
    authorization_required,
    decide_appeal,
    decide_request,
    evaluate_submission,
    file_appeal,
    get_request,
    record_peer_to_peer,
    render_letters,
    submit_request,
)
from bhum.services.unit_of_work import UnitOfWork

CLI_ACTOR = "system:cli"

app = typer.Typer(help="Preauthorization and concurrent review.", no_args_is_help=True)


class AuthCliDependencies(Protocol):
    settings: Settings

    @property
    def clock(self) -> Callable[[], datetime]: ...
    @property
    def packs(self) -> PackRegistry: ...
    def holidays(self, first: date, last: date) -> frozenset[date]: ...
    def uow_factory(self) -> UnitOfWork: ...


def deps_of(ctx: typer.Context) -> AuthCliDependencies:
    deps = ctx.obj
    if deps is None or not all(
        hasattr(deps, a) for a in ("uow_factory", "clock", "packs", "holidays", "settings")
    ):
        typer.echo("bhum auth: no composition root (the bhum command sets it up)", err=True)
        raise typer.Exit(2)
    return deps  # type: ignore[no-any-return]


def uow_of(deps: AuthCliDependencies) -> UnitOfWork:
    """The auth-aware unit of work when the composition root offers one (``auth_uow_factory``)."""
    factory: Callable[[], UnitOfWork] = getattr(deps, "auth_uow_factory", None) or deps.uow_factory
    return factory()


def engine_of(deps: AuthCliDependencies) -> Engine:
    return Engine(deps.packs, deps.settings.plan_time_zone, deps.holidays)


def fail(exc: BhumError) -> typer.Exit:
    typer.echo(f"error: {exc}", err=True)
    return typer.Exit(1)


def emit(doc: Any) -> None:
    typer.echo(json.dumps(doc, indent=2, sort_keys=False, default=str))


def read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise InputError("no such file", source=str(path)) from exc
    except json.JSONDecodeError as exc:
        raise InputError(f"not valid JSON (line {exc.lineno}, column {exc.colno})", source=str(path)) from exc


def parse_service(text: str) -> Code:
    """``hcpcs|S9480`` (or a full system URI before the bar)."""
    system_name, bar, code = text.partition("|")
    if not bar or not code:
        raise InputError("write the service as SYSTEM|CODE, e.g. hcpcs|S9480", field="service")
    system = resolve_system(system_name)
    if system is None:
        raise InputError(f"unknown code system {system_name!r}", field="service")
    return Code(system, code)


def reviewer_of(uow: UnitOfWork, username: str) -> User:
    with uow:
        user = uow.users.get_by_username(username)
    if user is None:
        raise InputError("no such user", field="reviewer")
    return user


@app.command("required")
def required(
    ctx: typer.Context,
    member: Annotated[str, typer.Option(help="Member id")],
    provider: Annotated[str, typer.Option(help="Provider NPI")],
    service: Annotated[str, typer.Option(help="SYSTEM|CODE, e.g. hcpcs|S9480")],
    on: Annotated[str, typer.Option("--date", help="Date of service, YYYY-MM-DD")],
) -> None:
    """Is authorization required? Names the rule and pack version (OPM-01, IOP-14)."""
    deps = deps_of(ctx)
    try:
        answer = authorization_required(
            uow_of(deps),
            engine_of(deps),
            member_id=member,
            provider_npi=provider,
            service=parse_service(service),
            on=parse_date(on, field="date"),
            actor=CLI_ACTOR,
            now=deps.clock(),
        )
    except BhumError as exc:
        raise fail(exc) from exc
    emit(answer.to_doc())


@app.command("evaluate")
def evaluate(ctx: typer.Context, file: Annotated[Path, typer.Argument(help="Request JSON file")]) -> None:
    """Evaluate a request file without storing anything; prints the determination as JSON."""
    deps = deps_of(ctx)
    try:
        submission = parse_submission(read_json(file), source=str(file))
        emit(evaluate_submission(engine_of(deps), submission).to_doc())
    except BhumError as exc:
        raise fail(exc) from exc


@app.command("submit")
def submit(ctx: typer.Context, file: Annotated[Path, typer.Argument(help="Request JSON file")]) -> None:
    """Submit a request: stored, evaluated, decided automatically or pended, letters queued."""
    deps = deps_of(ctx)
    try:
        submission = parse_submission(read_json(file), source=str(file))
        result = submit_request(uow_of(deps), engine_of(deps), submission, actor=CLI_ACTOR, now=deps.clock())
    except BhumError as exc:
        raise fail(exc) from exc
    emit(result.to_doc())


@app.command("show")
def show(ctx: typer.Context, request_id: str) -> None:
    """A request with its clock, determination, authorization history, decisions and letters."""
    deps = deps_of(ctx)
    try:
        emit(get_request(uow_of(deps), request_id, actor=CLI_ACTOR, now=deps.clock()))
    except BhumError as exc:
        raise fail(exc) from exc


def _reasons(items: list[str]) -> list[DecisionReason]:
    reasons = []
    for item in items:
        rule, bar, text = item.partition(":")
        if not bar or not text.strip():
            raise InputError(
                "write a reason as RULE-ID:plain words, e.g. IOP-05:fewer than 9 hours", field="reason"
            )
        reasons.append(DecisionReason(rule.strip(), text.strip()))
    return reasons


@app.command("decide")
def decide(
    ctx: typer.Context,
    request_id: str,
    outcome: Annotated[str, typer.Option(help="approved | partially_approved | denied | withdrawn")],
    reviewer: Annotated[str, typer.Option(help="Reviewer's username (a denial needs a physician reviewer)")],
    reason: Annotated[list[str] | None, typer.Option(help="RULE-ID:text, repeatable")] = None,
    units: Annotated[int | None, typer.Option(help="Units approved (partial approval)")] = None,
) -> None:
    deps = deps_of(ctx)
    try:
        try:
            chosen = DecisionOutcome(outcome)
        except ValueError as exc:
            raise InputError(f"unknown outcome {outcome!r}", field="outcome") from exc
        user = reviewer_of(uow_of(deps), reviewer)
        decision = decide_request(
            uow_of(deps),
            request_id,
            outcome=chosen,
            reviewer=user,
            now=deps.clock(),
            reasons=_reasons(reason or []),
            units=units,
        )
    except BhumError as exc:
        raise fail(exc) from exc
    emit(
        {
            "decision_id": decision.decision_id,
            "outcome": decision.outcome.value,
            "decided_by": decision.decided_by,
        }
    )


@app.command("appeal")
def appeal(
    ctx: typer.Context,
    request_id: str,
    reason: Annotated[str, typer.Option(help="Why the decision should change")],
) -> None:
    deps = deps_of(ctx)
    try:
        record = file_appeal(uow_of(deps), request_id, reason=reason, actor=CLI_ACTOR, now=deps.clock())
    except BhumError as exc:
        raise fail(exc) from exc
    emit({"appeal_id": record.appeal_id, "request_id": record.request_id})


@app.command("appeal-decide")
def appeal_decide(
    ctx: typer.Context,
    appeal_id: str,
    outcome: Annotated[str, typer.Option(help="upheld | overturned | partially_overturned")],
    reviewer: Annotated[str, typer.Option(help="A different reviewer with the same or a similar licence")],
    notes: Annotated[str, typer.Option()] = "",
) -> None:
    deps = deps_of(ctx)
    try:
        try:
            chosen = AppealOutcome(outcome)
        except ValueError as exc:
            raise InputError(f"unknown outcome {outcome!r}", field="outcome") from exc
        user = reviewer_of(uow_of(deps), reviewer)
        record = decide_appeal(
            uow_of(deps), appeal_id, outcome=chosen, reviewer=user, now=deps.clock(), notes=notes
        )
    except BhumError as exc:
        raise fail(exc) from exc
    emit({"appeal_id": record.appeal_id, "outcome": None if record.outcome is None else record.outcome.value})


@app.command("p2p")
def p2p(
    ctx: typer.Context,
    request_id: str,
    outcome: Annotated[
        str, typer.Option(help="decision_upheld | decision_changed | provider_declined | no_response")
    ],
    reviewer: Annotated[str, typer.Option(help="The reviewer's username")],
    notes: Annotated[str, typer.Option()] = "",
) -> None:
    """Record the outcome of the peer-to-peer discussion offered with an adverse decision (REG-03)."""
    deps = deps_of(ctx)
    try:
        try:
            chosen = PeerToPeerOutcome(outcome)
        except ValueError as exc:
            raise InputError(f"unknown outcome {outcome!r}", field="outcome") from exc
        user = reviewer_of(uow_of(deps), reviewer)
        record = record_peer_to_peer(
            uow_of(deps), request_id, outcome=chosen, reviewer=user, now=deps.clock(), notes=notes
        )
    except BhumError as exc:
        raise fail(exc) from exc
    emit({"p2p_id": record.p2p_id, "outcome": None if record.outcome is None else record.outcome.value})


@app.command("letters")
def letters(
    ctx: typer.Context,
    directory: Annotated[
        Path | None, typer.Option(help="Where the PDFs go (default: <data dir>/letters)")
    ] = None,
    limit: Annotated[int, typer.Option(min=1)] = 500,
) -> None:
    """Render queued letters to PDF (the batch step); each is produced once."""
    deps = deps_of(ctx)
    target = directory or getattr(deps, "letters_dir", None) or deps.settings.data_dir / "letters"
    try:
        paths = render_letters(
            uow_of(deps),
            write=write_letter,
            directory=target,
            now=deps.clock(),
            tz=ZoneInfo(deps.settings.plan_time_zone.key),
            limit=limit,
        )
    except BhumError as exc:
        raise fail(exc) from exc
    emit({"rendered": len(paths), "files": [str(p) for p in paths]})
