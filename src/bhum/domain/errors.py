"""Errors that name what was wrong, where: the file or record, and the field."""

from __future__ import annotations


class BhumError(Exception):
    """Base of every error bhum raises on purpose."""


class InputError(BhumError):
    """Bad input: a malformed file, an unknown code, an impossible date, a missing field.

    ``source`` is the file (or request) the input came from, ``record`` the row, line, segment or
    record identifier inside it, ``field`` the field that was wrong.
    """

    def __init__(
        self,
        message: str,
        *,
        field: str | None = None,
        record: str | int | None = None,
        source: str | None = None,
    ) -> None:
        self.message = message
        self.field = field
        self.record = record
        self.source = source
        super().__init__(str(self))

    def __str__(self) -> str:
        where = []
        if self.source is not None:
            where.append(str(self.source))
        if self.record is not None:
            where.append(f"record {self.record}")
        if self.field is not None:
            where.append(f"field {self.field!r}")
        prefix = ", ".join(where)
        return f"{prefix}: {self.message}" if prefix else self.message


class NotFound(BhumError):
    """A referenced entity (member, provider, authorization …) does not exist."""


class InvalidTransition(BhumError):
    """A lifecycle change that the rules do not allow (e.g. approving a withdrawn request)."""


class PermissionDenied(BhumError):
    """The user's role or scope does not allow the action."""
