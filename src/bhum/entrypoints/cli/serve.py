"""`bhum serve`: the API and workbench over the configured store."""

from __future__ import annotations

from typing import Annotated

import typer

from bhum.bootstrap import Application


def serve(
    ctx: typer.Context,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
) -> None:
    """Serve the API (and the workbench pages) with uvicorn."""
    import uvicorn

    from bhum.entrypoints.api.main import build_app

    app: Application = ctx.obj
    app.database.upgrade()
    typer.echo(f"bhum: http://{host}:{port}/  (API docs at /docs; Ctrl-C stops it)")
    uvicorn.run(build_app(app), host=host, port=port, log_level="warning")
