"""The ``bhum`` command line. Each command group lives in its own module and only turns arguments
into calls on the service layer; the root callback hands every command the composition root."""

from __future__ import annotations

import typer

from bhum.bootstrap import bootstrap
from bhum.entrypoints.cli import (
    audit_docs,
    auth,
    claims,
    clocks,
    cm,
    db,
    demo,
    opm,
    packs,
    serve,
    synth,
    um,
    users,
)

app = typer.Typer(
    name="bhum",
    help="Behavioral-health utilization and care management.",
    no_args_is_help=True,
    add_completion=False,
)


@app.callback()
def _root(ctx: typer.Context) -> None:
    """Behavioral-health utilization and care management."""
    if ctx.obj is None:
        ctx.obj = bootstrap()


app.add_typer(packs.app, name="packs")
app.add_typer(db.app, name="db")
app.add_typer(users.app, name="users")
app.add_typer(claims.app, name="claims")
app.add_typer(um.app, name="um")
app.add_typer(cm.app, name="cm")
app.add_typer(opm.app, name="opm")
app.add_typer(auth.app, name="auth")
app.add_typer(clocks.app, name="clocks")
app.command("synth")(synth.synth)
app.command("demo")(demo.demo)
app.command("serve")(serve.serve)
app.command("docs-audit")(audit_docs.audit_docs)


def main() -> None:
    app()
