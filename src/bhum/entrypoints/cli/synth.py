"""`bhum synth`: write a deterministic synthetic population."""

from __future__ import annotations

from pathlib import Path

import typer


def synth(
    members: int = typer.Option(1000, "--members", help="Number of members."),
    seed: int = typer.Option(1, "--seed", help="Random seed; the same seed gives the same files."),
    out: Path = typer.Option(Path("data/synth"), "--out", help="Output directory."),
) -> None:
    """Generate a synthetic population (eligibility, providers, staff, medical and pharmacy claims)."""
    raise typer.Exit(code=2)
