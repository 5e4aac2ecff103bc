"""`bhum packs` commands."""

from __future__ import annotations

import typer

app = typer.Typer(help="packs commands", no_args_is_help=True)
