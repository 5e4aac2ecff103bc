"""Criteria evidence reads as words on the request page, never as Python reprs."""

from __future__ import annotations

from bhum.entrypoints.web.templating import evidence_text


def test_codes_booleans_lists_and_times_read_as_words() -> None:
    code = {"system": "https://www.cms.gov/hcpcs", "code": "S9480", "display": "IOP per diem"}
    assert evidence_text(code) == "S9480 (IOP per diem)"
    assert evidence_text({"system": "x", "code": "adult", "display": None}) == "adult"
    assert evidence_text(True) == "yes" and evidence_text(False) == "no"
    assert evidence_text([]) == "none" and evidence_text(["a", "b"]) == "a, b"
    assert evidence_text(None) == "not documented"
    assert evidence_text(3.0) == "3" and evidence_text(2.5) == "2.5"
    assert evidence_text("2026-03-02T09:30:00+00:00") == "2026-03-02 09:30 UTC"
    for value in (code, True, [], None, 3.0):
        text = evidence_text(value)
        assert "{" not in text and "True" not in text and "None" not in text
