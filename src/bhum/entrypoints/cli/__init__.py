"""The ``bhum`` command line. Each command group lives in its own module and only turns arguments
into calls on the service layer."""

from __future__ import annotations

import typer

from bhum.entrypoints.cli import db, packs, synth

app = typer.Typer(
    name="bhum",
    help="Behavioral-health utilization and care management.",
    no_args_is_help=True,
    add_completion=False,
)
app.add_typer(packs.app, name="packs")
app.add_typer(db.app, name="db")
app.command("synth")(synth.synth)


def main() -> None:
    app()
