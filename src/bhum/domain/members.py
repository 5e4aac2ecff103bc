"""Members, the plans that cover them, their coverage spans and where they live.

Where a member lives matters to the rules: case management is not compensable for residents of
nursing facilities, residential behavior management, group or foster homes or ICF/IID (TCM-04), and
members aged 22–64 in an IMD or inmates of public institutions are not "transitioning" (TCM-05).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from bhum.domain.errors import InputError
from bhum.domain.letters import PlanContact
from bhum.domain.values import DateSpan, age_on


class Sex(StrEnum):
    FEMALE = "F"
    MALE = "M"
    UNKNOWN = "U"


class ResidenceSetting(StrEnum):
    """Where a member lives on a given day."""

    HOME = "home"
    NURSING_FACILITY = "nursing_facility"
    RESIDENTIAL_BEHAVIOR_MANAGEMENT = "residential_behavior_management"
    GROUP_HOME = "group_home"
    FOSTER_HOME = "foster_home"
    ICF_IID = "icf_iid"  # intermediate care facility for individuals with intellectual disabilities (ICF/MR)
    IMD = "imd"  # institution for mental diseases
    PUBLIC_INSTITUTION = "public_institution"
    INPATIENT_PSYCHIATRIC = "inpatient_psychiatric"

    @property
    def excludes_case_management(self) -> bool:
        """TCM-04: residents of these settings may not receive compensable case management."""
        return self in _NO_CASE_MANAGEMENT

    @property
    def is_institution(self) -> bool:
        """Settings from which a member can be transitioning back to the community (TCM-05)."""
        return self in _INSTITUTIONS


_NO_CASE_MANAGEMENT = frozenset(
    {
        ResidenceSetting.NURSING_FACILITY,
        ResidenceSetting.RESIDENTIAL_BEHAVIOR_MANAGEMENT,
        ResidenceSetting.GROUP_HOME,
        ResidenceSetting.FOSTER_HOME,
        ResidenceSetting.ICF_IID,
    }
)
_INSTITUTIONS = frozenset(
    {
        ResidenceSetting.NURSING_FACILITY,
        ResidenceSetting.ICF_IID,
        ResidenceSetting.IMD,
        ResidenceSetting.PUBLIC_INSTITUTION,
        ResidenceSetting.INPATIENT_PSYCHIATRIC,
    }
)


class LineOfBusiness(StrEnum):
    COMMERCIAL = "commercial"
    MEDICAID = "medicaid"
    MEDICARE = "medicare"


@dataclass(frozen=True, slots=True)
class Address:
    line: str | None = None
    city: str | None = None
    state: str | None = None
    zip_code: str | None = None


@dataclass(frozen=True, slots=True)
class PlanContactInfo:
    """How members and providers reach the plan: printed on every letter (phone/TTY line, return
    address, website). Optional columns of the population ``plans`` file."""

    phone: str | None = None
    tty: str | None = None
    address_line_1: str | None = None
    address_line_2: str | None = None
    city: str | None = None
    state: str | None = None
    zip_code: str | None = None
    website: str | None = None


@dataclass(frozen=True, slots=True)
class Plan:
    plan_id: str
    name: str
    payer: str
    line_of_business: LineOfBusiness
    bh_benefit: bool  # OPM-08: behavioral-health benefits are provided through the plan
    opm_care_management: bool  # OPM-08: False when the plan excludes outpatient BH care management
    time_zone: str  # IANA name; clocks and "local" times are read in the plan's zone
    contact: PlanContactInfo = PlanContactInfo()

    @property
    def in_outpatient_management(self) -> bool:
        """OPM-08: the program applies only with BH benefits through the plan and no exclusion."""
        return self.bh_benefit and self.opm_care_management


def plan_contact(plan: Plan) -> PlanContact:
    """The letterhead of ``plan``'s letters: its name, phone, TTY (711 relay when none is on file),
    mailing address and website. A plan without a phone or a complete mailing address cannot send
    letters: InputError naming the plan and the missing ``plans`` column."""
    c = plan.contact
    for value, column in (
        (c.phone, "contact_phone"),
        (c.address_line_1, "contact_address_line_1"),
        (c.city, "contact_city"),
        (c.state, "contact_state"),
        (c.zip_code, "contact_zip"),
    ):
        if not (value or "").strip():
            raise InputError(
                "the plan has no contact details for letters",
                field=column,
                record=plan.plan_id,
                source="plans",
            )
    lines = [line for line in (c.address_line_1, c.address_line_2) if line and line.strip()]
    lines.append(f"{c.city}, {c.state} {c.zip_code}")
    return PlanContact(
        name=plan.name,
        phone=c.phone or "",
        address_lines=tuple(lines),
        tty=c.tty or "711",
        website=c.website or None,
    )


@dataclass(frozen=True, slots=True)
class CoverageSpan:
    """One enrollment span of a member in a plan (a Tuva ``eligibility`` row)."""

    member_id: str
    plan_id: str
    span: DateSpan


@dataclass(frozen=True, slots=True)
class ResidenceSpan:
    member_id: str
    setting: ResidenceSetting
    span: DateSpan  # open end = the current residence
    facility_npi: str | None = None


@dataclass(frozen=True, slots=True)
class Member:
    member_id: str
    first_name: str
    last_name: str
    sex: Sex
    birth_date: date
    death_date: date | None = None
    person_id: str | None = None
    address: Address = Address()
    phone: str | None = None
    race: str | None = None
    ethnicity: str | None = None
    pcp_npi: str | None = None  # the member's primary care provider (COC-01/02)
    # Filled by the store when the member is read as a whole; empty when built alone.
    residences: tuple[ResidenceSpan, ...] = ()
    coverage: tuple[CoverageSpan, ...] = ()

    def __post_init__(self) -> None:
        if self.death_date is not None and self.death_date < self.birth_date:
            raise InputError("death date is before the birth date", field="death_date", record=self.member_id)

    def age_on(self, day: date) -> int:
        return age_on(self.birth_date, day)

    def alive_on(self, day: date) -> bool:
        return self.birth_date <= day and (self.death_date is None or day <= self.death_date)

    def residence_on(self, day: date) -> ResidenceSpan | None:
        return residence_on(self.residences, day)

    def coverage_on(self, day: date) -> CoverageSpan | None:
        return coverage_on(self.coverage, day)


def residence_on(spans: Iterable[ResidenceSpan], day: date) -> ResidenceSpan | None:
    """The residence span covering ``day``; the latest-starting one wins if spans overlap."""
    matching = [s for s in spans if s.span.contains(day)]
    return max(matching, key=lambda s: s.span.start) if matching else None


def coverage_on(spans: Iterable[CoverageSpan], day: date) -> CoverageSpan | None:
    """The coverage span covering ``day``; the latest-starting one wins if spans overlap."""
    matching = [s for s in spans if s.span.contains(day)]
    return max(matching, key=lambda s: s.span.start) if matching else None
