"""structlog set-up: JSON lines in production, console output in development, and a processor that
keeps member data out of every log line (structlog's and the standard library's alike).

Call ``configure_logging`` once at start-up (the composition root does). Application code logs with
``structlog.get_logger(__name__)`` and key/value pairs; keys on the deny-list are replaced by
"[redacted]", and dates and member-id-like tokens inside free text are masked, so a careless
``log.info(f"... {member.birth_date}")`` still does not leak.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Mapping, MutableMapping
from typing import Any, TextIO

import structlog
from structlog.typing import EventDict, Processor, WrappedLogger

REDACTED = "[redacted]"

# Keys whose values are member data. Compared lower-cased, after stripping "_" and "-", so
# "memberId", "member-id" and "MEMBER_ID" all match "member_id".
DENY_KEYS = frozenset(
    {
        "member_id",
        "member",
        "person_id",
        "patient_id",
        "subscriber_id",
        "medicaid_id",
        "mbi",
        "first_name",
        "last_name",
        "middle_name",
        "given_name",
        "family_name",
        "name",
        "full_name",
        "birth_date",
        "date_of_birth",
        "dob",
        "address",
        "street",
        "city",
        "zip",
        "postal_code",
        "phone",
        "email",
        "ssn",
        "diagnosis",
        "diagnoses",
        "icd10",
        "clinical_note",
        "notes",
        "password",
        "token",
        "authorization_header",
    }
)
_DENY_NORMALIZED = frozenset(k.replace("_", "") for k in DENY_KEYS)

# Keys the redactor never rewrites: they are added by the logging machinery itself.
_TRUSTED_KEYS = frozenset({"timestamp", "level", "logger", "log_level", "logger_name"})

# Free-text patterns: calendar dates (ISO, US slashes, compact 8 digits) and member-id-like tokens
# (letters and digits with at least 6 digits, e.g. M00012345, 123-45-6789, 5551234567).
_DATE = re.compile(
    r"\b(?:\d{4}-\d{1,2}-\d{1,2}|\d{1,2}/\d{1,2}/\d{2,4}|(?:19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01]))\b"
)
_ID_LIKE = re.compile(r"\b(?=(?:[A-Za-z-]*\d){6})[A-Za-z0-9][A-Za-z0-9-]{5,}\b")


def _denied(key: str) -> bool:
    return key.lower().replace("_", "").replace("-", "") in _DENY_NORMALIZED


def scrub_text(text: str) -> str:
    """Mask dates and member-id-like tokens in free text."""
    return _ID_LIKE.sub("[id]", _DATE.sub("[date]", text))


def _scrub(value: Any) -> Any:
    if isinstance(value, str):
        return scrub_text(value)
    if isinstance(value, Mapping):
        return {k: REDACTED if _denied(str(k)) else _scrub(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [_scrub(v) for v in value]
    if isinstance(value, (bool, int, float)) or value is None:
        return value
    # Dates, dataclasses and anything else: judged by their text.
    return scrub_text(str(value))


def redact_member_data(logger: WrappedLogger, method_name: str, event_dict: EventDict) -> EventDict:
    """structlog processor: replace deny-listed keys by "[redacted]" and mask dates and id-like tokens
    in every other value, the event message included."""
    for key in list(event_dict):
        if key in _TRUSTED_KEYS:
            continue
        if _denied(key):
            event_dict[key] = REDACTED
        else:
            event_dict[key] = _scrub(event_dict[key])
    return event_dict


def _drop_exception_locals(logger: WrappedLogger, method_name: str, event_dict: EventDict) -> EventDict:
    # Tracebacks are rendered to text before the redactor sees them; scrub that text too.
    for key in ("exception", "stack"):
        if isinstance(event_dict.get(key), str):
            event_dict[key] = scrub_text(event_dict[key])
    return event_dict


_configured = False


def configure_logging(
    *, json: bool = True, level: int | str = logging.INFO, stream: TextIO | None = None, force: bool = False
) -> None:
    """Configure structlog and the standard library's root logger once (later calls do nothing
    unless ``force``). ``json`` False gives coloured console output for development."""
    global _configured
    if _configured and not force:
        return
    out = stream if stream is not None else sys.stderr
    shared: list[Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        redact_member_data,
    ]
    renderer: Processor = (
        structlog.processors.JSONRenderer() if json else structlog.dev.ConsoleRenderer(colors=False)
    )
    structlog.configure(
        processors=[
            *shared,
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=False,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            _drop_exception_locals,
            renderer,
        ],
    )
    handler = logging.StreamHandler(out)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    for old in list(root.handlers):
        if getattr(old, "_bhum", False):
            root.removeHandler(old)
    handler._bhum = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(level)
    _configured = True


def reset_logging() -> None:
    """Undo ``configure_logging`` (for tests that capture output)."""
    global _configured
    root = logging.getLogger()
    for old in list(root.handlers):
        if getattr(old, "_bhum", False):
            root.removeHandler(old)
    structlog.reset_defaults()
    _configured = False


def redact_mapping(values: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """Apply the redaction rules to a mapping outside logging (e.g. an error context)."""
    return redact_member_data(None, "", dict(values))
