"""API routers. Each route declares its access with ``Depends(requires(...))`` or ``Depends(public)``."""
