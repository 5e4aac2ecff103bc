"""835 writing: x12sdk parses it back, amounts/CARC/RARC/units round-trip, balancing and counts hold."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from x12sdk.io import X12ModelReader

from bhum.adapters.x12 import (
    Adjustment,
    Envelope,
    LineDecision,
    Payee,
    Payer,
    PaymentRun,
    ProviderAdjustment,
    decisions_table,
    write_835,
    write_835_file,
)
from bhum.domain.errors import InputError
from tests.conftest import shared_dir, shared_fixtures

CMHC = "1234567893"
OPBH = "1999999984"
FIXTURES = shared_dir() / "fixtures" / "x12" / "835_005010X221A1"

RUN = PaymentRun(
    payer=Payer(
        "BHUM HEALTH PLAN",
        "1123456789",
        "1 MAIN ST",
        "SPRINGFIELD",
        "IL",
        "62701",
        contact_phone="5555550100",
    ),
    payees={CMHC: Payee("GOOD CMHC", CMHC, "111223333"), OPBH: Payee("OPBH CLINIC", OPBH)},
    production_date=date(2026, 2, 1),
    payment_date=date(2026, 2, 2),
    trace_numbers={CMHC: "CHK1001", OPBH: "EFT2002"},
    provider_adjustments=(ProviderAdjustment(OPBH, date(2026, 12, 31), "L6", -1.25),),
)
ENVELOPE = Envelope("BHUMPAYER", "PROVIDERS", datetime(2026, 2, 1, 12, 0), interchange_control_number=42)


def _lines() -> list[LineDecision]:
    return [
        # TCM-02: 6 units billed, 4 left under the monthly cap -> 2 denied with CARC 119 / RARC N362
        LineDecision(
            "C1", 1, "M001", CMHC, date(2026, 1, 5), 90.0, 60.0, 4, 2,
            [Adjustment("CO", "119", 30.0, 2)], ["N362"], "T1017", ["HE", "HN"],
        ),
        # OPM-07 / MN-04: no authorization -> denied, CARC 197 + RARC M62; a patient share on top
        LineDecision(
            "C1", 2, "M001", CMHC, date(2026, 1, 6), 50.0, 0.0, 0, 2,
            [Adjustment("CO", "197", 30.0, 2), Adjustment("CO", "198", 10.0), Adjustment("PR", "1", 10.0)],
            ["M62", "N54"], "T1017", ["HE"],
        ),
        LineDecision(
            "C2", 1, "M002", CMHC, date(2026, 1, 7), 300.0, 300.0, 3, 0, [], [], None, [], "0905",
            service_end_date=date(2026, 1, 9), patient_last_name="SYNTHETIC", patient_first_name="ALEX",
        ),
        LineDecision("C3", 1, "M003", OPBH, date(2026, 1, 7), 80.0, 80.0, 1, 0, [], [], "90837"),
    ]  # fmt: skip


def _parse(text: str, tmp_path: Path) -> list[Any]:
    path = tmp_path / "out.835"
    path.write_text(text)
    with X12ModelReader(str(path)) as reader:
        return list(reader.models())


def test_written_835_parses_back_with_x12sdk_and_round_trips(tmp_path: Path) -> None:
    remittance = write_835(decisions_table(_lines()), RUN, ENVELOPE)
    models = _parse(remittance.text, tmp_path)
    assert len(models) == 2 == remittance.transaction_sets
    cmhc, opbh = models
    claims = {c.patient_control_number: c for c in cmhc.claims()}
    assert set(claims) == {"C1", "C2"}
    c1 = claims["C1"]
    assert (c1.charge, c1.paid, c1.status) == (Decimal("140.00"), Decimal("60.00"), "1")
    assert c1.claim.clp_segment.patient_responsibility_amount == Decimal("10.00")
    first, second = c1.service_lines
    assert first.svc_segment.composite_medical_procedure_identifier_1 == "HC:T1017:HE:HN"
    assert first.svc_segment.units_of_service_paid_count == Decimal("4")
    assert first.svc_segment.original_units_of_service_count == Decimal("6")
    (cas,) = first.cas_segment
    trio = (cas.adjustment_group_code, cas.adjustment_reason_code_1, cas.monetary_amount_1, cas.quantity_1)
    assert trio == ("CO", "119", Decimal("30.00"), Decimal("2"))
    assert [lq.form_identifier for lq in first.lq_segment] == ["N362"]
    # two CO reasons share one CAS; the PR share gets its own
    co, pr = second.cas_segment
    assert (co.adjustment_reason_code_1, co.adjustment_reason_code_2) == ("197", "198")
    assert (co.monetary_amount_1, co.quantity_1, co.monetary_amount_2) == (
        Decimal("30.00"),
        Decimal("2"),
        Decimal("10.00"),
    )
    assert (pr.adjustment_group_code, pr.adjustment_reason_code_1) == ("PR", "1")
    assert [lq.form_identifier for lq in second.lq_segment] == ["M62", "N54"]
    assert [ref.reference_identification for ref in second.ref_segment] == ["2"]  # REF*6R line number
    (c2_line,) = claims["C2"].service_lines
    assert c2_line.svc_segment.composite_medical_procedure_identifier_1 == "NU:0905"
    assert [d.date_time_qualifier for d in c2_line.dtm_segment] == ["150", "151"]
    assert claims["C2"].patient.name_last_or_organization_name == "SYNTHETIC"
    (c3,) = list(opbh.claims())
    assert (c3.patient_control_number, c3.paid) == ("C3", Decimal("80.00"))


def test_balancing_clp_and_bpr(tmp_path: Path) -> None:
    """CLP03 - all CAS = CLP04 for each claim; BPR02 = sum(CLP04) - PLB for each payee."""
    remittance = write_835(decisions_table(_lines()), RUN, ENVELOPE)
    for model in _parse(remittance.text, tmp_path):
        total = Decimal("0")
        for claim in model.claims():
            adjusted = sum(
                (
                    getattr(cas, f"monetary_amount_{i}") or Decimal("0")
                    for line in claim.service_lines
                    for cas in line.cas_segment or []
                    for i in range(1, 7)
                ),
                Decimal("0"),
            )
            assert claim.charge - adjusted == claim.paid
            total += claim.paid
        plb = model.footer.plb_segment
        provider_adjustment = plb.provider_adjustment_amount_1 if plb else Decimal("0")
        assert model.header.bpr_segment.total_actual_provider_payment_amount == total - provider_adjustment
    assert remittance.total_paid_cents == 36000 + 8125


def test_segment_counts_and_control_numbers() -> None:
    text = write_835(decisions_table(_lines()), RUN, ENVELOPE).text
    segments = [s.strip() for s in text.split("~") if s.strip()]
    sts = [i for i, s in enumerate(segments) if s.startswith("ST*")]
    ses = [i for i, s in enumerate(segments) if s.startswith("SE*")]
    for number, (st, se) in enumerate(zip(sts, ses, strict=True), start=1):
        control = f"{number:04d}"
        assert segments[st] == f"ST*835*{control}"
        assert segments[se] == f"SE*{se - st + 1}*{control}"
    assert segments[-2] == f"GE*{len(sts)}*1"
    assert segments[-1] == "IEA*1*000000042"
    assert segments[0].split("*")[13] == "000000042"
    assert len(segments[0]) + 1 == 106  # ISA is fixed width


def test_an_unbalanced_line_is_refused_naming_claim_and_line() -> None:
    lines = _lines()
    lines[0] = LineDecision(
        "C1", 1, "M001", CMHC, date(2026, 1, 5), 90.0, 60.0, 4, 2, [Adjustment("CO", "119", 29.99)]
    )
    with pytest.raises(InputError) as raised:
        write_835(decisions_table(lines), RUN, ENVELOPE)
    assert raised.value.field == "adjustments" and raised.value.record == "claim C1 line 1"


def test_carc_62_is_never_sent() -> None:
    lines = [
        LineDecision("C9", 1, "M009", CMHC, date(2026, 1, 5), 10.0, 0.0, 0, 1, [Adjustment("CO", "62", 10.0)])
    ]
    with pytest.raises(InputError, match="deactivated"):
        write_835(decisions_table(lines), RUN, ENVELOPE)


def test_delimiters_in_data_and_missing_columns_are_refused() -> None:
    lines = [LineDecision("C*9", 1, "M009", CMHC, date(2026, 1, 5), 10.0, 10.0, 1, 0)]
    with pytest.raises(InputError) as raised:
        write_835(decisions_table(lines), RUN, ENVELOPE)
    assert raised.value.field == "claim_id"
    table = decisions_table(_lines()).drop_columns(["paid_units"])
    with pytest.raises(InputError) as missing:
        write_835(table, RUN, ENVELOPE)
    assert missing.value.field == "paid_units"


def test_an_unknown_payee_is_refused() -> None:
    lines = [
        LineDecision("C9", 1, "M009", "1000000004", date(2026, 1, 5), 10.0, 10.0, 1, 0, hcpcs_code="90837")
    ]
    with pytest.raises(InputError) as raised:
        write_835(decisions_table(lines), RUN, ENVELOPE)
    assert raised.value.field == "billing_npi"


def test_a_fully_denied_claim_is_status_4_and_a_zero_check_is_a_notification(tmp_path: Path) -> None:
    lines = [
        LineDecision(
            "D1",
            1,
            "M009",
            OPBH,
            date(2026, 1, 5),
            10.0,
            0.0,
            0,
            1,
            [Adjustment("CO", "197", 10.0, 1)],
            hcpcs_code="90837",
        )
    ]
    run = PaymentRun(RUN.payer, RUN.payees, RUN.production_date, RUN.payment_date, RUN.trace_numbers)
    remittance = write_835(decisions_table(lines), run, ENVELOPE)
    assert "BPR*H*0.00*C*NON" in remittance.text
    (model,) = _parse(remittance.text, tmp_path)
    (claim,) = list(model.claims())
    assert claim.status == "4"


def test_write_835_file_and_arrow_input(tmp_path: Path) -> None:
    table = decisions_table(_lines())
    assert isinstance(table, pa.Table)
    path = tmp_path / "remit.835"
    remittance = write_835_file(path, table, RUN, ENVELOPE)
    assert path.read_text() == remittance.text
    assert not (tmp_path / "remit.835.partial").exists()


@pytest.mark.parametrize("path", shared_fixtures("x12/835_005010X221A1/*.835"), ids=lambda p: p.name)
def test_shared_835_samples_parse(path: Path) -> None:
    with X12ModelReader(str(path)) as reader:
        models: list[Any] = list(reader.models())
    claims = [c for m in models for c in m.claims()]
    assert claims
    for claim in claims:
        assert claim.patient_control_number


def test_shared_managed_care_835_values() -> None:
    with X12ModelReader(str(FIXTURES / "managed-care.835")) as reader:
        models: list[Any] = list(reader.models())
    (model,) = models
    claims = list(model.claims())
    assert [(c.patient_control_number, c.charge, c.paid) for c in claims] == [
        ("5554555444", Decimal("800.00"), Decimal("450.00")),
        ("8765432112", Decimal("1200.00"), Decimal("495.00")),
    ]
    assert model.header.bpr_segment.total_actual_provider_payment_amount == Decimal("945.00")
