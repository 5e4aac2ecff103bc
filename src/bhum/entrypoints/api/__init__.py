"""The HTTP API (FastAPI). ``create_app(ApiDependencies(...))`` builds it; ``bhum.bootstrap`` passes
the real dependencies."""
