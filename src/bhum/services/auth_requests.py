"""Service request files (JSON) in and determinations (JSON) out.

A request names the member, providers, service codes, units, span, urgency and review kind, and
carries structured clinical information (issue 3 item 2) plus the program facts a criterion needs
(consecutive hours a day, other services during the stay, attendance and progress for a concurrent
review). ``eligibility`` is read only by ``evaluate`` (no store); ``submit`` reads the store.
Every problem raises InputError naming the source, the request and the field.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from bhum.domain.authorization import ReviewKind, ServiceRequest, Urgency
from bhum.domain.clinical import (
    AsamDimension,
    AsamRisk,
    ClinicalInformation,
    CrossCuttingDomain,
    Goal,
    PriorTreatment,
    RiskAssessment,
    RiskLevel,
    SeverityLevel,
    TreatmentResponse,
)
from bhum.domain.determination import Determination
from bhum.domain.errors import InputError
from bhum.domain.members import LineOfBusiness
from bhum.domain.values import ICD10CM, Code, DateSpan, parse_date
from bhum.policy import resolve_system


@dataclass(frozen=True, slots=True)
class ProgramFacts:
    """What the IOP criteria need beyond the clinical information."""

    consecutive_hours_per_day: float | None = None  # IOP-04
    other_services: tuple[Code, ...] = ()  # IOP-02: services the member gets during the stay
    scheduled_hours: float | None = None  # IOP-09 (concurrent review)
    attended_hours: float | None = None
    progress: TreatmentResponse | None = None  # MN-03 (concurrent review)
    treatment_plan_changed: bool | None = None
    assessor_licensed: bool | None = None  # IOP-10, when the assessor has no staff record here
    level_of_care: str = "iop"
    admission_date: date | None = None  # IOP-08 for a concurrent review: the first day of the stay

    def to_doc(self) -> dict[str, Any]:
        return {
            "consecutive_hours_per_day": self.consecutive_hours_per_day,
            "other_services": [_code_doc(c) for c in self.other_services],
            "scheduled_hours": self.scheduled_hours,
            "attended_hours": self.attended_hours,
            "progress": self.progress.value if self.progress else None,
            "treatment_plan_changed": self.treatment_plan_changed,
            "assessor_licensed": self.assessor_licensed,
            "level_of_care": self.level_of_care,
            "admission_date": None if self.admission_date is None else self.admission_date.isoformat(),
        }


@dataclass(frozen=True, slots=True)
class Eligibility:
    """For ``evaluate`` without a store: the member's birth date, plan and coverage."""

    birth_date: date | None
    line_of_business: LineOfBusiness
    bh_benefit: bool
    coverage: DateSpan | None


@dataclass(frozen=True, slots=True)
class Submission:
    request: ServiceRequest
    program: ProgramFacts
    eligibility: Eligibility | None = None


