"""Logs never carry member data: deny-listed keys are redacted, and dates or member-id-like tokens in
free text are masked, for structlog and standard-library loggers alike."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from datetime import UTC, date, datetime

import pytest
import structlog

from bhum.adapters.logging import REDACTED, configure_logging, redact_mapping, reset_logging, scrub_text
from bhum.adapters.passwords import Argon2PasswordHasher
from bhum.domain.access import Role
from bhum.services.access import create_user, view_member
from tests.fakes import FakeDatabase, FakeMembers

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def captured() -> Iterator[io.StringIO]:
    out = io.StringIO()
    configure_logging(json=True, stream=out, force=True)
    yield out
    reset_logging()


def lines(out: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in out.getvalue().splitlines() if line.strip()]


def test_deny_listed_keys_are_redacted_in_any_spelling(captured: io.StringIO) -> None:
    log = structlog.get_logger("t")
    log.info(
        "checked",
        member_id="M1",
        memberId="M2",
        FIRST_NAME="Ada",
        dob="1990-04-02",
        nested={"last-name": "Lovelace", "units": 4},
        units=4,
    )
    (row,) = lines(captured)
    assert row["member_id"] == row["memberId"] == row["FIRST_NAME"] == row["dob"] == REDACTED
    assert row["nested"] == {"last-name": REDACTED, "units": 4}
    assert row["units"] == 4  # non-member fields pass through untouched
    assert row["event"] == "checked" and row["level"] == "info"


def test_free_text_dates_and_member_ids_are_masked(captured: io.StringIO) -> None:
    structlog.get_logger("t").warning("member M00012345 born 04/02/1990 (1990-04-02) phone 5551234567")
    (row,) = lines(captured)
    text = str(row["event"])
    for leaked in ("M00012345", "04/02/1990", "1990-04-02", "5551234567"):
        assert leaked not in text
    assert text.startswith("member [id] born [date]")


def test_standard_library_loggers_are_redacted_too(captured: io.StringIO) -> None:
    logging.getLogger("uvicorn.access").warning("GET /members/M00012345 HTTP/1.1 200")
    (row,) = lines(captured)
    assert "M00012345" not in json.dumps(row)


def test_console_renderer_is_available_for_development() -> None:
    out = io.StringIO()
    configure_logging(json=False, stream=out, force=True)
    try:
        structlog.get_logger("t").info("hello", last_name="Lovelace")
    finally:
        reset_logging()
    assert "hello" in out.getvalue() and "Lovelace" not in out.getvalue()


def test_scrub_text_leaves_ordinary_words_and_short_numbers() -> None:
    assert scrub_text("approved 12 units under rule TCM-02") == "approved 12 units under rule TCM-02"
    assert redact_mapping({"ssn": "123-45-6789", "count": 2}) == {"ssn": REDACTED, "count": 2}


def test_no_member_field_value_is_logged_while_a_service_reads_a_member(captured: io.StringIO) -> None:
    db = FakeDatabase()
    members = FakeMembers()
    ada = members.add("M00098765", "Augusta", "Byron-King", date(1815, 12, 10), organizations=["ORG-A"])
    hasher = Argon2PasswordHasher.fast_for_tests()
    reviewer = create_user(
        db.unit_of_work(),
        actor="system:test",
        username="rev",
        display_name="Reviewer",
        roles=[Role.CLINICAL_REVIEWER],
        password="correct horse battery staple",
        hasher=hasher,
        now=NOW,
    )
    view_member(
        db.unit_of_work(),
        reviewer,
        ada.member_id,
        members=lambda _: members,
        scopes=lambda _: members,
        now=NOW,
        reason="concurrent review",
    )
    output = captured.getvalue()
    assert "member record read" in output  # the service did log
    for value in (ada.member_id, ada.first_name, ada.last_name, ada.birth_date.isoformat(), "12/10/1815"):
        assert value not in output
    assert "correct horse battery staple" not in output
