"""A tiny synthetic OPM world: three plans (OPM-08 in, BH carved out, OPM excluded), members, two
provider organizations, a migrated store (SQLite and PostgreSQL) and a counting letter writer."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bhum.adapters.letters import write as write_pdf
from bhum.adapters.store import SqlStore
from bhum.adapters.store.opm import OpmSqlUnitOfWork
from bhum.domain.letters import LetterContent
from bhum.domain.members import Address, CoverageSpan, LineOfBusiness, Member, Plan, Sex
from bhum.domain.opm import ClaimService
from bhum.domain.providers import ContractType, EntityType, Organization, Provider
from bhum.domain.values import CPT, Code, DateSpan
from bhum.policy import load_packs
from bhum.services.opm import OpmParameters, OutreachSettings
from bhum.services.opm_records import StoredFlag
from tests.integration.conftest import _migrated_postgres, _migrated_sqlite, store  # noqa: F401

TZ = ZoneInfo("America/Chicago")
AS_OF = date(2026, 6, 30)
LETTER_DATE = date(2026, 7, 1)
NOW = datetime(2026, 7, 1, 14, 0, tzinfo=UTC)  # 09:00 in Chicago on the letter date
PACKS = Path(__file__).resolve().parents[2] / "packs"

# Valid-looking synthetic NPIs (10 digits).
NPI_A = "1234567893"  # Riverside CMHC clinician
NPI_B = "1245319599"  # Northside OPBH clinician


@pytest.fixture(scope="session")
def parameters() -> OpmParameters:
    return OpmParameters.from_packs(load_packs(PACKS))


def _member(i: int) -> Member:
    return Member(
        member_id=f"M{i}",
        first_name=f"Syn{i}",
        last_name="Thetic",
        sex=Sex.UNKNOWN,
        birth_date=date(1985, 1, 1 + i),
        address=Address(f"{i} Test Way", "Tulsa", "OK", "74100"),
    )


# member -> plan: M1..M4 in the OPM plan, M5 in a plan without BH benefits, M6 in a plan that excludes
# outpatient management (OPM-08), M7 flagged but not loaded.
MEMBER_PLANS = {1: "P-OPM", 2: "P-OPM", 3: "P-OPM", 4: "P-OPM", 5: "P-NOBH", 6: "P-EXCL"}


def populate(sql_store: SqlStore) -> None:
    with OpmSqlUnitOfWork(sql_store.session_factory) as uow:
        uow.plans.upsert_many(
            [
                Plan(
                    "P-OPM", "Synthetic BH", "Synth", LineOfBusiness.MEDICAID, True, True, "America/Chicago"
                ),
                Plan(
                    "P-NOBH", "Carved out", "Synth", LineOfBusiness.COMMERCIAL, False, True, "America/Chicago"
                ),
                Plan("P-EXCL", "No OPM", "Synth", LineOfBusiness.COMMERCIAL, True, False, "America/Chicago"),
            ]
        )
        uow.members.upsert_many([_member(i) for i in MEMBER_PLANS])
        uow.coverage.upsert_many(
            [CoverageSpan(f"M{i}", plan, DateSpan(date(2026, 1, 1))) for i, plan in MEMBER_PLANS.items()]
        )
        uow.organizations.upsert_many(
            [
                Organization("O-A", "Riverside CMHC", ContractType.CMHC),
                Organization("O-B", "Northside OPBH", ContractType.OPBH),
            ]
        )
        uow.providers.upsert_many(
            [
                Provider(NPI_A, "Dr. A Synthetic", EntityType.INDIVIDUAL, organization_id="O-A"),
                Provider(NPI_B, "Dr. B Synthetic", EntityType.INDIVIDUAL, organization_id="O-B"),
            ]
        )
        uow.commit()


@pytest.fixture
def world(store: SqlStore) -> SqlStore:  # noqa: F811
    populate(store)
    return store


def uow_factory(sql_store: SqlStore) -> OpmSqlUnitOfWork:
    return OpmSqlUnitOfWork(sql_store.session_factory)


def flag(member: str, rank: int, rule: str = "CI-FUH-7", score: float = 2.0) -> StoredFlag:
    return StoredFlag(
        member_id=member,
        rule_id=rule,
        as_of=AS_OF,
        member_rank=rank,
        member_score=score,
        implements="OPM-03;OPM-09",
        source="HEDIS FUH",
        title="No follow-up within 7 days of a mental-health hospitalization",
        measure="follow-up visits",
        value=0.0,
        comparator="<",
        threshold=1.0,
        evidence="followup_visits=0 < 1",
        score=score,
        index_date=date(2026, 4, 3),
        claim_ids=(f"C-{member}",),
        claim_dates=(date(2026, 4, 3),),
        sentence="No follow-up within 7 days of a mental-health hospitalization: 0 is below 1.",
        pack_version="opm-analytics@2026.1",
    )


def services_for(members: list[str], npi: str = NPI_A) -> dict[str, tuple[ClaimService, ...]]:
    return {
        m: (ClaimService(f"C-{m}", date(2026, 4, 3), npi, Code(CPT, "90837", "Psychotherapy, 60 minutes")),)
        for m in members
    }


@dataclass
class CountingWriter:
    """The real typst writer, counting calls; ``fail_after`` letters it raises (a crash mid-run)."""

    fail_after: int | None = None
    calls: int = 0
    written: list[str] = field(default_factory=list)

    def __call__(self, content: LetterContent, directory: Path) -> Path:
        if self.fail_after is not None and self.calls >= self.fail_after:
            raise RuntimeError(f"injected crash after letter {self.calls}")
        self.calls += 1
        path = write_pdf(content, directory)
        self.written.append(content.letter_id)
        return path


def outreach_settings(
    tmp_path: Path,
    parameters: OpmParameters,
    writer: CountingWriter,
    *,
    capacity: int | None = None,
    as_of: date = AS_OF,
    letter_date: date = LETTER_DATE,
    now: datetime = NOW,
) -> OutreachSettings:
    return OutreachSettings(
        as_of=as_of,
        letter_date=letter_date,
        now=now,
        letters_dir=tmp_path / "letters",
        write_letter=writer,
        parameters=parameters,
        capacity=capacity,
    )


@pytest.fixture
def letters_dir(tmp_path: Path) -> Iterator[Path]:
    yield tmp_path / "letters"
