"""`bhum synth`: write a deterministic synthetic population."""

from __future__ import annotations

import time
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from bhum.adapters.synth import generate_population
from bhum.domain.errors import InputError


def synth(
    members: int = typer.Option(1000, "--members", help="Number of members."),
    seed: int = typer.Option(1, "--seed", help="Random seed; the same seed gives the same files."),
    out: Path = typer.Option(Path("data/synth"), "--out", help="Output directory."),
    csv: bool = typer.Option(False, "--csv", help="Write CSV instead of Parquet."),
    year: int = typer.Option(2026, "--year", help="Calendar year of the claims."),
    block_members: int = typer.Option(10_000, "--block-members", help="Members generated per block."),
) -> None:
    """Generate a synthetic population (eligibility, providers, staff, medical and pharmacy claims)."""
    console = Console()
    started = time.perf_counter()
    try:
        with Progress(
            TextColumn("[bold]synth"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("members"),
            TimeElapsedColumn(),
            console=console,
            transient=True,
        ) as bar:
            task = bar.add_task("members", total=members)
            summary = generate_population(
                out,
                members=members,
                seed=seed,
                year=year,
                csv=csv,
                block_members=block_members,
                progress=lambda done: bar.update(task, completed=done),
            )
    except InputError as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(code=2) from exc
    seconds = time.perf_counter() - started
    table = Table(title=f"synthetic population in {out}")
    table.add_column("file")
    table.add_column("rows", justify="right")
    for name, rows in summary.rows.items():
        table.add_row(summary.files[name].name, f"{rows:,}")
    console.print(table)
    console.print(
        f"members {summary.members:,} · claim lines {summary.claim_lines:,} · fills {summary.fills:,} · "
        f"{seconds:.1f} s"
    )
