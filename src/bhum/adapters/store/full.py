"""The unit of work the composition root hands out: every part's repositories over one session.

Each part of bhum adds its records as a small unit-of-work subclass next to its tables (care
management, outpatient management, paid units, the authorization engine); services type their
argument with the narrow protocol they need. This class joins them so one transaction spans all."""

from __future__ import annotations

from bhum.adapters.store.auth_records import AuthSqlUnitOfWork
from bhum.adapters.store.paid_units import ClaimsSqlUnitOfWork


class BhumSqlUnitOfWork(AuthSqlUnitOfWork, ClaimsSqlUnitOfWork):
    """All repositories: access, population, utilization management, care management, outpatient
    management, paid units and the authorization engine's records."""
