"""`bhum clocks tick [--now T]`: escalate requests near or past their decision due time.

Idempotent: each request escalates once per level (due soon, overdue), so running the tick twice
at the same time creates nothing new.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Annotated

import typer

from bhum.domain.errors import BhumError, InputError
from bhum.entrypoints.cli.auth import deps_of, fail, uow_of
from bhum.services.authorization import tick_clocks

app = typer.Typer(help="Decision clocks (REG-01, REG-03, IOP-12).", no_args_is_help=True)


@app.callback()
def _clocks() -> None:
    """Decision clocks (REG-01, REG-03, IOP-12): keeps `tick` a subcommand."""


@app.command("tick")
def tick(
    ctx: typer.Context,
    now: Annotated[
        str | None, typer.Option(help="ISO timestamp with a time zone (default: the clock)")
    ] = None,
    warn_hours: Annotated[int, typer.Option(min=0, help="Escalate this many hours before due")] = 24,
) -> None:
    deps = deps_of(ctx)
    try:
        moment = deps.clock() if now is None else _moment(now)
        escalations = tick_clocks(uow_of(deps), now=moment, warn_within=timedelta(hours=warn_hours))
    except BhumError as exc:
        raise fail(exc) from exc
    typer.echo(
        json.dumps(
            {
                "now": moment.isoformat(),
                "escalated": [
                    {
                        "request_id": e.request_id,
                        "status": e.status,
                        "due_at": e.due_at.isoformat(),
                        "rule_id": e.rule_id,
                        "task_id": e.task_id,
                    }
                    for e in escalations
                ],
            },
            indent=2,
        )
    )


def _moment(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError as exc:
        raise InputError("expected an ISO timestamp, e.g. 2026-03-09T09:00:00-06:00", field="now") from exc
    if moment.tzinfo is None:
        raise InputError("the timestamp needs a time zone", field="now")
    return moment
