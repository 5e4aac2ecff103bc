"""bhum — behavioral-health utilization and care management engine."""

__version__ = "0.1.0"
