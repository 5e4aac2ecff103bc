"""`bhum db` commands: upgrade, current, load DIR.

Like the other command groups, these read their dependencies from the typer context object
(``ctx.obj``), which the root ``bhum`` callback fills from the composition root: anything with a
``database`` attribute satisfying ``bhum.services.unit_of_work.Database`` will do
(``bhum.adapters.store.SqlStore`` is the real one).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Protocol

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table

from bhum.domain.errors import BhumError
from bhum.services.population import load_population
from bhum.services.unit_of_work import Database

app = typer.Typer(help="Database: migrations and loading a population.", no_args_is_help=True)


class DbCliDependencies(Protocol):
    @property
    def database(self) -> Database: ...


def _database(ctx: typer.Context) -> Database:
    deps = ctx.obj
    if deps is None or not hasattr(deps, "database"):
        typer.echo("bhum db: no database configured (the bhum command sets it up)", err=True)
        raise typer.Exit(2)
    database: Database = deps.database
    return database


@app.command("upgrade")
def upgrade(ctx: typer.Context) -> None:
    """Run the migrations up to the newest revision (safe to repeat)."""
    database = _database(ctx)
    database.upgrade()
    typer.echo(f"database at revision {database.current()} (head {database.head()})")


@app.command("current")
def current(ctx: typer.Context) -> None:
    """Show the revision the database is at; exit 1 when it is behind the newest one."""
    database = _database(ctx)
    at, newest = database.current(), database.head()
    typer.echo(f"current: {at or '(not migrated)'}  head: {newest}")
    if at != newest:
        raise typer.Exit(1)


@app.command("load")
def load(
    ctx: typer.Context,
    directory: Annotated[Path, typer.Argument(help="Population directory written by `bhum synth`.")],
) -> None:
    """Load plans, members, coverage, residence, organizations, providers, staff and testing notices
    in one transaction (re-loading the same files changes nothing)."""
    database = _database(ctx)
    console = Console(stderr=True)
    tasks: dict[str, TaskID] = {}
    with Progress(
        TextColumn("{task.description:<16}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    ) as bar:

        def progress(what: str, done: int, total: int) -> None:
            if what not in tasks:
                tasks[what] = bar.add_task(what, total=total)
            bar.update(tasks[what], completed=done)

        try:
            counts = load_population(directory, database.unit_of_work, progress=progress)
        except BhumError as exc:
            console.print(f"[red]error:[/red] {exc}")
            console.print("nothing was written")
            raise typer.Exit(1) from exc
    table = Table("loaded", "rows", title=f"population from {directory}")
    for what, rows in counts.items():
        table.add_row(what, str(rows))
    Console().print(table)
