"""`bhum opm`: the Focused Outpatient Management program (OPM-03..OPM-08).

    bhum opm run --as-of DATE [--claims DIR] [--report PATH] [--capacity N] [--no-outreach]
    bhum opm tick [--now T]
    bhum opm form submit CASE FILE.json
    bhum opm determine CASE DETERMINATION --rationale TEXT [--level L] [--referral R] ...
    bhum opm flags [--as-of DATE] · bhum opm cases [--state S]

Thin: parse arguments, call bhum.services.opm, print. The operator's actor is ``system:cli``.
``run_opm_demo`` is what ``bhum demo`` calls.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any, Protocol

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from bhum.adapters.letters import write as write_letter
from bhum.config import Settings
from bhum.domain.calendar import local_date
from bhum.domain.errors import BhumError, InputError
from bhum.domain.opm import LevelOfCare, OpmDetermination
from bhum.domain.values import parse_date
from bhum.policy import PackRegistry
from bhum.services import opm as service
from bhum.services.opm_records import OpmCaseRecord, OpmCaseState, opm_records
from bhum.services.unit_of_work import UnitOfWork

CLI_ACTOR = "system:cli"

app = typer.Typer(help="Focused Outpatient Management (OPM-03..OPM-08).", no_args_is_help=True)
form_app = typer.Typer(help="The Clinical Update Request Form (OPM-04, OPM-06).", no_args_is_help=True)
app.add_typer(form_app, name="form")


class OpmDependencies(Protocol):
    settings: Settings

    @property
    def clock(self) -> Callable[[], datetime]: ...
    @property
    def packs(self) -> PackRegistry: ...
    @property
    def letters_dir(self) -> Path: ...
    def uow_factory(self) -> UnitOfWork: ...


def _deps(ctx: typer.Context) -> OpmDependencies:
    deps = ctx.obj
    if deps is None or not all(hasattr(deps, a) for a in ("uow_factory", "clock", "packs", "settings")):
        typer.echo("bhum opm: no composition root (the bhum command sets it up)", err=True)
        raise typer.Exit(2)
    return deps  # type: ignore[no-any-return]


def opm_uow_factory(deps: Any) -> Callable[[], UnitOfWork]:
    """The OPM-aware unit of work: ``opm_uow_factory`` when the composition root offers one, else its
    ``uow_factory`` (which must then carry ``uow.opm``)."""
    factory: Callable[[], UnitOfWork] = getattr(deps, "opm_uow_factory", None) or deps.uow_factory
    return factory


def _fail(exc: BhumError) -> typer.Exit:
    # Plain echo, not rich: a long file path must not be wrapped mid-name.
    typer.echo(f"error: {exc}", err=True)
    return typer.Exit(1)


def _moment(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError as exc:
        raise InputError(f"{text!r} is not an ISO timestamp", field="now") from exc
    if moment.tzinfo is None:
        raise InputError("the timestamp needs a time zone (e.g. 2026-07-31T09:00:00-05:00)", field="now")
    return moment


def _case_json(c: OpmCaseRecord) -> dict[str, Any]:
    return {
        "case_id": c.case_id,
        "member_id": c.member_id,
        "provider_npi": c.provider_npi,
        "state": c.state.value,
        "cycle": c.cycle,
        "letter_date": c.letter_date.isoformat(),
        "due_on": c.due_on.isoformat(),
        "flag_rule_ids": list(c.flag_rule_ids),
        "services": [f"{s.code} {s.display or ''}".strip() for s in c.services],
        "authorization_ids": list(c.authorization_ids),
        "letter_ids": list(c.letter_ids),
        "review": c.review,
        "discontinued_from": c.discontinued_from.isoformat() if c.discontinued_from else None,
    }


# -- run -------------------------------------------------------------------------------------------


def run_program(
    deps: OpmDependencies,
    claims_dir: Path,
    as_of: date,
    *,
    report: Path | None = None,
    capacity: int | None = None,
    outreach: bool = True,
    now: datetime | None = None,
    progress: service.Progress | None = None,
) -> service.RunSummary:
    """The run with the composition root's adapters: typst letters in ``letters_dir``."""
    moment = now or deps.clock()
    settings = None
    if outreach:
        settings = service.OutreachSettings(
            as_of=as_of,
            letter_date=local_date(moment, deps.settings.plan_time_zone),
            now=moment,
            letters_dir=deps.letters_dir,
            write_letter=write_letter,
            parameters=service.OpmParameters.from_packs(deps.packs),
            capacity=capacity,
        )
    return service.run_program(
        opm_uow_factory(deps),
        claims_dir,
        as_of=as_of,
        now=moment,
        report=report,
        outreach=settings,
        progress=progress,
    )


