"""Small immutable values shared by the whole domain."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta

from bhum.domain.errors import InputError

# Canonical code-system URIs. Codes always carry system + code (+ display).
ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"
HCPCS = "https://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets"
CPT = "http://www.ama-assn.org/go/cpt"
NDC = "http://hl7.org/fhir/sid/ndc"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
REVENUE = "https://www.nubc.org/CodeSystem/RevenueCodes"
POS = "https://www.cms.gov/Medicare/Coding/place-of-service-codes"
MODIFIER = "https://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets/modifiers"
CARC = "https://x12.org/codes/claim-adjustment-reason-codes"
RARC = "https://x12.org/codes/remittance-advice-remark-codes"
NUCC_TAXONOMY = "http://nucc.org/provider-taxonomy"
NPI = "http://hl7.org/fhir/sid/us-npi"
BHUM_RULE = "https://bhum.dev/rules"  # rule IDs from the rule catalog (OPM-04, TCM-02 …)


@dataclass(frozen=True, slots=True)
class Code:
    """A coded value: always a system and a code, with an optional display."""

    system: str
    code: str
    display: str | None = None

    def __post_init__(self) -> None:
        if not self.system:
            raise InputError("a code needs a system", field="system", record=self.code or None)
        if not self.code or self.code != self.code.strip():
            raise InputError("a code needs a non-blank code without surrounding spaces", field="code")

    def same_as(self, other: Code) -> bool:
        """Equal by system and code; the display is a label, not identity."""
        return self.system == other.system and self.code == other.code

    def __str__(self) -> str:
        return f"{self.system}|{self.code}"


@dataclass(frozen=True, slots=True)
class DateSpan:
    """An inclusive span of calendar dates. ``end`` None means open-ended."""

    start: date
    end: date | None = None

    def __post_init__(self) -> None:
        if self.end is not None and self.end < self.start:
            raise InputError(
                f"the span ends ({self.end.isoformat()}) before it starts ({self.start.isoformat()})",
                field="end",
            )

    def contains(self, day: date) -> bool:
        return self.start <= day and (self.end is None or day <= self.end)

    def overlaps(self, other: DateSpan) -> bool:
        return (other.end is None or self.start <= other.end) and (
            self.end is None or other.start <= self.end
        )

    @property
    def days(self) -> int | None:
        """Number of calendar days, both ends included; None when open-ended."""
        return None if self.end is None else (self.end - self.start).days + 1

    def each_day(self) -> Iterator[date]:
        if self.end is None:
            raise ValueError("an open-ended span has no last day")
        day = self.start
        while day <= self.end:
            yield day
            day += timedelta(days=1)


def age_on(birth_date: date, on: date) -> int:
    """Age in whole years on a date (a birthday counts on the day itself; 29 Feb → 1 Mar in other years)."""
    years = on.year - birth_date.year
    if (on.month, on.day) < (birth_date.month, birth_date.day):
        years -= 1
    return years


def parse_date(text: str, *, field: str, record: str | int | None = None, source: str | None = None) -> date:
    """Parse an ISO date, refusing impossible ones (2026-02-30) with an error naming the field."""
    try:
        return date.fromisoformat(text.strip())
    except (ValueError, AttributeError) as exc:
        raise InputError(
            f"{text!r} is not a valid date (expected YYYY-MM-DD)", field=field, record=record, source=source
        ) from exc
