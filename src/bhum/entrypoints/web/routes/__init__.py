"""Web pages. Each declares its access with ``Depends(requires(...))`` or ``Depends(public)``; POST
pages also depend on ``csrf_protect``."""
