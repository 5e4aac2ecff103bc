"""`bhum demo`: the end-to-end demo on the embedded default store (SQLite + DuckDB).

Generate a synthetic population, validate and load it, validate and test the policy packs, create
one sign-in per role, and print a summary. Later steps (the outpatient program, the authorization flow,
claim checks and case management) run here as they land."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table

from bhum.adapters.synth import generate_population, require_valid_population
from bhum.bootstrap import Application
from bhum.domain.errors import BhumError
from bhum.policy import run_pack_tests, summary
from bhum.services.demo import seed_demo_users
from bhum.services.population import load_population


def demo(
    ctx: typer.Context,
    members: Annotated[int, typer.Option(help="Members in the synthetic population.")] = 5000,
    seed: Annotated[int, typer.Option(help="Seed: the same seed gives the same population.")] = 7,
    year: Annotated[int, typer.Option(help="Calendar year of the claims.")] = 2026,
    out: Annotated[Path | None, typer.Option(help="Population directory (default DATA_DIR/demo).")] = None,
) -> None:
    """Run the demo end to end and print a summary."""
    app: Application = ctx.obj
    console = Console()
    population_dir = out or app.settings.data_dir / "demo" / f"population-{members}-{seed}"
    started = time.perf_counter()
    figures: list[tuple[str, str]] = []

    try:
        with Progress(
            TextColumn("{task.description:<28}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
        ) as bar:
            task = bar.add_task("generating population", total=members)
            if not (population_dir / "manifest.json").is_file():
                generated = generate_population(
                    population_dir,
                    members=members,
                    seed=seed,
                    year=year,
                    progress=lambda done: bar.update(task, completed=done),
                )
                figures += [
                    ("claim lines", f"{generated.claim_lines:,}"),
                    ("pharmacy fills", f"{generated.fills:,}"),
                ]
            bar.update(task, completed=members)

            check = bar.add_task("validating input files", total=1)
            require_valid_population(population_dir)
            bar.update(check, completed=1)

            app.database.upgrade()
            loads: dict[str, object] = {}
            load_tasks: dict[str, TaskID] = {}

            def progress(what: str, done: int, total: int) -> None:
                if what not in load_tasks:
                    load_tasks[what] = bar.add_task(f"loading {what}", total=total)
                bar.update(load_tasks[what], completed=done)

            loads.update(load_population(population_dir, app.uow_factory, progress=progress))

            packs = app.packs.packs
            pack_task = bar.add_task("testing policy packs", total=len(packs))
            passed = failed = 0
            for pack in packs:
                ok, bad = summary(run_pack_tests(pack))
                passed, failed = passed + ok, failed + bad
                bar.advance(pack_task)
    except BhumError as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(1) from exc

    logins = seed_demo_users(app.uow_factory, hasher=app.password_hasher, now=app.clock())

    table = Table("", "", title="bhum demo", show_header=False)
    table.add_row("population", str(population_dir))
    for what, rows in loads.items():
        table.add_row(f"loaded {what}", f"{rows:,}" if isinstance(rows, int) else str(rows))
    for what, value in figures:
        table.add_row(what, value)
    table.add_row("policy packs", ", ".join(f"{p.id}@{p.version}" for p in packs))
    table.add_row("pack test cases", f"{passed} passed, {failed} failed")
    table.add_row("store", app.settings.database_url)
    table.add_row("seconds", f"{time.perf_counter() - started:.1f}")
    console.print(table)

    users = Table("username", "password", "roles", title="demo sign-ins (synthetic store only)")
    for login in logins:
        users.add_row(login.username, login.password, ", ".join(r.value for r in login.roles))
    console.print(users)
    if failed:
        raise typer.Exit(1)
