"""plan_contact(plan): the letterhead of a plan's letters from its contact details; the synthetic
generator writes a complete letterhead for every plan."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from bhum.adapters.synth import generate_population
from bhum.domain.errors import InputError
from bhum.domain.members import LineOfBusiness, Plan, PlanContactInfo, plan_contact

CONTACT = PlanContactInfo(
    phone="1-800-555-0101",
    tty=None,
    address_line_1="PO Box 1100",
    address_line_2=None,
    city="Springfield",
    state="IL",
    zip_code="62701",
    website=None,
)
PLAN = Plan(
    "P1", "Synthetic Medicaid BH", "Payer", LineOfBusiness.MEDICAID, True, True, "America/Chicago", CONTACT
)


def test_letterhead_from_the_plan_tty_defaults_to_the_711_relay() -> None:
    letterhead = plan_contact(PLAN)
    assert letterhead.name == "Synthetic Medicaid BH"
    assert letterhead.phone == "1-800-555-0101" and letterhead.tty == "711"
    assert letterhead.address_lines == ("PO Box 1100", "Springfield, IL 62701")
    assert letterhead.website is None


def test_second_address_line_and_website_when_given() -> None:
    plan = replace(
        PLAN, contact=replace(CONTACT, address_line_2="Suite 2", tty="1-800-555-0199", website="p.example")
    )
    letterhead = plan_contact(plan)
    assert letterhead.address_lines == ("PO Box 1100", "Suite 2", "Springfield, IL 62701")
    assert (letterhead.tty, letterhead.website) == ("1-800-555-0199", "p.example")


@pytest.mark.parametrize(
    ("change", "column"),
    [
        ({"phone": None}, "contact_phone"),
        ({"phone": "  "}, "contact_phone"),
        ({"address_line_1": None}, "contact_address_line_1"),
        ({"city": None}, "contact_city"),
        ({"state": None}, "contact_state"),
        ({"zip_code": None}, "contact_zip"),
    ],
)
def test_a_plan_without_phone_or_full_address_cannot_send_letters(
    change: dict[str, str | None], column: str
) -> None:
    with pytest.raises(InputError) as err:
        plan_contact(replace(PLAN, contact=replace(CONTACT, **change)))
    assert (err.value.field, err.value.record, err.value.source) == (column, "P1", "plans")


def test_generated_plans_carry_a_complete_letterhead(tmp_path: Path) -> None:
    generate_population(tmp_path, members=200, seed=3)
    plans = pq.read_table(tmp_path / "plans.parquet").to_pylist()
    assert len(plans) == 8
    for row in plans:
        contact = PlanContactInfo(
            row["contact_phone"], row["contact_tty"], row["contact_address_line_1"],
            row["contact_address_line_2"], row["contact_city"], row["contact_state"], row["contact_zip"],
            row["website"],
        )  # fmt: skip
        plan = Plan(row["plan_id"], row["plan_name"], row["payer"], LineOfBusiness(row["line_of_business"]),
                    row["bh_benefit"], row["opm_care_management"], row["time_zone"], contact)  # fmt: skip
        letterhead = plan_contact(plan)
        assert letterhead.phone.startswith("1-800-555-01")  # numbers reserved for fiction
        assert letterhead.website is not None and letterhead.website.endswith(".example")
    assert len({r["contact_phone"] for r in plans}) == 8
