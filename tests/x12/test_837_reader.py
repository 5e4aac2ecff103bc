"""837P / 837I reading: every shared sample, concrete values, and malformed input located precisely."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest
from x12sdk.io import X12ModelReader

from bhum.adapters.x12 import (
    MEDICAL_CLAIM_SCHEMA,
    X12_MEDICAL_CLAIM_SCHEMA,
    X12InputError,
    parse_837,
    read_837,
    read_837_text,
)
from bhum.domain.errors import InputError
from tests.conftest import shared_dir, shared_fixtures

FIXTURES = shared_dir() / "fixtures" / "x12"
SAMPLES = [*shared_fixtures("x12/837_005010X222A2/*"), *shared_fixtures("x12/837_005010X223A3/*")]


def test_there_are_samples_to_read() -> None:
    assert len(SAMPLES) >= 22


@pytest.mark.parametrize("path", SAMPLES, ids=lambda p: p.name)
def test_every_shared_837_sample_parses_and_agrees_with_x12sdk(path: Path) -> None:
    result = read_837(path, conformance=True)
    assert result.errors == ()
    assert result.table.schema == X12_MEDICAL_CLAIM_SCHEMA
    assert result.table.num_rows > 0
    # the same claims, lines and charges as x12sdk's typed models see them
    expected: list[tuple[str, int, float]] = []
    with X12ModelReader(str(path)) as reader:
        models: list[Any] = list(reader.models())
        for model in models:
            for claim in model.claims():
                for line in claim.service_lines:
                    service = line.sv1_segment if hasattr(line, "sv1_segment") else line.sv2_segment
                    charge = service.line_item_charge_amount
                    expected.append(
                        (claim.patient_control_number, int(line.lx_segment.assigned_number), float(charge))
                    )
    got = list(
        zip(
            result.table.column("claim_id").to_pylist(),
            result.table.column("claim_line_number").to_pylist(),
            result.table.column("charge_amount").to_pylist(),
            strict=True,
        )
    )
    assert got == expected


def test_contract_columns_come_first_in_contract_order() -> None:
    assert X12_MEDICAL_CLAIM_SCHEMA.names[: len(MEDICAL_CLAIM_SCHEMA)] == MEDICAL_CLAIM_SCHEMA.names
    assert X12_MEDICAL_CLAIM_SCHEMA.names[len(MEDICAL_CLAIM_SCHEMA) :] == [
        "service_unit_basis",
        "source_segment",
    ]


def test_professional_example1_values() -> None:
    rows = parse_837(FIXTURES / "837_005010X222A2" / "demo.example1.837").to_pylist()
    assert [r["claim_line_number"] for r in rows] == [1, 2, 3, 4]
    first = rows[0]
    assert first["claim_id"] == "26463774"
    assert first["claim_type"] == "professional"
    assert first["member_id"] == "JS00111223333"  # 2010BA NM109: a dependent (PAT*19) bills under it
    assert first["payer"] == "KEY INSURANCE COMPANY"
    assert first["billing_npi"] == "1912301953"
    assert first["rendering_npi"] == "1912301953"  # no 2310B: the billing provider rendered
    assert first["hcpcs_code"] == "99213"
    assert first["charge_amount"] == 40.0
    assert first["service_unit_quantity"] == 1.0
    assert first["service_unit_basis"] == "UN"
    assert first["place_of_service_code"] == "11"
    assert first["claim_line_start_date"] == date(2006, 10, 3)
    assert first["diagnosis_code_type"] == "icd-9-cm"
    assert (first["diagnosis_code_1"], first["diagnosis_code_2"]) == ("0340", "V7389")
    assert rows[2]["claim_line_start_date"] == date(2006, 10, 10)
    assert (first["claim_start_date"], first["claim_end_date"]) == (date(2006, 10, 3), date(2006, 10, 10))
    assert first["bill_type_code"] is None
    assert first["data_source"] == "x12_837p"


def test_professional_modifiers_and_date_ranges() -> None:
    rows = parse_837(FIXTURES / "837_005010X222A2" / "demo.example7.837").to_pylist()
    assert rows[0]["claim_id"] == "R03996273 #01"
    assert (rows[0]["hcpcs_code"], rows[0]["hcpcs_modifier_1"], rows[0]["hcpcs_modifier_2"]) == (
        "E1390",
        "RR",
        None,
    )
    rows = parse_837(FIXTURES / "837_005010X222A2" / "demo.drug.example10.2.837").to_pylist()
    assert rows[0]["claim_line_start_date"] == date(2004, 2, 1)
    assert rows[0]["claim_line_end_date"] == date(2004, 2, 7)
    assert rows[0]["service_unit_quantity"] == 7.0
    assert rows[0]["place_of_service_code"] == "12"  # SV105 overrides CLM05-1


def test_institutional_ppo_repriced_values() -> None:
    rows = parse_837(FIXTURES / "837_005010X223A3" / "ppo-repriced-claim.837i").to_pylist()
    assert len(rows) == 2
    first = rows[0]
    assert first["claim_type"] == "institutional"
    assert first["claim_id"] == "456DFH43"
    assert first["member_id"] == "345U8423H"  # the subscriber's id, not the other payer's 2330A NM1*IL
    assert first["payer"] == "LOCAL INSURANCE COMPANY"  # not the 2330B other payer
    assert first["bill_type_code"] == "131"  # CLM05 13>A>1: facility type 13, frequency 1
    assert first["revenue_center_code"] == "0471"
    assert first["hcpcs_code"] == "92557"
    assert first["admission_date"] == date(2005, 7, 6)
    assert first["discharge_date"] == date(2005, 7, 6)  # CL103 01 discharged: the last statement day
    assert (first["admit_type_code"], first["admit_source_code"], first["discharge_disposition_code"]) == (
        "1",
        "2",
        "01",
    )
    assert first["rendering_npi"] == "5544332211"  # attending (2310A NM1*71)
    assert first["facility_npi"] == "1257234346"
    assert first["place_of_service_code"] is None
    assert [r["charge_amount"] for r in rows] == [178.0, 59.5]


def test_institutional_two_claims_keep_their_own_members() -> None:
    rows = parse_837(FIXTURES / "837_005010X223A3" / "two-claims-single-provider.837i").to_pylist()
    assert [(r["claim_id"], r["member_id"], r["claim_line_number"]) for r in rows] == [
        ("756048Q", "030005074", 1),
        ("756048Q", "030005074", 2),
        ("756049Q", "123405074", 1),
    ]
    assert rows[1]["service_unit_quantity"] == 3.0


# -- synthetic files for malformed input and bhum conventions ------------------------------------

ISA = (
    "ISA*00*          *00*          *ZZ*SUBMITTER      *ZZ*BHUMPLAN       "
    "*260105*0900*^*00501*000000001*0*T*:~\n"
)


def _claim(
    claim_id: str, *, date_: str = "20260105", sv1: str = "SV1*HC:T1017:HE:HN*60.00*UN*4***1", extra: str = ""
) -> list[str]:
    return [
        f"CLM*{claim_id}*60.00***11:B:1*Y*A*Y*Y",
        "HI*ABK:F331*ABF:F411",
        "LX*1",
        sv1,
        f"DTP*472*D8*{date_}",
        *([extra] if extra else []),
    ]


def _837(*claims: list[str], se_count: int | None = None) -> str:
    body = [
        "ST*837*0001*005010X222A2",
        "BHT*0019*00*1*20260105*0900*CH",
        "NM1*41*2*SUBMITTER*****46*S1",
        "NM1*40*2*BHUM PLAN*****46*P1",
        "HL*1**20*1",
        "NM1*85*2*GOOD CMHC*****XX*1234567893",
        "HL*2*1*22*0",
        "SBR*P*18*******MC",
        "NM1*IL*1*SYNTHETIC*MEMBER****MI*M000123",
        "NM1*PR*2*BHUM PLAN*****PI*P1",
    ]
    for claim in claims:
        body.extend(claim)
    count = se_count if se_count is not None else len(body) + 1
    body.append(f"SE*{count}*0001")
    gs = "GS*HC*SUBMITTER*BHUMPLAN*20260105*0900*1*X*005010X222A2"
    return ISA + "\n".join([gs, *body, "GE*1*1", "IEA*1*000000001"]).replace("\n", "~\n") + "~\n"


def test_a_bad_date_rejects_its_claim_and_names_file_line_segment_and_element() -> None:
    text = _837(_claim("GOOD1"), _claim("BAD2", date_="20260230"), _claim("GOOD3"))
    result = read_837_text(text, source="batch.837")
    assert result.table.column("claim_id").to_pylist() == ["GOOD1", "GOOD3"]
    (error,) = result.errors
    assert isinstance(error, InputError)
    assert error.source == "batch.837"
    assert error.element == "DTP03" and error.field == "DTP03"
    assert error.segment_tag == "DTP" and error.claim_id == "BAD2"
    expected_line = text.splitlines().index("DTP*472*D8*20260230~") + 1
    assert error.line == expected_line
    assert error.segment_number == expected_line  # one segment per line in this file
    assert "20260230" in str(error) and f"line {expected_line}" in str(error)


def test_a_missing_required_element_names_it() -> None:
    text = _837(_claim("C1", sv1="SV1*HC:T1017:HE:HN*60.00*UN"), _claim("C2"))
    result = read_837_text(text, source="missing.837")
    assert result.table.column("claim_id").to_pylist() == ["C2"]
    assert [(e.element, e.claim_id) for e in result.errors] == [("SV104", "C1")]
    with pytest.raises(X12InputError) as raised:
        read_837_text(text, source="missing.837", strict=True)
    assert raised.value.element == "SV104"


def test_a_line_without_a_procedure_code_is_rejected() -> None:
    result = read_837_text(_837(_claim("C1", sv1="SV1*HC*60.00*UN*4")), source="x.837")
    assert [e.element for e in result.errors] == ["SV101-2"]


def test_a_truncated_file_keeps_the_claims_before_the_cut(tmp_path: Path) -> None:
    text = _837(_claim("C1"), _claim("C2"))
    cut = text.index("SV1*HC:T1017:HE:HN*60.00*UN*4***1", text.index("CLM*C2")) + 10
    path = tmp_path / "truncated.837"
    path.write_text(text[:cut])
    result = read_837(path)
    assert result.table.column("claim_id").to_pylist() == ["C1"]
    (error,) = result.errors
    assert error.source == str(path)
    assert error.element == "segment terminator" and error.segment_tag == "SV1"
    assert error.line == text[:cut].count("\n") + 1
    with pytest.raises(X12InputError, match="truncated"):
        parse_837(path)


def test_a_wrong_segment_count_is_reported() -> None:
    result = read_837_text(_837(_claim("C1"), se_count=99), source="count.837")
    assert [e.element for e in result.errors] == ["SE01"]


def test_not_an_interchange(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("hello, this is not X12 at all " * 5)
    result = read_837(path)
    assert result.table.num_rows == 0
    assert result.errors[0].element == "ISA" and result.errors[0].source == str(path)


def test_timed_service_conventions_tcm01_tcm09() -> None:
    """TCM-01/TCM-09 need start/stop times and face-to-face minutes: NTE keys and DTP RDT carry them."""
    note = "NTE*ADD*START=0900 STOP=10:15 F2F=60 TRAVEL=15 ACTIVITY=face_to_face_member STAFF=S0042"
    rows = read_837_text(_837(_claim("C1", extra=note)), source="t.837", strict=True).table.to_pylist()
    (row,) = rows
    assert (row["service_start_time"], row["service_stop_time"]) == ("09:00", "10:15")
    assert (row["face_to_face_minutes"], row["travel_minutes"]) == (60, 15)
    assert (row["activity_code"], row["rendering_staff_id"]) == ("face_to_face_member", "S0042")
    assert (row["hcpcs_code"], row["hcpcs_modifier_1"], row["hcpcs_modifier_2"]) == ("T1017", "HE", "HN")
    assert row["service_unit_quantity"] == 4.0 and row["diagnosis_code_type"] == "icd-10-cm"
    assert (row["diagnosis_code_1"], row["diagnosis_code_2"]) == ("F331", "F411")

    rdt = _claim("C2")
    rdt[4] = "DTP*472*RDT*202601050900-202601051159"
    (row,) = read_837_text(_837(rdt), source="t.837", strict=True).table.to_pylist()
    assert (row["service_start_time"], row["service_stop_time"]) == ("09:00", "11:59")
    assert row["claim_line_start_date"] == date(2026, 1, 5)


def test_minutes_are_kept_with_their_unit_basis() -> None:
    (row,) = read_837_text(
        _837(_claim("C1", sv1="SV1*HC:T1017:HE:HN*60.00*MJ*47***1")), source="t.837", strict=True
    ).table.to_pylist()
    assert (row["service_unit_quantity"], row["service_unit_basis"]) == (47.0, "MJ")


def test_an_impossible_note_time_is_rejected() -> None:
    result = read_837_text(_837(_claim("C1", extra="NTE*ADD*START=2460 STOP=2500")), source="t.837")
    assert result.table.num_rows == 0
    assert result.errors[0].element == "NTE02 START"
