"""Loading a population directory (written by `bhum synth`) into the store.

Everything is read and validated first; only then is anything written, in one transaction. A bad
file (missing column, impossible date such as 2026-02-30, unknown residence setting, contract type
or credential, a reference to a plan or organization that is not in the files) raises InputError
naming the file, the row (1-based data row) and the field, and the store is left exactly as it was.
Rows are upserted by natural key, so loading the same files twice leaves the same rows.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from bhum.domain.authorization import TestingPreauthNotice
from bhum.domain.errors import InputError
from bhum.domain.members import (
    Address,
    CoverageSpan,
    LineOfBusiness,
    Member,
    Plan,
    PlanContactInfo,
    ResidenceSetting,
    ResidenceSpan,
    Sex,
)
from bhum.domain.providers import (
    ContractType,
    EntityType,
    Organization,
    Provider,
    Staff,
    parse_credentials,
)
from bhum.domain.values import NUCC_TAXONOMY, Code, DateSpan, parse_date
from bhum.services.unit_of_work import UnitOfWork

# Required columns per file; other columns (Tuva fields bhum does not use yet) are ignored.
COLUMNS: dict[str, tuple[str, ...]] = {
    "plans": (
        "plan_id",
        "plan_name",
        "payer",
        "line_of_business",
        "bh_benefit",
        "opm_care_management",
        "time_zone",
    ),
    "eligibility": (
        "member_id",
        "first_name",
        "last_name",
        "sex",
        "birth_date",
        "plan_id",
        "enrollment_start_date",
        "enrollment_end_date",
    ),
    "member_residence": ("member_id", "setting", "start_date", "end_date"),
    "organizations": ("organization_id", "name", "contract_type"),
    "providers": ("npi", "name", "entity_type", "organization_id", "taxonomy_code"),
    "staff": ("staff_id", "organization_id", "first_name", "last_name", "credentials"),
    "testing_preauth_notices": ("plan_id", "provider_npi", "member_id", "effective_from", "effective_to"),
}
REQUIRED_FILES = ("plans", "eligibility", "organizations", "providers", "staff")
OPTIONAL_FILES = ("member_residence", "testing_preauth_notices")

Progress = Callable[[str, int, int], None]  # (what, done, total)
BATCH = 5000


@dataclass(frozen=True, slots=True)
class Population:
    plans: tuple[Plan, ...]
    members: tuple[Member, ...]
    coverage: tuple[CoverageSpan, ...]
    residences: tuple[ResidenceSpan, ...]
    organizations: tuple[Organization, ...]
    providers: tuple[Provider, ...]
    staff: tuple[Staff, ...]
    testing_notices: tuple[TestingPreauthNotice, ...]

    def counts(self) -> dict[str, int]:
        return {
            "plans": len(self.plans),
            "organizations": len(self.organizations),
            "providers": len(self.providers),
            "staff": len(self.staff),
            "members": len(self.members),
            "coverage": len(self.coverage),
            "residences": len(self.residences),
            "testing_notices": len(self.testing_notices),
        }


# -- reading ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Rows:
    source: str
    rows: list[dict[str, Any]]


def _find(directory: Path, name: str) -> Path | None:
    for suffix in (".parquet", ".csv"):
        path = directory / f"{name}{suffix}"
        if path.is_file():
            return path
    return None


def _read(directory: Path, name: str) -> _Rows | None:
    path = _find(directory, name)
    if path is None:
        if name in REQUIRED_FILES:
            raise InputError(
                f"the population needs {name}.parquet or {name}.csv", source=str(directory / name), field=None
            )
        return None
    source = path.name
    try:
        if path.suffix == ".parquet":
            table = pq.read_table(path)
        else:
            # Every CSV column as text: zip codes and NPIs keep their leading zeros; only "" is null.
            with path.open(newline="", encoding="utf-8") as handle:
                header = next(csv.reader(handle), [])
            table = pacsv.read_csv(
                path,
                convert_options=pacsv.ConvertOptions(
                    column_types={column: pa.string() for column in header},
                    strings_can_be_null=True,
                    null_values=[""],
                ),
            )
    except (pa.ArrowInvalid, OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read the file: {exc}", source=source) from exc
    missing = [c for c in COLUMNS[name] if c not in table.column_names]
    if missing:
        raise InputError(
            f"required column {missing[0]!r} is missing", source=source, record="header", field=missing[0]
        )
    return _Rows(source, table.to_pylist())


class _Row:
    """One data row with typed getters that name the file, row and field when a value is wrong."""

    def __init__(self, source: str, number: int, values: dict[str, Any]) -> None:
        self.source = source
        self.number = number
        self.values = values

    def error(self, message: str, field: str | None) -> InputError:
        return InputError(message, source=self.source, record=self.number, field=field)

    def text(self, field: str) -> str:
        value = self.optional_text(field)
        if value is None:
            raise self.error("a value is required", field)
        return value

    def optional_text(self, field: str) -> str | None:
        value = self.values.get(field)
        if value is None:
            return None
        text = str(value).strip()
        return text or None

    def day(self, field: str) -> date:
        value = self.optional_day(field)
        if value is None:
            raise self.error("a date is required", field)
        return value

    def optional_day(self, field: str) -> date | None:
        value = self.values.get(field)
        if value is None or (isinstance(value, str) and not value.strip()):
            return None
        if isinstance(value, datetime):
            return value.date()
        if isinstance(value, date):
            return value
        if isinstance(value, str):
            return parse_date(value, field=field, record=self.number, source=self.source)
        raise self.error(f"{value!r} is not a date", field)

    def flag(self, field: str) -> bool:
        value = self.values.get(field)
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
            return value.strip().lower() in _TRUE
        raise self.error(f"{value!r} is not a boolean (true/false)", field)

    def choice(self, enum: type[_E], field: str) -> _E:
        value = self.text(field)
        try:
            return enum(value)
        except ValueError as exc:
            allowed = ", ".join(e.value for e in enum)
            raise self.error(f"unknown value {value!r} (expected one of: {allowed})", field) from exc


_TRUE = frozenset({"true", "t", "1", "yes", "y"})
_FALSE = frozenset({"false", "f", "0", "no", "n"})
_E = TypeVar("_E", bound=StrEnum)


def _rows(rows: _Rows | None) -> Iterator[_Row]:
    if rows is None:
        return
    for number, values in enumerate(rows.rows, start=1):
        yield _Row(rows.source, number, values)


@contextmanager
def _at(row: _Row) -> Iterator[None]:
    """Domain constructors validate too; give their errors the file and row."""
    try:
        yield
    except InputError as exc:
        if exc.source is not None:
            raise
        raise row.error(exc.message, exc.field) from exc


def _span(row: _Row, start_field: str, end_field: str) -> DateSpan:
    start = row.day(start_field)
    end = row.optional_day(end_field)
    if end is not None and end < start:
        raise row.error(f"ends ({end.isoformat()}) before it starts ({start.isoformat()})", end_field)
    return DateSpan(start, end)


_STATE = re.compile(r"^[A-Z]{2}$")
_ZIP = re.compile(r"^\d{5}(-\d{4})?$")


def _plan_contact(row: _Row) -> PlanContactInfo:
    """The optional letterhead columns of a plans row (letters need phone and mailing address)."""
    state = row.optional_text("contact_state")
    if state is not None and not _STATE.match(state):
        raise row.error(f"{state!r} is not a two-letter state", "contact_state")
    zip_code = row.optional_text("contact_zip")
    if zip_code is not None and not _ZIP.match(zip_code):
        raise row.error(f"{zip_code!r} is not a ZIP code (12345 or 12345-6789)", "contact_zip")
    for field in ("contact_phone", "contact_tty"):
        value = row.optional_text(field)
        if value is not None and len(value) > 32:
            raise row.error("is longer than 32 characters", field)
    return PlanContactInfo(
        phone=row.optional_text("contact_phone"),
        tty=row.optional_text("contact_tty"),
        address_line_1=row.optional_text("contact_address_line_1"),
        address_line_2=row.optional_text("contact_address_line_2"),
        city=row.optional_text("contact_city"),
        state=state,
        zip_code=zip_code,
        website=row.optional_text("website"),
    )


def read_population(directory: Path) -> Population:
    """Read and validate every population file; nothing touches the store."""
    directory = Path(directory)
    if not directory.is_dir():
        raise InputError("the population directory does not exist", source=str(directory))

    plans: dict[str, Plan] = {}
    for row in _rows(_read(directory, "plans")):
        time_zone = row.text("time_zone")
        try:
            ZoneInfo(time_zone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise row.error(f"{time_zone!r} is not an IANA time zone", "time_zone") from exc
        plan = Plan(
            plan_id=row.text("plan_id"),
            name=row.text("plan_name"),
            payer=row.text("payer"),
            line_of_business=row.choice(LineOfBusiness, "line_of_business"),
            bh_benefit=row.flag("bh_benefit"),
            opm_care_management=row.flag("opm_care_management"),
            time_zone=time_zone,
            contact=_plan_contact(row),
        )
        plans[plan.plan_id] = plan

    organizations: dict[str, Organization] = {}
    for row in _rows(_read(directory, "organizations")):
        org = Organization(
            organization_id=row.text("organization_id"),
            name=row.text("name"),
            contract_type=row.choice(ContractType, "contract_type"),
            npi=row.optional_text("npi"),
            tax_id=row.optional_text("tax_id"),
            state=row.optional_text("state"),
        )
        organizations[org.organization_id] = org

    def organization_of(row: _Row) -> str | None:
        organization_id = row.optional_text("organization_id")
        if organization_id is not None and organization_id not in organizations:
            raise row.error(f"organization {organization_id!r} is not in organizations", "organization_id")
        return organization_id

    providers: dict[str, Provider] = {}
    for row in _rows(_read(directory, "providers")):
        taxonomy = row.optional_text("taxonomy_code")
        specialty = row.optional_text("specialty")
        is_pcp = row.flag("is_pcp") if row.values.get("is_pcp") is not None else False
        with _at(row):
            provider = Provider(
                npi=row.text("npi"),
                name=row.text("name"),
                entity_type=row.choice(EntityType, "entity_type"),
                taxonomy=None if taxonomy is None else Code(NUCC_TAXONOMY, taxonomy, specialty),
                organization_id=organization_of(row),
                specialty=specialty,
                is_pcp=is_pcp,
            )
        providers[provider.npi] = provider

    staff: dict[str, Staff] = {}
    for row in _rows(_read(directory, "staff")):
        person = Staff(
            staff_id=row.text("staff_id"),
            first_name=row.text("first_name"),
            last_name=row.text("last_name"),
            credentials=parse_credentials(row.text("credentials"), record=row.number, source=row.source),
            organization_id=organization_of(row),
            npi=row.optional_text("npi"),
            licence_number=row.optional_text("licence_number"),
            hire_date=row.optional_day("hire_date"),
        )
        staff[person.staff_id] = person

    members: dict[str, Member] = {}
    coverage: dict[tuple[str, str, date], CoverageSpan] = {}
    for row in _rows(_read(directory, "eligibility")):
        member_id = row.text("member_id")
        if member_id not in members:
            with _at(row):
                members[member_id] = Member(
                    member_id=member_id,
                    person_id=row.optional_text("person_id"),
                    first_name=row.text("first_name"),
                    last_name=row.text("last_name"),
                    sex=row.choice(Sex, "sex"),
                    birth_date=row.day("birth_date"),
                    death_date=row.optional_day("death_date"),
                    address=Address(
                        row.optional_text("address"),
                        row.optional_text("city"),
                        row.optional_text("state"),
                        row.optional_text("zip_code"),
                    ),
                    phone=row.optional_text("phone"),
                    race=row.optional_text("race"),
                    ethnicity=row.optional_text("ethnicity"),
                    pcp_npi=row.optional_text("pcp_npi"),
                )
        else:
            # Every coverage row repeats the member: validate it and keep it consistent.
            known = members[member_id]
            if row.day("birth_date") != known.birth_date:
                raise row.error("differs from the member's birth date on an earlier row", "birth_date")
            if row.choice(Sex, "sex") is not known.sex:
                raise row.error("differs from the member's sex on an earlier row", "sex")
            row.optional_day("death_date")
        plan_id = row.text("plan_id")
        if plan_id not in plans:
            raise row.error(f"plan {plan_id!r} is not in plans", "plan_id")
        span = _span(row, "enrollment_start_date", "enrollment_end_date")
        coverage[(member_id, plan_id, span.start)] = CoverageSpan(member_id, plan_id, span)

    residences: dict[tuple[str, date], ResidenceSpan] = {}
    for row in _rows(_read(directory, "member_residence")):
        member_id = row.text("member_id")
        if member_id not in members:
            raise row.error(f"member {member_id!r} is not in eligibility", "member_id")
        setting = row.choice(ResidenceSetting, "setting")
        span = _span(row, "start_date", "end_date")
        residences[(member_id, span.start)] = ResidenceSpan(
            member_id, setting, span, row.optional_text("facility_npi")
        )

    notices: dict[tuple[str, str | None, str | None, date], TestingPreauthNotice] = {}
    for row in _rows(_read(directory, "testing_preauth_notices")):
        plan_id = row.text("plan_id")
        if plan_id not in plans:
            raise row.error(f"plan {plan_id!r} is not in plans", "plan_id")
        notice_member = row.optional_text("member_id")
        if notice_member is not None and notice_member not in members:
            raise row.error(f"member {notice_member!r} is not in eligibility", "member_id")
        provider_npi = row.optional_text("provider_npi")
        span = _span(row, "effective_from", "effective_to")
        with _at(row):
            notice = TestingPreauthNotice(plan_id, span, provider_npi, notice_member)
        notices[(plan_id, provider_npi, notice_member, span.start)] = notice

    return Population(
        plans=tuple(plans.values()),
        members=tuple(members.values()),
        coverage=tuple(coverage.values()),
        residences=tuple(residences.values()),
        organizations=tuple(organizations.values()),
        providers=tuple(providers.values()),
        staff=tuple(staff.values()),
        testing_notices=tuple(notices.values()),
    )


# -- loading ------------------------------------------------------------------------------------


def _in_batches(
    what: str, items: Sequence[Any], write: Callable[[Sequence[Any]], int], progress: Progress | None
) -> None:
    total = len(items)
    if progress is not None:
        progress(what, 0, total)
    for start in range(0, total, BATCH):
        chunk = items[start : start + BATCH]
        write(chunk)
        if progress is not None:
            progress(what, start + len(chunk), total)


def load_population(
    directory: Path,
    uow_factory: Callable[[], UnitOfWork],
    *,
    progress: Progress | None = None,
) -> dict[str, int]:
    """Validate the files, then upsert everything in one transaction. Returns rows per entity."""
    population = read_population(directory)
    with uow_factory() as uow:
        # Referenced rows first so foreign keys hold at every statement.
        _in_batches("plans", population.plans, uow.plans.upsert_many, progress)
        _in_batches("organizations", population.organizations, uow.organizations.upsert_many, progress)
        _in_batches("providers", population.providers, uow.providers.upsert_many, progress)
        _in_batches("staff", population.staff, uow.staff.upsert_many, progress)
        _in_batches("members", population.members, uow.members.upsert_many, progress)
        _in_batches("coverage", population.coverage, uow.coverage.upsert_many, progress)
        _in_batches("residences", population.residences, uow.residence.upsert_many, progress)
        _in_batches("testing_notices", population.testing_notices, uow.testing_notices.upsert_many, progress)
        uow.commit()
    return population.counts()