class _Reader:
    def __init__(self, source: str | None, record: str | None) -> None:
        self.source = source
        self.record = record

    def error(self, message: str, field: str) -> InputError:
        return InputError(message, field=field, record=self.record, source=self.source)

    def obj(self, doc: Any, field: str) -> Mapping[str, Any]:
        if not isinstance(doc, Mapping):
            raise self.error("expected an object", field)
        return doc

    def need(self, doc: Mapping[str, Any], key: str, field: str) -> Any:
        value = doc.get(key)
        if value is None or value == "":
            raise self.error("is required", field)
        return value

    def text(self, doc: Mapping[str, Any], key: str, field: str, *, required: bool = True) -> str | None:
        value = self.need(doc, key, field) if required else doc.get(key)
        if value is None:
            return None
        if not isinstance(value, str) or not value.strip():
            raise self.error("expected a non-blank string", field)
        return value.strip()

    def number(self, doc: Mapping[str, Any], key: str, field: str) -> float | None:
        value = doc.get(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.error("expected a number", field)
        if value < 0:
            raise self.error("cannot be negative", field)
        return float(value)

    def integer(self, doc: Mapping[str, Any], key: str, field: str, *, required: bool = False) -> int | None:
        value = self.need(doc, key, field) if required else doc.get(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.error("expected a whole number", field)
        return value

    def boolean(self, doc: Mapping[str, Any], key: str, field: str) -> bool | None:
        value = doc.get(key)
        if value is None:
            return None
        if not isinstance(value, bool):
            raise self.error("expected true or false", field)
        return value

    def day(self, value: Any, field: str) -> date:
        if not isinstance(value, str):
            raise self.error("expected a date (YYYY-MM-DD)", field)
        return parse_date(value, field=field, record=self.record, source=self.source)

    def moment(self, value: Any, field: str) -> datetime:
        try:
            moment = datetime.fromisoformat(str(value))
        except ValueError as exc:
            raise self.error("expected an ISO timestamp with a time zone", field) from exc
        if moment.tzinfo is None:
            raise self.error("the timestamp needs a time zone", field)
        return moment

    def code(self, doc: Any, field: str) -> Code:
        item = self.obj(doc, field)
        system_name = self.text(item, "system", f"{field}.system")
        assert system_name is not None
        system = resolve_system(system_name)
        if system is None:
            raise self.error(f"unknown code system {system_name!r}", f"{field}.system")
        code = self.text(item, "code", f"{field}.code")
        assert code is not None
        display = item.get("display")
        return Code(system, code, display if isinstance(display, str) else None)

    def enum(self, kind: Any, value: Any, field: str) -> Any:
        try:
            return kind(value)
        except (ValueError, KeyError) as exc:
            allowed = ", ".join(str(getattr(m, "value", m)) for m in kind)
            raise self.error(f"{value!r} is not one of {allowed}", field) from exc


def parse_submission(doc: Any, *, source: str | None = None) -> Submission:
    """Parse a request document. Raises InputError naming the field on any problem."""
    top = _Reader(source, None).obj(doc, "request")
    record = top.get("request_id") if isinstance(top.get("request_id"), str) else None
    r = _Reader(source, record)
    request_id = r.text(top, "request_id", "request_id")
    member = r.obj(r.need(top, "member", "member"), "member")
    member_id = r.text(member, "member_id", "member.member_id")
    requesting = r.text(top, "requesting_provider_npi", "requesting_provider_npi")
    servicing = r.text(top, "servicing_provider_npi", "servicing_provider_npi") or requesting
    for name, npi in (("requesting_provider_npi", requesting), ("servicing_provider_npi", servicing)):
        if npi is None or len(npi) != 10 or not npi.isdigit():
            raise r.error("an NPI has 10 digits", name)
    codes_doc = r.need(top, "service_codes", "service_codes")
    if not isinstance(codes_doc, list) or not codes_doc:
        raise r.error("list at least one service code", "service_codes")
    services = tuple(r.code(c, f"service_codes[{i}]") for i, c in enumerate(codes_doc))
    units = r.integer(top, "requested_units", "requested_units", required=True)
    span_doc = r.obj(r.need(top, "requested_span", "requested_span"), "requested_span")
    start = r.day(r.need(span_doc, "start", "requested_span.start"), "requested_span.start")
    end = r.day(r.need(span_doc, "end", "requested_span.end"), "requested_span.end")
    if end < start:
        raise r.error("the span ends before it starts", "requested_span.end")
    urgency = r.enum(Urgency, top.get("urgency", "standard"), "urgency")
    review_kind = r.enum(ReviewKind, top.get("review_kind", "pre_service"), "review_kind")
    received_at = r.moment(r.need(top, "received_at", "received_at"), "received_at")
    clinical = _clinical(r, r.obj(r.need(top, "clinical", "clinical"), "clinical"))
    program = _program(r, r.obj(top.get("program") or {}, "program"))
    eligibility = _eligibility(r, top.get("eligibility"), member)
    try:
        request = ServiceRequest(
            request_id=str(request_id),
            member_id=str(member_id),
            requesting_provider_npi=str(requesting),
            servicing_provider_npi=str(servicing),
            service_codes=services,
            requested_units=int(units or 0),
            requested_span=DateSpan(start, end),
            urgency=urgency,
            review_kind=review_kind,
            received_at=received_at,
            clinical=clinical,
            related_authorization_id=r.text(
                top, "related_authorization_id", "related_authorization_id", required=False
            ),
        )
    except InputError as exc:
        raise r.error(exc.message, exc.field or "request") from exc
    return Submission(request, program, eligibility)


def _clinical(r: _Reader, doc: Mapping[str, Any]) -> ClinicalInformation:
    diagnoses_doc = r.need(doc, "diagnoses", "clinical.diagnoses")
    if not isinstance(diagnoses_doc, list) or not diagnoses_doc:
        raise r.error("list at least one ICD-10-CM diagnosis", "clinical.diagnoses")
    diagnoses = []
    for i, item in enumerate(diagnoses_doc):
        code = r.code(item, f"clinical.diagnoses[{i}]")
        if code.system != ICD10CM:
            raise r.error(f"{code.code!r} is not an ICD-10-CM code", f"clinical.diagnoses[{i}].system")
        diagnoses.append(code)
    cross = r.obj(doc.get("cross_cutting") or {}, "clinical.cross_cutting")
    asam = r.obj(doc.get("asam") or {}, "clinical.asam")
    risks = doc.get("risk_assessments") or []
    priors = doc.get("prior_treatment") or []
    goals = doc.get("goals") or []
    for name, value in (("risk_assessments", risks), ("prior_treatment", priors), ("goals", goals)):
        if not isinstance(value, list):
            raise r.error("expected a list", f"clinical.{name}")
    exam = doc.get("physical_exam_date")
    try:
        return ClinicalInformation(
            diagnoses=tuple(diagnoses),
            cross_cutting=tuple(
                (
                    r.enum(CrossCuttingDomain, k, f"clinical.cross_cutting.{k}"),
                    r.enum(SeverityLevel, v, f"clinical.cross_cutting.{k}"),
                )
                for k, v in cross.items()
            ),
            asam=tuple(
                (
                    r.enum(AsamDimension, int(k) if str(k).isdigit() else k, f"clinical.asam.{k}"),
                    r.enum(AsamRisk, v, f"clinical.asam.{k}"),
                )
                for k, v in asam.items()
            ),
            locus_level=r.integer(doc, "locus_level", "clinical.locus_level"),
            functioning=str(doc.get("functioning") or ""),
            risk_assessments=tuple(_risk(r, item, i) for i, item in enumerate(risks)),
            prior_treatment=tuple(_prior(r, item, i) for i, item in enumerate(priors)),
            goals=tuple(_goal(r, item, i) for i, item in enumerate(goals)),
            physical_exam_date=None if exam is None else r.day(exam, "clinical.physical_exam_date"),
            planned_hours_per_week=r.number(doc, "planned_hours_per_week", "clinical.planned_hours_per_week"),
            planned_days_per_week=r.integer(doc, "planned_days_per_week", "clinical.planned_days_per_week"),
        )
    except InputError as exc:
        if exc.record is not None:
            raise
        raise r.error(exc.message, f"clinical.{exc.field}") from exc


def _risk(r: _Reader, item: Any, i: int) -> RiskAssessment:
    field = f"clinical.risk_assessments[{i}]"
    doc = r.obj(item, field)
    return RiskAssessment(
        assessed_on=r.day(r.need(doc, "assessed_on", f"{field}.assessed_on"), f"{field}.assessed_on"),
        suicide_risk=r.enum(RiskLevel, doc.get("suicide_risk", "none"), f"{field}.suicide_risk"),
        homicide_risk=r.enum(RiskLevel, doc.get("homicide_risk", "none"), f"{field}.homicide_risk"),
        self_care_risk=r.enum(RiskLevel, doc.get("self_care_risk", "none"), f"{field}.self_care_risk"),
        assessed_by_staff_id=r.text(
            doc, "assessed_by_staff_id", f"{field}.assessed_by_staff_id", required=False
        ),
    )


def _prior(r: _Reader, item: Any, i: int) -> PriorTreatment:
    field = f"clinical.prior_treatment[{i}]"
    doc = r.obj(item, field)
    end = doc.get("end")
    return PriorTreatment(
        level_of_care=str(r.text(doc, "level_of_care", f"{field}.level_of_care")),
        start=r.day(r.need(doc, "start", f"{field}.start"), f"{field}.start"),
        end=None if end is None else r.day(end, f"{field}.end"),
        response=r.enum(TreatmentResponse, doc.get("response", "unknown"), f"{field}.response"),
    )


def _goal(r: _Reader, item: Any, i: int) -> Goal:
    field = f"clinical.goals[{i}]"
    doc = r.obj(item, field)
    interventions = doc.get("interventions") or []
    addresses = doc.get("addresses") or []
    if not isinstance(interventions, list) or not isinstance(addresses, list):
        raise r.error("interventions and addresses are lists", field)
    return Goal(
        description=str(r.text(doc, "description", f"{field}.description")),
        interventions=tuple(str(x) for x in interventions),
        addresses=tuple(str(x) for x in addresses),
    )


def _program(r: _Reader, doc: Mapping[str, Any]) -> ProgramFacts:
    others = doc.get("other_services") or []
    if not isinstance(others, list):
        raise r.error("expected a list", "program.other_services")
    progress = doc.get("progress")
    return ProgramFacts(
        consecutive_hours_per_day=r.number(
            doc, "consecutive_hours_per_day", "program.consecutive_hours_per_day"
        ),
        other_services=tuple(r.code(c, f"program.other_services[{i}]") for i, c in enumerate(others)),
        scheduled_hours=r.number(doc, "scheduled_hours", "program.scheduled_hours"),
        attended_hours=r.number(doc, "attended_hours", "program.attended_hours"),
        progress=None if progress is None else r.enum(TreatmentResponse, progress, "program.progress"),
        treatment_plan_changed=r.boolean(doc, "treatment_plan_changed", "program.treatment_plan_changed"),
        assessor_licensed=r.boolean(doc, "assessor_licensed", "program.assessor_licensed"),
        level_of_care=str(doc.get("level_of_care") or "iop"),
        admission_date=None
        if doc.get("admission_date") is None
        else r.day(doc.get("admission_date"), "program.admission_date"),
    )


def _eligibility(r: _Reader, doc: Any, member: Mapping[str, Any]) -> Eligibility | None:
    birth = member.get("birth_date")
    if doc is None:
        return None
    e = r.obj(doc, "eligibility")
    coverage = e.get("coverage")
    span = None
    if coverage is not None:
        c = r.obj(coverage, "eligibility.coverage")
        start = r.day(r.need(c, "start", "eligibility.coverage.start"), "eligibility.coverage.start")
        end = c.get("end")
        span = DateSpan(start, None if end is None else r.day(end, "eligibility.coverage.end"))
    bh = r.boolean(e, "bh_benefit", "eligibility.bh_benefit")
    return Eligibility(
        birth_date=None if birth is None else r.day(birth, "member.birth_date"),
        line_of_business=r.enum(
            LineOfBusiness, e.get("line_of_business", "medicaid"), "eligibility.line_of_business"
        ),
        bh_benefit=True if bh is None else bh,
        coverage=span,
    )


# -- out -------------------------------------------------------------------------------------------


def _code_doc(code: Code) -> dict[str, Any]:
    return {"system": code.system, "code": code.code, "display": code.display}


def _value(value: Any) -> Any:
    if isinstance(value, Code):
        return _code_doc(value)
    if isinstance(value, date | datetime):
        return value.isoformat()
    if isinstance(value, list | tuple | set | frozenset):
        return [_value(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): _value(v) for k, v in value.items()}
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    return str(value)


def determination_doc(determination: Determination) -> dict[str, Any]:
    """The determination as JSON: outcome, every criterion with its status and evidence, open
    criteria, reasons, recommendations and flags."""
    return {
        "outcome": determination.outcome.value,
        "criteria": [
            {
                "criterion": c.criterion,
                "rule_ids": list(c.rule_ids),
                "title": c.title,
                "status": c.status.value,
                "sentence": c.sentence,
                "evidence": {name: _value(v) for name, v in c.evidence},
                "pack": c.pack,
                "codes": [_code_doc(code) for code in c.codes],
            }
            for c in determination.criteria
        ],
        "open_criteria": [c.criterion for c in determination.open_criteria],
        "reasons": [
            {"rule_id": x.rule_id, "text": x.text, "code": None if x.code is None else _code_doc(x.code)}
            for x in determination.reasons
        ],
        "recommendations": [
            {
                "recommendation": n.recommendation.value,
                "rule_id": n.rule_id,
                "text": n.text,
                "step_down_to": n.step_down_to,
            }
            for n in determination.recommendations
        ],
        "flags": list(determination.flags),
        "administrative": None
        if determination.administrative is None
        else {
            "reason": determination.administrative.reason.value,
            "rule_id": determination.administrative.rule_id,
            "text": determination.administrative.text,
            "codes": [_code_doc(c) for c in determination.administrative.codes],
        },
    }


def json_value(value: Any) -> Any:
    """Any engine value as JSON (codes, dates, tuples)."""
    return _value(value)
