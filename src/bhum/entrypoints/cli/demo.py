"""`bhum demo`: the end-to-end demo on the embedded default store (SQLite + DuckDB).

One command runs the main job on a synthetic population and leaves the workbench with data in it:
generate and load the population, test the policy packs, create one sign-in per role, run the
authorization flow on sample requests (auto-approvals, pended requests, a physician's denial, an
administrative outcome, letters), run the focused outpatient management program (flags, cases,
provider and member letters), check the year's claims (decisions and an X12 835), put members on a
case manager's caseload with a missed-appointment outreach task, then serve the workbench.
Every step is idempotent: running the demo again adds nothing twice."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table

from bhum.adapters.claims_engine import CHECK_COLUMNS, DuckDbClaimsEngine, read_claims
from bhum.adapters.claims_engine.remittance import write_decisions
from bhum.adapters.letters import write as write_letter
from bhum.adapters.synth import generate_population, require_valid_population
from bhum.bootstrap import Application
from bhum.domain.access import User
from bhum.domain.authorization import DecisionOutcome, DecisionReason
from bhum.domain.calendar import local_date
from bhum.domain.case_management import CaseloadType
from bhum.domain.errors import BhumError, InvalidTransition
from bhum.entrypoints.cli.opm import run_program
from bhum.policy import run_pack_tests, summary
from bhum.services.auth_requests import parse_submission
from bhum.services.authorization import Engine, decide_request, render_letters, submit_request
from bhum.services.case_management import assign_member, record_missed_appointment
from bhum.services.claims import check_batch_against_store, check_parameters
from bhum.services.demo import DemoLogin, demo_requests, seed_demo_users
from bhum.services.population import load_population

DEMO_ACTOR = "system:demo"
OPM_CAPACITY = 40  # new outpatient-management cases per month in the demo (keeps letter rendering short)
CASELOAD_MEMBERS = 12


@dataclass
class Figures:
    rows: list[tuple[str, str]] = field(default_factory=list)

    def add(self, what: str, value: object) -> None:
        self.rows.append((what, f"{value:,}" if isinstance(value, int) else str(value)))


def demo(
    ctx: typer.Context,
    members: Annotated[int, typer.Option(help="Members in the synthetic population.")] = 5000,
    seed: Annotated[int, typer.Option(help="Seed: the same seed gives the same population.")] = 7,
    year: Annotated[int, typer.Option(help="Calendar year of the claims.")] = 2026,
    out: Annotated[Path | None, typer.Option(help="Population directory (default DATA_DIR/demo).")] = None,
    serve: Annotated[bool, typer.Option(help="Serve the workbench after the batch.")] = True,
    host: Annotated[str, typer.Option(help="Address to serve on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to serve on.")] = 8000,
) -> None:
    """Run the demo end to end, print a summary and the demo sign-ins, then serve the workbench."""
    app: Application = ctx.obj
    console = Console()
    population_dir = out or app.settings.data_dir / "demo" / f"population-{members}-{seed}"
    started = time.perf_counter()
    figures = Figures()
    figures.add("population", str(population_dir))
    now = app.clock()

    try:
        with Progress(
            TextColumn("{task.description:<30}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
        ) as bar:
            _population(app, bar, population_dir, members=members, seed=seed, year=year, figures=figures)
            _packs(app, bar, figures)
            logins = seed_demo_users(app.uow_factory, hasher=app.password_hasher, now=now)
            users = {login.username: login for login in logins}
            _authorizations(app, bar, users, now, figures)
            _outpatient_management(app, bar, population_dir, now, figures)
            _claims(app, bar, population_dir, now, figures)
            _case_management(app, bar, users, now, figures)
    except BhumError as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(1) from exc

    figures.add("store", app.settings.database_url)
    figures.add("letters", str(app.letters_dir))
    figures.add("seconds", f"{time.perf_counter() - started:.1f}")
    table = Table("", "", title="bhum demo", show_header=False)
    for what, value in figures.rows:
        table.add_row(what, value)
    console.print(table)
    _print_logins(console, logins)

    if serve:
        _serve(app, console, host, port)


def _population(
    app: Application,
    bar: Progress,
    population_dir: Path,
    *,
    members: int,
    seed: int,
    year: int,
    figures: Figures,
) -> None:
    task = bar.add_task("generating population", total=members)
    if not (population_dir / "manifest.json").is_file():
        generated = generate_population(
            population_dir,
            members=members,
            seed=seed,
            year=year,
            progress=lambda done: bar.update(task, completed=done),
        )
        figures.add("claim lines", generated.claim_lines)
        figures.add("pharmacy fills", generated.fills)
    bar.update(task, completed=members)

    check = bar.add_task("validating input files", total=1)
    require_valid_population(population_dir)
    bar.update(check, completed=1)

    app.database.upgrade()
    load_tasks: dict[str, TaskID] = {}

    def progress(what: str, done: int, total: int) -> None:
        if what not in load_tasks:
            load_tasks[what] = bar.add_task(f"loading {what}", total=total)
        bar.update(load_tasks[what], completed=done)

    for what, rows in load_population(population_dir, app.uow_factory, progress=progress).items():
        figures.add(f"loaded {what}", rows)


def _packs(app: Application, bar: Progress, figures: Figures) -> None:
    packs = app.packs.packs
    task = bar.add_task("testing policy packs", total=len(packs))
    passed = failed = 0
    for pack in packs:
        ok, bad = summary(run_pack_tests(pack))
        passed, failed = passed + ok, failed + bad
        bar.advance(task)
    figures.add("policy packs", ", ".join(f"{p.id}@{p.version}" for p in packs))
    figures.add("pack test cases", f"{passed} passed, {failed} failed")
    if failed:
        raise BhumError(f"{failed} policy-pack test cases failed; run `bhum packs test`")


def _user(app: Application, logins: dict[str, DemoLogin], username: str) -> User | None:
    if username not in logins:
        return None
    with app.uow_factory() as uow:
        return uow.users.get_by_username(username)


def _authorizations(
    app: Application, bar: Progress, logins: dict[str, DemoLogin], now: datetime, figures: Figures
) -> None:
    engine = Engine(app.packs, app.settings.plan_time_zone, app.holidays)
    docs = demo_requests(app.uow_factory, received_at=now - timedelta(hours=30), count=12)
    task = bar.add_task("authorization requests", total=len(docs))
    outcomes: dict[str, int] = {}
    pended: list[str] = []
    for doc in docs:
        request_id = str(doc["request_id"])
        with app.uow_factory() as uow:
            known = uow.service_requests.get(request_id) is not None
        if not known:
            result = submit_request(
                app.uow_factory(), engine, parse_submission(doc, source="demo"), actor=DEMO_ACTOR, now=now
            )
            status = str(result.to_doc()["status"])
            outcomes[status] = outcomes.get(status, 0) + 1
            if status == "pended":
                pended.append(request_id)
        bar.advance(task)
    # A physician reviewer denies one pended request with the criterion by name (REG-01/03/04); the
    # others stay in the reviewers' queue for the workbench.
    physician = _user(app, logins, "demo.physician")
    if pended and physician is not None:
        try:
            decide_request(
                app.uow_factory(),
                pended[0],
                outcome=DecisionOutcome.DENIED,
                reviewer=physician,
                now=now,
                reasons=[
                    DecisionReason(
                        "IOP-05",
                        "The plan is 6 hours a week; adult intensive outpatient care needs 9 to 19"
                        " hours a week.",
                    )
                ],
            )
            outcomes["denied by a physician reviewer"] = 1
        except InvalidTransition:
            pass  # decided on an earlier run
    letters = render_letters(
        app.uow_factory(),
        write=write_letter,
        directory=app.letters_dir,
        now=now,
        tz=app.settings.plan_time_zone,
    )
    for status, count in sorted(outcomes.items()):
        figures.add(f"requests {status}", count)
    figures.add("authorization letters written", len(letters))


def _outpatient_management(
    app: Application, bar: Progress, population_dir: Path, now: datetime, figures: Figures
) -> None:
    task = bar.add_task("outpatient management program", total=1)
    as_of = local_date(now, app.settings.plan_time_zone)
    result = run_program(
        app,
        population_dir,
        as_of,
        report=app.settings.data_dir / "opm" / f"flags-{as_of.isoformat()}.parquet",
        capacity=OPM_CAPACITY,
        now=now,
    )
    bar.update(task, completed=1)
    figures.add("OPM flags", result.flags)
    figures.add("OPM members flagged", result.members_flagged)
    if result.outreach is not None:
        figures.add("OPM cases opened (provider + member letters)", len(result.outreach.opened))


def _claims(app: Application, bar: Progress, population_dir: Path, now: datetime, figures: Figures) -> None:
    task = bar.add_task("claim checks", total=1)
    batch = read_claims([population_dir / "medical_claim.parquet"], columns=CHECK_COLUMNS)
    result = check_batch_against_store(
        app.uow_factory,
        batch,
        check_parameters(app.packs),
        DuckDbClaimsEngine(threads=2),
        actor=DEMO_ACTOR,
        now=now,
        reason="demo claim check",
    )
    written = write_decisions(
        result.decisions, result.rejected, app.settings.data_dir / "demo" / "claims", created=now
    )
    bar.update(task, completed=1)
    s = result.summary
    figures.add("claim lines checked", s.lines)
    figures.add("claim lines paid / partial / denied", f"{s.paid:,} / {s.partial:,} / {s.denied:,}")
    figures.add("remittance (835)", str(written.get("835", "")))


def _case_management(
    app: Application, bar: Progress, logins: dict[str, DemoLogin], now: datetime, figures: Figures
) -> None:
    manager = _user(app, logins, "demo.casemanager")
    login = logins.get("demo.casemanager")
    if manager is None or login is None or login.staff_id is None:
        return
    with app.uow_factory() as uow:
        on_caseload = {c.member_id for c in uow.cases.for_staff(login.staff_id)}
        candidates = [m.member_id for m in uow.members.list(limit=CASELOAD_MEMBERS * 4)]
    wanted = [m for m in candidates if m not in on_caseload][: max(0, CASELOAD_MEMBERS - len(on_caseload))]
    task = bar.add_task("case management", total=len(wanted) + 1)
    for member_id in wanted:
        assign_member(
            app.uow_factory(),  # type: ignore[arg-type]
            manager,
            member_id=member_id,
            staff_id=login.staff_id,
            caseload_type=CaseloadType.STANDARD,
            now=now,
        )
        bar.advance(task)
    if wanted:
        tz = app.settings.plan_time_zone
        missed = now - timedelta(days=1)
        uow = app.uow_factory()
        record_missed_appointment(
            uow,
            manager,
            member_id=wanted[0],
            missed_at=missed,
            tz=tz,
            holidays=app.holidays(missed.date(), missed.date() + timedelta(days=30)),
            scopes=app.scopes(uow),  # resolves inside the same unit of work
            now=now,
        )
    bar.advance(task)
    with app.uow_factory() as uow:
        figures.add("members on the demo caseload", len(uow.cases.for_staff(login.staff_id)))


def _print_logins(console: Console, logins: list[DemoLogin]) -> None:
    users = Table("username", "password", "roles", title="demo sign-ins (synthetic store only)")
    for login in logins:
        users.add_row(login.username, login.password, ", ".join(r.value for r in login.roles))
    console.print(users)


def _serve(app: Application, console: Console, host: str, port: int) -> None:
    import uvicorn

    from bhum.entrypoints.api.main import build_app

    console.print(f"workbench: http://{host}:{port}/  (Ctrl-C stops it)")
    uvicorn.run(build_app(app), host=host, port=port, log_level="warning")
