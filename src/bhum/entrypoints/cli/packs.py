"""`bhum packs` commands: list, show, validate and test the policy packs."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from bhum.config import Settings
from bhum.policy import Pack, PackError, load_catalog, load_pack, load_packs, run_pack_tests, summary
from bhum.policy.loader import CATALOG_FILE, PackRegistry, find_catalog, pack_folders

app = typer.Typer(help="Policy packs: rules as versioned data.", no_args_is_help=True)


def _root(ctx: typer.Context) -> Path:
    """The packs folder of the composition root the `bhum` callback built (BHUM_PACKS_DIR)."""
    settings = getattr(ctx.obj, "settings", None)
    return (settings if isinstance(settings, Settings) else Settings.from_env()).packs_dir


def _registry(ctx: typer.Context) -> PackRegistry:
    try:
        return load_packs(_root(ctx))
    except PackError as exc:
        Console(stderr=True).print(f"[red]invalid pack[/red] {escape(str(exc))}", soft_wrap=True)
        raise typer.Exit(1) from exc


@app.command("list")
def list_packs(ctx: typer.Context) -> None:
    """Every pack version under the packs folder, with its rule and case counts."""
    registry = _registry(ctx)
    in_force = {(p.id, p.version) for p in registry.packs}
    table = Table(title=f"Policy packs ({_root(ctx)})")
    for column in ("program", "version", "pack", "rules", "cases", "effective from", "in force"):
        table.add_column(column)
    for pack in registry.all_versions():
        table.add_row(
            pack.program,
            pack.version,
            pack.id,
            str(len(pack.rules)),
            str(pack.case_count),
            pack.effective_from.isoformat(),
            "yes" if (pack.id, pack.version) in in_force else "",
        )
    Console(width=120).print(table)


@app.command("show")
def show(
    ctx: typer.Context,
    pack: str = typer.Argument(..., help="PACK or PACK@VERSION, e.g. tcm or tcm@2026.1"),
    rule: str | None = typer.Option(None, "--rule", help="show one rule in full"),
) -> None:
    """Rules of a pack: parameters, explanation and the rule IDs they implement."""
    name, _, version = pack.partition("@")
    registry = _registry(ctx)
    try:
        found = registry.pack(name, version or None)
    except KeyError as exc:
        Console(stderr=True).print(f"[red]{escape(str(exc.args[0]))}[/red]")
        raise typer.Exit(1) from exc
    console = Console(width=120)
    console.print(f"[bold]{found.id}@{found.version}[/bold] {found.title} (from {found.effective_from})")
    console.print(f"source: {found.source}")
    rules = found.rules
    if rule is not None:
        rules = tuple(r for r in found.rules if r.id == rule)
        if not rules:
            Console(stderr=True).print(f"[red]pack {found.id}@{found.version} has no rule {rule!r}[/red]")
            raise typer.Exit(1)
    for item in rules:
        console.print(f"\n[bold]{item.id}[/bold] — {item.title}")
        console.print(f"  implements: {', '.join(item.implements)}")
        console.print(f"  explanation: {item.explanation}", soft_wrap=True)
        table = Table(show_header=True, box=None, padding=(0, 2))
        for column in ("parameter", "type", "value", "description"):
            table.add_column(column)
        for param in item.parameters.values():
            table.add_row(param.name, param.type.value, param.display(), param.description)
        console.print(table)
        if item.codes_when_not_met:
            console.print(f"  codes when not met: {', '.join(c.code for c in item.codes_when_not_met)}")
        console.print(f"  cases: {len(item.cases)}")


@app.command("validate")
def validate(
    ctx: typer.Context,
    paths: list[Path] | None = typer.Argument(None, help="pack folders (default: every pack)"),
) -> None:
    """Validate packs against the schema and the semantic checks; exit 1 naming file, rule and field."""
    console = Console(width=120)
    folders = paths or pack_folders(_root(ctx))
    failed = 0
    for folder in folders:
        try:
            catalog_file = find_catalog(folder.resolve()) or _root(ctx) / CATALOG_FILE
            pack = load_pack(folder, catalog=load_catalog(catalog_file))
        except PackError as exc:
            failed += 1
            console.print(f"[red]invalid[/red] {escape(str(exc))}", soft_wrap=True)
            continue
        console.print(f"[green]valid[/green] {pack.id}@{pack.version}: {len(pack.rules)} rules")
    if failed:
        raise typer.Exit(1)


@app.command("test")
def test(
    ctx: typer.Context,
    pack: str | None = typer.Argument(None, help="PACK or PACK@VERSION (default: every pack in force)"),
) -> None:
    """Run every case of every rule; prints 'N passed, N failed' and exits 1 on a failure."""
    registry = _registry(ctx)
    packs: list[Pack]
    if pack is None:
        packs = registry.packs
    else:
        name, _, version = pack.partition("@")
        try:
            packs = [registry.pack(name, version or None)]
        except KeyError as exc:
            Console(stderr=True).print(f"[red]{escape(str(exc.args[0]))}[/red]")
            raise typer.Exit(1) from exc
    console = Console(width=120)
    results = [r for p in packs for r in run_pack_tests(p)]
    for result in results:
        if not result.passed:
            console.print(
                f"[red]FAIL[/red] {result.pack_id}@{result.pack_version} {result.rule_id} "
                + escape(f"[{result.case}]: {result.message}"),
                soft_wrap=True,
            )
    passed, failed = summary(results)
    console.print(f"{passed} passed, {failed} failed")
    if failed:
        raise typer.Exit(1)
