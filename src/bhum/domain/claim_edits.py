"""Claim-line edits: the values a claim check produces and the rules it computes with.

Pure: no framework, database or clock. The numbers come from policy packs (see
``bhum.services.claims.check_parameters``); this module only says what they mean.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum

from bhum.domain.errors import InputError
from bhum.domain.values import Code


class Rounding(StrEnum):
    """How face-to-face minutes become 15-minute units (TCM-01; the pack's ``rounding`` parameter).

    ``whole_units_only``: only completed units count (29 minutes = 1 unit). The seed states no
    partial-unit rule, so this is the 2026.1 default. ``eight_minute``: a remainder of at least half a
    unit (8 of 15 minutes) adds one unit.
    """

    WHOLE_UNITS_ONLY = "whole_units_only"
    EIGHT_MINUTE = "eight_minute"


def units_from_minutes(minutes: int, unit_minutes: int, rounding: Rounding) -> int:
    """Billable units for ``minutes`` of face-to-face time (TCM-01). Negative or zero minutes make none."""
    if unit_minutes <= 0:
        raise InputError("a unit must last at least one minute", field="unit_minutes")
    if minutes <= 0:
        return 0
    whole, remainder = divmod(minutes, unit_minutes)
    if rounding is Rounding.EIGHT_MINUTE and remainder >= math.ceil(unit_minutes / 2):
        whole += 1
    return whole


def minimum_remainder_for_extra_unit(unit_minutes: int, rounding: Rounding) -> int:
    """The remainder (minutes) at which a partial unit counts; ``unit_minutes`` means never."""
    return math.ceil(unit_minutes / 2) if rounding is Rounding.EIGHT_MINUTE else unit_minutes


class LineStatus(StrEnum):
    PAID = "paid"  # every billed unit paid
    PARTIAL = "partial"  # some units paid, the rest denied (caps, authorization remainder, minutes)
    DENIED = "denied"  # no unit paid
    REJECTED = "rejected"  # the line could not be read; reported with file, line and field


class Edit(StrEnum):
    """Every edit a line can trip, in the order they are applied. The value is the pack rule id."""

    MEMBER_COVERED = "opm.claim-member-covered"
    EXACT_DUPLICATE = "opm.claim-exact-duplicate"
    AUTHORIZATION_ABSENT = "opm.preauth-required-services"
    AUTHORIZATION_DENIED = "opm.claim-authorization-denied"
    AUTHORIZATION_DISCONTINUED = "opm.clinical-update-returned"
    AUTHORIZATION_NOT_APPLICABLE = "opm.claim-authorization-applies"
    AUTHORIZATION_EXCEEDED = "mn.units-within-authorization"
    TCM_PROGRAM_MODIFIER = "tcm.claim-variant-program-modifier"
    TCM_AGE = "tcm.claim-variant-age"
    TCM_CONTRACT_TYPE = "tcm.claim-variant-contract-type"
    TCM_STAFF_LEVEL = "tcm.claim-staff-level"
    TCM_RESIDENCE = "tcm.claim-excluded-residence"
    TCM_ACTIVITY = "tcm.claim-activity"
    TCM_MINUTES = "tcm.units-from-face-to-face-minutes"
    TCM_DAILY_CAP = "tcm.daily-cap"  # codes and limits from the variant rules (tcm.t1017-*-limits)
    TCM_MONTHLY_CAP = "tcm.monthly-cap"
    IOP_AGE = "iop.claim-age-band"
    IOP_HOURS = "iop.per-diem-minimum-hours"
    IOP_WEEK_DAYS = "iop.days-per-week"  # a flag: the line is still paid
    IOP_BUNDLED = "iop.no-duplicate-services"


# The catalog IDs (RULES.md) each edit implements, for the remittance and the docs.
EDIT_RULE_IDS: dict[Edit, str] = {
    Edit.MEMBER_COVERED: "OPM-08",
    Edit.EXACT_DUPLICATE: "MN-04",
    Edit.AUTHORIZATION_ABSENT: "OPM-01",
    Edit.AUTHORIZATION_DENIED: "OPM-01",
    Edit.AUTHORIZATION_DISCONTINUED: "OPM-07",
    Edit.AUTHORIZATION_NOT_APPLICABLE: "MN-04",
    Edit.AUTHORIZATION_EXCEEDED: "MN-04",
    Edit.TCM_PROGRAM_MODIFIER: "TCM-02",
    Edit.TCM_AGE: "TCM-02",
    Edit.TCM_CONTRACT_TYPE: "TCM-02",
    Edit.TCM_STAFF_LEVEL: "TCM-02",
    Edit.TCM_RESIDENCE: "TCM-04",
    Edit.TCM_ACTIVITY: "TCM-04",
    Edit.TCM_MINUTES: "TCM-01",
    Edit.TCM_DAILY_CAP: "TCM-02",
    Edit.TCM_MONTHLY_CAP: "TCM-02",
    Edit.IOP_AGE: "IOP-03",
    Edit.IOP_HOURS: "IOP-04",
    Edit.IOP_WEEK_DAYS: "IOP-04",
    Edit.IOP_BUNDLED: "IOP-02",
}


@dataclass(frozen=True, slots=True)
class AdjustmentCodes:
    """The CARC (and optional RARC) an edit puts on a line."""

    carc: Code
    rarc: Code | None = None


@dataclass(frozen=True, slots=True)
class T1017Variant:
    """One T1017 variant (TCM-02): its level modifier (None for PACT), ages, limits and contract types."""

    rule_id: str
    level_modifier: str | None
    min_age: int
    max_age: int
    daily_limit: int
    monthly_limit: int
    contract_types: frozenset[str]

    @property
    def name(self) -> str:
        return self.level_modifier or "PACT"


@dataclass(frozen=True, slots=True)
class ClaimCheckParameters:
    """Everything the claim checks compute with; built from the packs, never from literals."""

    # Authorizations (OPM-01, OPM-07, MN-04)
    preauth_services: frozenset[Code]
    testing_services: frozenset[Code]
    # T1017 (TCM-01..04)
    tcm_service: Code
    program_modifiers: frozenset[str]
    variants: tuple[T1017Variant, ...]
    unit_minutes: int
    rounding: Rounding
    billable_travel_minutes: int
    cm1_level_modifiers: frozenset[str]
    cm2_level_modifiers: frozenset[str]
    cm1_credentials: frozenset[str]
    cm2_credentials: frozenset[str]
    not_reimbursable_activities: frozenset[str]
    excluded_settings: frozenset[str]
    # IOP (IOP-02..04)
    per_diem_services: frozenset[Code]
    adolescent_min_age: int
    adolescent_max_age: int
    adult_min_age: int
    adult_min_consecutive_hours: float
    adolescent_min_consecutive_hours: float
    min_days_per_week: int
    bundled_services: frozenset[Code]
    # CARC/RARC per edit
    codes: dict[Edit, AdjustmentCodes]

    def __post_init__(self) -> None:
        if self.unit_minutes <= 0:
            raise InputError("a unit must last at least one minute", field="unit_minutes")
        missing = [e.value for e in Edit if e is not Edit.IOP_WEEK_DAYS and e not in self.codes]
        if missing:
            raise InputError(f"no adjustment codes for {', '.join(missing)}", field="codes")

    def variant(self, level_modifier: str | None) -> T1017Variant | None:
        for variant in self.variants:
            if variant.level_modifier == level_modifier:
                return variant
        return None


def status_of(billed_units: float, paid_units: float) -> LineStatus:
    if paid_units <= 0:
        return LineStatus.DENIED
    if paid_units < billed_units:
        return LineStatus.PARTIAL
    return LineStatus.PAID
