"""`bhum users` commands: add, list, token, passwd.

Run on the host by an operator, so the audit actor is ``system:cli``. The commands read their
dependencies from the typer context object (``ctx.obj``), which the root ``bhum`` callback fills from
the composition root; anything with ``uow_factory``, ``clock`` and ``password_hasher`` will do
(``bhum.entrypoints.api.dependencies.ApiDependencies`` does).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Annotated, Protocol

import typer

from bhum.domain.access import Role
from bhum.domain.errors import BhumError, InputError
from bhum.services.access import PasswordHasher, create_user, issue_token, list_users, set_password
from bhum.services.unit_of_work import UnitOfWork

CLI_ACTOR = "system:cli"

app = typer.Typer(help="Manage users and API tokens.", no_args_is_help=True)


class UsersCliDependencies(Protocol):
    @property
    def uow_factory(self) -> Callable[[], UnitOfWork]: ...
    @property
    def clock(self) -> Callable[[], datetime]: ...
    @property
    def password_hasher(self) -> PasswordHasher: ...


def _deps(ctx: typer.Context) -> UsersCliDependencies:
    deps = ctx.obj
    if deps is None or not all(hasattr(deps, a) for a in ("uow_factory", "clock", "password_hasher")):
        typer.echo("bhum users: no store configured (the bhum command sets it up)", err=True)
        raise typer.Exit(2)
    return deps  # type: ignore[no-any-return]


def _fail(exc: BhumError) -> typer.Exit:
    typer.echo(f"error: {exc}", err=True)
    return typer.Exit(1)


def _read_password(from_stdin: bool, prompt: str) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    value: str = typer.prompt(prompt, hide_input=True, confirmation_prompt=True)
    return value


@app.command("add")
def add(
    ctx: typer.Context,
    username: Annotated[str, typer.Argument(help="Sign-in name: lower-case letters, digits, . _ -")],
    role: Annotated[list[Role], typer.Option("--role", "-r", help="A role; repeat for several.")],
    display_name: Annotated[str | None, typer.Option(help="Name shown in the UI (default: username)")] = None,
    organization: Annotated[
        str | None, typer.Option("--organization", help="Organization id (required for provider users)")
    ] = None,
    staff: Annotated[str | None, typer.Option("--staff", help="Staff id (reviewer, case manager)")] = None,
    password_stdin: Annotated[bool, typer.Option(help="Read the password from standard input")] = False,
    no_password: Annotated[bool, typer.Option(help="Create without a password (token-only)")] = False,
) -> None:
    """Add a user."""
    deps = _deps(ctx)
    password = None if no_password else _read_password(password_stdin, "Password")
    try:
        user = create_user(
            deps.uow_factory(),
            actor=CLI_ACTOR,
            username=username,
            display_name=display_name or username,
            roles=role,
            password=password,
            hasher=deps.password_hasher,
            now=deps.clock(),
            organization_id=organization,
            staff_id=staff,
        )
    except BhumError as exc:
        raise _fail(exc) from exc
    typer.echo(f"added {user.username} ({user.id}) roles={','.join(sorted(r.value for r in user.roles))}")


@app.command("list")
def list_(ctx: typer.Context) -> None:
    """List users."""
    deps = _deps(ctx)
    users = list_users(deps.uow_factory(), actor=CLI_ACTOR, now=deps.clock())
    for user in users:
        roles = ",".join(sorted(r.value for r in user.roles))
        status = "active" if user.active else "inactive"
        org = f" org={user.organization_id}" if user.organization_id else ""
        typer.echo(f"{user.username}\t{user.id}\t{roles}\t{status}{org}")


@app.command("token")
def token(
    ctx: typer.Context,
    username: str,
    label: Annotated[str, typer.Option(help="What the token is for")] = "cli",
    days: Annotated[int, typer.Option(help="Days until it expires; 0 for never")] = 30,
) -> None:
    """Issue an API token. It is printed once and never stored."""
    deps = _deps(ctx)
    try:
        if days < 0:
            raise InputError("days must be 0 (never expires) or more", field="days")
        issued = issue_token(
            deps.uow_factory(),
            actor=CLI_ACTOR,
            username=username,
            label=label,
            now=deps.clock(),
            ttl=timedelta(days=days) if days else None,
        )
    except BhumError as exc:
        raise _fail(exc) from exc
    expires = issued.record.expires_at.isoformat() if issued.record.expires_at else "never"
    typer.echo(f"token id {issued.record.id}, expires {expires}", err=True)
    typer.echo(issued.token)


@app.command("passwd")
def passwd(
    ctx: typer.Context,
    username: str,
    password_stdin: Annotated[bool, typer.Option(help="Read the password from standard input")] = False,
) -> None:
    """Set a user's password."""
    deps = _deps(ctx)
    password = _read_password(password_stdin, "New password")
    try:
        set_password(
            deps.uow_factory(),
            actor=CLI_ACTOR,
            username=username,
            password=password,
            hasher=deps.password_hasher,
            now=deps.clock(),
        )
    except BhumError as exc:
        raise _fail(exc) from exc
    typer.echo(f"password set for {username}")
