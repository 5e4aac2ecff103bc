"""`bhum um report --provider NPI`: the provider's units authorized/used/remaining and IOP-13 reminders."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from bhum.bootstrap import Application
from bhum.domain.errors import BhumError
from bhum.services.utilization import provider_utilization

app = typer.Typer(help="Internal utilization management for providers (MN-04).", no_args_is_help=True)


@app.command("report")
def report(
    ctx: typer.Context,
    provider: Annotated[str, typer.Option("--provider", help="The provider's NPI.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON lines instead of a table.")] = False,
) -> None:
    """Each authorization: units authorized, used, remaining, run-out date, continuing-service request."""
    deps = ctx.obj
    if not isinstance(deps, Application):
        typer.echo("bhum um: the bhum command sets up the application", err=True)
        raise typer.Exit(2)
    try:
        rows = provider_utilization(
            deps.uow_factory(),
            provider,
            registry=deps.packs,
            actor="system:cli-um-report",
            now=deps.clock(),
            reason="bhum um report",
        )
    except BhumError as exc:
        Console(stderr=True).print(f"[red]error:[/red] {exc}")
        raise typer.Exit(1) from exc
    if as_json:
        for row in rows:
            typer.echo(json.dumps(asdict(row), default=str))
        return
    table = Table(
        "authorization", "services", "span", "authorized", "used", "remaining", "runs out", "request by"
    )
    for r in rows:
        table.add_row(
            r.authorization_id,
            ",".join(r.service_codes),
            f"{r.start} – {r.end or 'open'}",
            str(r.units_authorized),
            str(r.units_used),
            str(r.units_remaining),
            str(r.runs_out_on or "—"),
            str(r.continuing_request_due or "—"),
        )
    console = Console()
    console.print(table)
    for r in rows:
        if r.continuing_request:
            console.print(r.continuing_request, markup=False)
