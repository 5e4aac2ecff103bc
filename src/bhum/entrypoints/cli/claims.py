"""`bhum claims check`: decide a batch of claim lines from files, without a server.

Reference data (members, coverage, residence, providers, staff, authorizations): the population
directory given with ``--population DIR`` when given, else the store when it holds members; with neither
the command stops and says so (docs/claim-checks.md).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from bhum.adapters.claims_engine import CHECK_COLUMNS, DuckDbClaimsEngine, population_reference, read_claims
from bhum.adapters.claims_engine.remittance import write_decisions
from bhum.bootstrap import Application
from bhum.domain.errors import BhumError
from bhum.services.claims import (
    CheckResult,
    check_batch,
    check_batch_against_store,
    check_parameters,
    store_has_population,
)

app = typer.Typer(help="Claim checks against authorizations and program limits.", no_args_is_help=True)


def _application(ctx: typer.Context) -> Application:
    deps = ctx.obj
    if not isinstance(deps, Application):
        typer.echo("bhum claims: the bhum command sets up the application", err=True)
        raise typer.Exit(2)
    return deps


def _store_has_population(deps: Application) -> bool:
    """True when the store is reachable and holds members to check against."""
    try:
        with deps.uow_factory() as uow:
            return store_has_population(uow)
    except Exception:  # an unmigrated or absent database is "no store" for a file-only check
        return False


@app.command("check")
def check(
    ctx: typer.Context,
    inputs: Annotated[
        list[Path], typer.Argument(help="Claim files: CSV, Parquet, JSON lines or X12 837P/837I.")
    ],
    out: Annotated[Path, typer.Option("--out", help="Directory for decisions and remittance.")] = Path(
        "data/claims-out"
    ),
    population: Annotated[
        Path | None, typer.Option("--population", help="Population directory to check against.")
    ] = None,
    formats: Annotated[str, typer.Option("--formats", help="Comma-separated: jsonl,csv,835,parquet.")] = (
        "jsonl,csv,835"
    ),
    threads: Annotated[int | None, typer.Option("--threads", help="DuckDB threads (default: all).")] = None,
) -> None:
    """Decide every line: paid and denied units, CARC/RARC, rule ID and the reason in words."""
    deps = _application(ctx)
    console = Console(stderr=True)
    try:
        parameters = check_parameters(deps.packs)
        batch = read_claims(inputs, columns=CHECK_COLUMNS)
        engine = DuckDbClaimsEngine(threads=threads)
        if population is not None:
            # Files only: the population directory is the reference, no member data is read from the store.
            result = check_batch(batch, population_reference(population), parameters, engine)
        else:
            if not _store_has_population(deps):
                console.print(
                    "[red]error:[/red] no reference data: the store holds no members. Give --population DIR "
                    "(a `bhum synth` directory) or load the store with `bhum db load DIR`."
                )
                raise typer.Exit(2)
            # The store's members, coverage and authorizations are read through the audited service.
            result = check_batch_against_store(
                deps.uow_factory,
                batch,
                parameters,
                engine,
                actor="system:cli",
                now=deps.clock(),
                reason="bhum claims check",
            )
        now = deps.clock()
        written = write_decisions(
            result.decisions,
            result.rejected,
            out,
            created=now,
            formats=tuple(f.strip() for f in formats.split(",") if f.strip()),
        )
    except BhumError as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(1) from exc
    _report(result, written)


def _report(result: CheckResult, written: dict[str, Path]) -> None:
    s = result.summary
    table = Table("lines", "paid", "partial", "denied", "rejected", "billed units", "paid units", "paid $")
    table.add_row(
        str(s.lines),
        str(s.paid),
        str(s.partial),
        str(s.denied),
        str(s.rejected),
        f"{s.billed_units:g}",
        f"{s.paid_units:g}",
        f"{s.paid_amount:,.2f}",
    )
    console = Console()
    console.print(table)
    console.print(f"checked against: {s.reference}")
    for line in result.rejected[:20]:
        where: list[Any] = [line.source]
        if line.line is not None:
            where.append(f"line {line.line}")
        if line.field:
            where.append(f"field {line.field}")
        # Plain echo, not rich: a long file path must not be wrapped mid-name.
        typer.echo(f"rejected: {', '.join(str(w) for w in where)}: {line.message}")
    if len(result.rejected) > 20:
        console.print(f"... and {len(result.rejected) - 20} more rejected lines (see rejected.csv)")
    for kind, path in written.items():
        typer.echo(f"{kind}: {path}")
