"""`bhum docs-audit`: the MN-05 documentation audit of billed T1017 sessions, from files.

Billed sessions come from claim files in the claims input schema (``--claims``, read like `bhum claims
check`) or from the decisions a claim check wrote (``--decisions``); notes and plans in the schema of
docs/documentation-audit-schema.md; without ``--plans`` the service plans stored in bhum are used.
Writes sessions.csv/jsonl, plans.csv/jsonl and summary.json.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from bhum.adapters.claims_engine import read_claims
from bhum.adapters.documentation_files import read_decisions, read_records, write_report
from bhum.bootstrap import Application
from bhum.domain.errors import BhumError
from bhum.services.documentation_audit import (
    AuditParameters,
    parse_notes,
    parse_plans,
    run_documentation_audit,
)


def audit_docs(
    ctx: typer.Context,
    notes: Annotated[Path, typer.Option("--notes", help="Progress notes: .json, .jsonl or .csv.")],
    plans: Annotated[
        Path | None,
        typer.Option("--plans", help="Service plans: .json, .jsonl or .csv (default: the stored plans)."),
    ] = None,
    claims: Annotated[
        list[Path] | None, typer.Option("--claims", help="Claim files (CSV, Parquet, JSON lines, X12 837).")
    ] = None,
    decisions: Annotated[
        Path | None, typer.Option("--decisions", help="Decisions of a claim check instead of claim files.")
    ] = None,
    out: Annotated[Path, typer.Option("--out", help="Directory for the report.")] = Path("data/docs-audit"),
) -> None:
    """MN-05: TCM-09 elements missing per session, TCM-10 plan signatures, paid amount at risk."""
    deps = ctx.obj
    if not isinstance(deps, Application):
        typer.echo("bhum docs-audit: the bhum command sets up the application", err=True)
        raise typer.Exit(2)
    console = Console(stderr=True)
    if (claims is None) == (decisions is None):
        console.print("[red]error:[/red] give either --claims FILE... or --decisions FILE")
        raise typer.Exit(2)
    try:
        if decisions is not None:
            billed, source = read_decisions(decisions), str(decisions)
        else:
            batch = read_claims(claims or [])
            for line in batch.rejected[:20]:
                console.print(
                    f"rejected: {line.source} line {line.line} field {line.field}: {line.message}",
                    markup=False,
                )
            billed, source = batch.lines, ",".join(str(c) for c in claims or [])
        audit = run_documentation_audit(
            deps.uow_factory,
            billed,
            parse_notes(read_records(notes), source=str(notes)),
            parse_plans(read_records(plans), source=str(plans)) if plans is not None else None,
            parameters=AuditParameters.from_packs(deps.packs),
            actor="system:cli-docs-audit",
            now=deps.clock(),
            reason="bhum docs-audit",
            source=source,
        )
        written = write_report(audit, out)
    except BhumError as exc:
        # Plain text, never wrapped: the error names a file path that must stay whole.
        console.print(f"error: {exc}", markup=False, highlight=False, soft_wrap=True, style="red")
        raise typer.Exit(1) from exc
    s = audit.summary
    table = Table(
        "sessions", "at risk", "no note", "no plan", "billed $", "at risk $", "plans lacking signatures"
    )
    table.add_row(
        str(s.sessions), str(s.sessions_at_risk), str(s.sessions_without_note), str(s.sessions_without_plan),
        f"{s.amount_billed:,.2f}", f"{s.amount_at_risk:,.2f}", f"{s.plans_missing_signatures} of {s.plans}",
    )  # fmt: skip
    out_console = Console()
    out_console.print(table)
    for kind, path in written.items():
        out_console.print(f"{kind}: {path}", markup=False)