def run_opm_demo(application: Any, claims_dir: Path, as_of: date) -> dict[str, Any]:
    """For ``bhum demo``: run the program on the demo population (already loaded with ``bhum db load``),
    open cases with both letters, write the report next to the letters, and return a summary."""
    report = Path(application.settings.data_dir) / "opm" / f"flags-{as_of.isoformat()}.parquet"
    summary = run_program(application, Path(claims_dir), as_of, report=report)
    with opm_uow_factory(application)() as uow:
        records = opm_records(uow)
        cases = records.list_cases(limit=100_000)
        letters = sum(len(c.letter_ids) for c in cases)
    out = summary.outreach
    return {
        "as_of": as_of.isoformat(),
        "flags": summary.flags,
        "members_flagged": summary.members_flagged,
        "flags_by_rule": summary.flags_by_rule,
        "report": str(summary.report) if summary.report else None,
        "cases_opened": len(out.opened) if out else 0,
        "cases_total": len(cases),
        "letters_total": letters,
        "skipped": dict(out.skipped) if out else {},
        "letters_dir": str(application.letters_dir),
    }


@app.command("run")
def run(
    ctx: typer.Context,
    as_of: Annotated[str, typer.Option("--as-of", help="As-of date YYYY-MM-DD.")],
    claims: Annotated[Path, typer.Option("--claims", help="Claims input directory.")] = Path("data/synth"),
    report: Annotated[Path | None, typer.Option("--report", help="Flags report (.parquet or .csv).")] = None,
    capacity: Annotated[
        int | None, typer.Option("--capacity", min=0, help="New cases per month (default: all eligible).")
    ] = None,
    no_outreach: Annotated[bool, typer.Option("--no-outreach", help="Flags and report only.")] = False,
) -> None:
    """Run the catalog, store the flags, write the report and reach out (provider + member letters)."""
    deps = _deps(ctx)
    console = Console()
    try:
        day = parse_date(as_of, field="as_of", source="--as-of")
        with Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
            transient=True,
        ) as bar:
            tasks: dict[str, Any] = {}

            def progress(step: str, done: int, total: int) -> None:
                if step not in tasks:
                    tasks[step] = bar.add_task(step, total=total)
                bar.update(tasks[step], completed=done, total=total)

            summary = run_program(
                deps,
                claims,
                day,
                report=report,
                capacity=capacity,
                outreach=not no_outreach,
                progress=progress,
            )
    except BhumError as exc:
        raise _fail(exc) from exc
    by_rule = Table("rule", "flags", title=f"flags as of {day.isoformat()}")
    for rule_id, count in summary.flags_by_rule.items():
        by_rule.add_row(rule_id, str(count))
    console.print(by_rule)
    ranked = Table("rank", "member", "score", "flags", title="members ranked for outreach")
    for rank, member, score, count in summary.top_members:
        ranked.add_row(str(rank), member, f"{score:.2f}", str(count))
    console.print(ranked)
    console.print(
        f"flags {summary.flags} ({summary.new_flags} new) · members {summary.members_flagged}"
        + (f" · report {summary.report}" if summary.report else "")
    )
    if summary.outreach is not None:
        o = summary.outreach
        skipped = ", ".join(f"{k} {v}" for k, v in sorted(o.skipped.items())) or "none"
        console.print(
            f"cases opened {len(o.opened)} · already this month {len(o.already_done)} · letters {o.letters}"
            f" · skipped: {skipped}" + (" · capacity reached" if o.capacity_reached else "")
        )


# -- tick ------------------------------------------------------------------------------------------


@app.command("tick")
def tick(
    ctx: typer.Context,
    now: Annotated[
        str | None, typer.Option(help="ISO timestamp with a time zone (default: the clock)")
    ] = None,
) -> None:
    """OPM-07 (idempotent): discontinue cases whose form was not returned by the due date."""
    deps = _deps(ctx)
    try:
        moment = deps.clock() if now is None else _moment(now)
        summary = service.tick(
            opm_uow_factory(deps),
            now=moment,
            tz=deps.settings.plan_time_zone,
            parameters=service.OpmParameters.from_packs(deps.packs),
            letters_dir=deps.letters_dir,
            write_letter=write_letter,
        )
    except BhumError as exc:
        raise _fail(exc) from exc
    typer.echo(json.dumps({"now": moment.isoformat(), **asdict(summary)}, indent=2))


