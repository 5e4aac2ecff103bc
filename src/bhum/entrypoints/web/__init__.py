"""The workbench: server-rendered pages (Jinja2, a little htmx) on the API app, behind session-cookie
sign-in with CSRF protection, sharing the API's roles, scopes and audit trail.
``create_web_app(deps)`` builds the API and the pages; ``install_web(app)`` adds the pages to an API app."""

from bhum.entrypoints.web.app import create_web_app, install_web
from bhum.entrypoints.web.sessions import WebOptions

__all__ = ["WebOptions", "create_web_app", "install_web"]