# -- form and determination ------------------------------------------------------------------------


@form_app.command("submit")
def submit(
    ctx: typer.Context,
    case_id: Annotated[str, typer.Argument(help="The OPM case number on the letter.")],
    file: Annotated[Path, typer.Argument(help="The returned form as JSON (the form's keys).")],
    now: Annotated[str | None, typer.Option(help="ISO timestamp (default: the clock)")] = None,
) -> None:
    """Enter a returned Clinical Update Request Form (OPM-04/06)."""
    deps = _deps(ctx)
    try:
        try:
            data = json.loads(file.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise InputError(f"cannot read the form as JSON: {exc}", source=str(file), field="form") from exc
        moment = deps.clock() if now is None else _moment(now)
        with opm_uow_factory(deps)() as uow:
            record = service.submit_form(
                uow, CLI_ACTOR, case_id, data, now=moment, tz=deps.settings.plan_time_zone, source=str(file)
            )
    except BhumError as exc:
        raise _fail(exc) from exc
    typer.echo(json.dumps(_case_json(record), indent=2))


@app.command("determine")
def determine(
    ctx: typer.Context,
    case_id: Annotated[str, typer.Argument(help="The OPM case number.")],
    determination: Annotated[OpmDetermination, typer.Argument(help="OPM-06 determination.")],
    rationale: Annotated[str, typer.Option("--rationale", help="Why (plain words).")],
    level: Annotated[LevelOfCare | None, typer.Option("--level", help="Recommended level of care.")] = None,
    recommendation: Annotated[list[str] | None, typer.Option("--recommendation")] = None,
    referral: Annotated[list[str] | None, typer.Option("--referral", help="Resource or program.")] = None,
    reviewer: Annotated[str, typer.Option("--reviewer", help="Reviewer's user id.")] = CLI_ACTOR,
    now: Annotated[str | None, typer.Option(help="ISO timestamp (default: the clock)")] = None,
) -> None:
    """Record the clinical reviewer's determination on a returned form (OPM-06)."""
    deps = _deps(ctx)
    try:
        moment = deps.clock() if now is None else _moment(now)
        with opm_uow_factory(deps)() as uow:
            actor: Any = uow.users.get(reviewer) if not reviewer.startswith("system:") else reviewer
            if actor is None:
                raise InputError(f"no user {reviewer!r}", field="reviewer")
            record = service.record_determination(
                uow,
                actor,
                case_id,
                determination,
                rationale,
                now=moment,
                recommended_level=level,
                recommendations=recommendation or (),
                referrals=referral or (),
            )
    except BhumError as exc:
        raise _fail(exc) from exc
    typer.echo(json.dumps(_case_json(record), indent=2))


# -- views -----------------------------------------------------------------------------------------


@app.command("flags")
def flags(
    ctx: typer.Context,
    as_of: Annotated[str | None, typer.Option("--as-of", help="Default: the latest run.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=10_000)] = 50,
) -> None:
    """Stored flags, ranked, with their evidence."""
    deps = _deps(ctx)
    try:
        day = parse_date(as_of, field="as_of") if as_of else None
        with opm_uow_factory(deps)() as uow:
            rows = service.list_flags(uow, CLI_ACTOR, now=deps.clock(), as_of=day, limit=limit)
    except BhumError as exc:
        raise _fail(exc) from exc
    table = Table("rank", "member", "rule", "evidence", "score", "claims")
    for f in rows:
        table.add_row(
            str(f.member_rank), f.member_id, f.rule_id, f.evidence, f"{f.score:.2f}", str(len(f.claim_ids))
        )
    Console().print(table)


@app.command("cases")
def cases(
    ctx: typer.Context,
    state: Annotated[OpmCaseState | None, typer.Option("--state")] = None,
    limit: Annotated[int, typer.Option(min=1, max=10_000)] = 100,
) -> None:
    """OPM cases as JSON lines."""
    deps = _deps(ctx)
    try:
        with opm_uow_factory(deps)() as uow:
            rows = service.list_cases(uow, CLI_ACTOR, now=deps.clock(), state=state, limit=limit)
    except BhumError as exc:
        raise _fail(exc) from exc
    for c in rows:
        typer.echo(json.dumps(_case_json(c)))
