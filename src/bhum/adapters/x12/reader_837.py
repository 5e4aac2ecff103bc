"""837P (005010X222A2) and 837I (005010X223A3) claims -> `medical_claim` rows (one per service line).

The reader walks the segment stream once with a small loop state machine (2000A billing provider,
2000B subscriber, 2000C patient, 2300 claim, 2320/2330 other payer, 2400 service line, 2430 line
adjudication) and builds Arrow columns directly: no object per segment survives the claim it belongs
to. A claim is decided as a whole: a malformed segment inside it (truncated, bad date, missing
required element) rejects that claim with an ``X12InputError`` naming file, line, segment ordinal and
element, and reading continues with the next claim. ``parse_837`` raises the first error instead.

x12sdk's typed transaction models are the implementation-guide conformance gate
(``conformance=True``); they validate a whole transaction set at its SE, so they cannot isolate one
bad claim and run at a few thousand lines a second, which is why the row mapping does not go through
them. See docs/x12.md for the full mapping.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import pyarrow as pa

from bhum.adapters.x12.claim_schema import DIAGNOSIS_COLUMNS, MODIFIER_COLUMNS, X12_MEDICAL_CLAIM_SCHEMA
from bhum.adapters.x12.segments import (
    Delimiters,
    Segment,
    X12InputError,
    parse_d8,
    parse_hhmm,
    segments_from_path,
    segments_from_text,
)

PROFESSIONAL = "005010X222A2"
INSTITUTIONAL = "005010X223A3"
_CLAIM_TYPE = {PROFESSIONAL: "professional", INSTITUTIONAL: "institutional"}
_DATA_SOURCE = {PROFESSIONAL: "x12_837p", INSTITUTIONAL: "x12_837i"}

_NUMBER = re.compile(r"^-?(?:\d+\.?\d*|\.\d+)$")
_PRINCIPAL_DX = {"ABK": "icd-10-cm", "BK": "icd-9-cm"}
_OTHER_DX = {"ABF": "icd-10-cm", "BF": "icd-9-cm"}
_FALLBACK_COMPONENT = ">"
_STILL_PATIENT = "30"  # CL103 patient status 30: still a patient, so no discharge date
_NOTE_KEYS = {"START", "STOP", "F2F", "TRAVEL", "ACTIVITY", "STAFF"}


@dataclass(frozen=True, slots=True)
class Read837Result:
    """The lines of every claim that read cleanly, and one error per claim (or envelope) that did not."""

    table: pa.Table
    errors: tuple[X12InputError, ...]


@dataclass(slots=True)
class _Notes:
    """bhum's NTE convention for timed services (docs/x12.md): START= STOP= F2F= TRAVEL= ACTIVITY= STAFF=."""

    start_time: str | None = None
    stop_time: str | None = None
    face_to_face_minutes: int | None = None
    travel_minutes: int | None = None
    activity_code: str | None = None
    rendering_staff_id: str | None = None


@dataclass(slots=True)
class _Line:
    lx: Segment
    number: int
    service: Segment | None = None
    hcpcs_code: str | None = None
    modifiers: list[str] = field(default_factory=list)
    revenue_center_code: str | None = None
    quantity: float | None = None
    unit_basis: str | None = None
    charge: float | None = None
    place_of_service: str | None = None
    start: date | None = None
    end: date | None = None
    start_time: str | None = None
    stop_time: str | None = None
    rendering_npi: str | None = None
    facility_npi: str | None = None
    notes: _Notes = field(default_factory=_Notes)


@dataclass(slots=True)
class _Claim:
    clm: Segment
    claim_id: str
    member_id: str | None
    member_segment: Segment | None
    payer: str | None
    plan: str | None
    billing_npi: str | None
    loop: str = "2300"
    place_of_service: str | None = None
    bill_type: str | None = None
    statement_start: date | None = None
    statement_end: date | None = None
    admission: date | None = None
    discharge: date | None = None
    admit_type: str | None = None
    admit_source: str | None = None
    disposition: str | None = None
    principal_dx: str | None = None
    dx_type: str | None = None
    other_dx: list[str] = field(default_factory=list)
    drg: str | None = None
    rendering_npi: str | None = None
    attending_npi: str | None = None
    facility_npi: str | None = None
    notes: _Notes = field(default_factory=_Notes)
    lines: list[_Line] = field(default_factory=list)


class _Reader:
    def __init__(self, source: str, delimiters: Delimiters, *, strict: bool) -> None:
        self.source = source
        self.component = delimiters.component
        self.strict = strict
        self.errors: list[X12InputError] = []
        self.columns: dict[str, list[Any]] = {name: [] for name in X12_MEDICAL_CLAIM_SCHEMA.names}
        self.implementation: str | None = None
        self.group_implementation: str | None = None
        self.st: Segment | None = None
        self.billing_npi: str | None = None
        self.member_id: str | None = None
        self.member_segment: Segment | None = None
        self.patient_member_id: str | None = None
        self.payer: str | None = None
        self.plan: str | None = None
        self.in_patient_loop = False
        self.claim: _Claim | None = None
        self.skipping = False  # inside a claim already rejected: ignore its remaining segments

    # -- errors ---------------------------------------------------------------------------------
    def fail(self, error: X12InputError) -> None:
        if self.strict:
            raise error
        self.errors.append(error)

    def err(
        self, segment: Segment, message: str, index: int | None = None, element: str | None = None
    ) -> X12InputError:
        claim_id = self.claim.claim_id if self.claim is not None else None
        return segment.error(message, source=self.source, index=index, claim_id=claim_id, element=element)

    def required(self, segment: Segment, index: int, what: str) -> str:
        value = segment.get(index)
        if not value:
            raise self.err(segment, f"missing required element {segment.tag}{index:02d} ({what})", index)
        return value

    def number(self, segment: Segment, index: int, what: str) -> float:
        value = self.required(segment, index, what)
        if not _NUMBER.match(value):
            raise self.err(segment, f"{value!r} is not a number ({what})", index)
        return float(value)

    # -- the segment stream ---------------------------------------------------------------------
    def feed(self, segment: Segment) -> None:
        tag = segment.tag
        if tag in ("CLM", "HL", "SE", "ST", "GE", "IEA", "GS"):
            self.close_claim()
        elif self.skipping:
            return
        try:
            if self.claim is not None:
                self.claim_segment(self.claim, segment)
            else:
                self.header_segment(segment)
        except X12InputError as error:
            if self.claim is not None:
                self.claim = None
                self.skipping = True
            self.fail(error)

    def header_segment(self, segment: Segment) -> None:
        tag = segment.tag
        if tag == "GS":
            self.group_implementation = segment.get(8) or None
        elif tag == "ST":
            if segment.get(1) != "837":
                raise self.err(segment, f"transaction set {segment.get(1)!r} is not an 837", 1)
            implementation = segment.get(3) or self.group_implementation
            if implementation not in _CLAIM_TYPE:
                raise self.err(
                    segment,
                    f"implementation {implementation!r} is not 837P {PROFESSIONAL} or 837I {INSTITUTIONAL}",
                    3,
                )
            self.implementation = implementation
            self.st = segment
            self.billing_npi = self.member_id = self.member_segment = self.payer = self.plan = None
        elif tag == "SE":
            self.close_transaction(segment)
        elif tag == "HL":
            level = segment.get(3)
            if level == "20":
                self.billing_npi = None
            elif level == "22":
                self.member_id = self.member_segment = self.payer = self.plan = None
                self.in_patient_loop = False
            elif level == "23":
                self.in_patient_loop = True
            else:
                raise self.err(segment, f"hierarchical level {level!r} is not 20, 22 or 23", 3)
            self.patient_member_id = None
        elif tag == "NM1":
            entity = segment.get(1)
            if entity == "85":
                self.billing_npi = self.npi(segment)
            elif entity == "IL":
                self.member_id = segment.get(9) or None
                self.member_segment = segment
            elif entity == "PR":
                self.payer = segment.get(3) or None
            elif entity == "QC" and segment.get(9):
                # 5010 sends a patient with their own member id as the subscriber; honour one if present
                self.patient_member_id = segment.get(9)
        elif tag == "SBR":
            self.plan = segment.get(4) or None
        elif tag == "CLM":
            self.open_claim(segment)

    def npi(self, segment: Segment) -> str | None:
        # kept as sent: the shared samples carry 9-digit "NPIs" that x12sdk accepts too
        if segment.get(8) != "XX":
            return None
        return segment.get(9) or None

    def split(self, composite: str) -> list[str]:
        """Components of a composite element.

        Some senders (several of the shared samples) declare ':' in ISA16 but write '>' in the body;
        when the declared separator is absent and '>' is present, '>' is taken as the separator.
        """
        if self.component not in composite and _FALLBACK_COMPONENT in composite:
            return composite.split(_FALLBACK_COMPONENT)
        return composite.split(self.component)

    def open_claim(self, segment: Segment) -> None:
        if self.implementation is None:
            raise self.err(segment, "a CLM segment outside an 837 transaction set (no ST before it)", 1)
        claim_id = segment.get(1).strip()
        self.skipping = False
        if not claim_id:
            self.skipping = True
            raise self.err(segment, "missing required element CLM01 (patient control number)", 1)
        claim = _Claim(
            clm=segment,
            claim_id=claim_id,
            member_id=self.patient_member_id or self.member_id,
            member_segment=self.member_segment,
            payer=self.payer,
            plan=self.plan,
            billing_npi=self.billing_npi,
        )
        self.claim = claim
        self.number(segment, 2, "total claim charge amount")
        facility = self.split(self.required(segment, 5, "facility code value"))
        if self.implementation == INSTITUTIONAL:
            frequency = facility[2] if len(facility) > 2 else ""
            if len(facility[0]) != 2 or not frequency:
                raise self.err(
                    segment, f"{segment.get(5)!r} does not give a 2-digit facility type and a frequency", 5
                )
            claim.bill_type = facility[0] + frequency
        else:
            claim.place_of_service = facility[0]

    def claim_segment(self, claim: _Claim, segment: Segment) -> None:
        tag = segment.tag
        if tag == "LX":
            self.finish_line(claim)
            value = self.required(segment, 1, "assigned number")
            if not value.isdigit() or int(value) == 0:
                raise self.err(segment, f"{value!r} is not a positive line number", 1)
            claim.lines.append(_Line(lx=segment, number=int(value)))
            claim.loop = "2400"
        elif tag == "SBR":
            claim.loop = "2320"  # other subscriber: its NM1/DTP describe another payer, not this claim
        elif tag == "DTP":
            self.dtp(claim, segment)
        elif claim.loop == "2320":
            return
        elif tag == "SVD":
            claim.loop = "2430"
        elif claim.loop == "2430":
            return
        elif tag in ("SV1", "SV2"):
            if claim.loop != "2400" or not claim.lines:
                raise self.err(segment, f"{tag} outside a service line (no LX before it)")
            self.service(claim.lines[-1], segment)
        elif tag == "HI":
            self.diagnoses(claim, segment)
        elif tag == "CL1":
            claim.admit_type = segment.get(1) or None
            claim.admit_source = segment.get(2) or None
            claim.disposition = segment.get(3) or None
        elif tag == "NM1":
            entity = segment.get(1)
            if claim.loop == "2400":
                line = claim.lines[-1]
                if entity == "82":
                    line.rendering_npi = self.npi(segment)
                elif entity == "77":
                    line.facility_npi = self.npi(segment)
            elif entity == "82":
                claim.rendering_npi = self.npi(segment)
            elif entity == "77":
                claim.facility_npi = self.npi(segment)
            elif entity == "71":
                claim.attending_npi = self.npi(segment)
        elif tag == "NTE":
            self.notes(claim.lines[-1].notes if claim.loop == "2400" else claim.notes, segment)

    def dtp(self, claim: _Claim, segment: Segment) -> None:
        qualifier = self.required(segment, 1, "date/time qualifier")
        form = self.required(segment, 2, "date time period format qualifier")
        value = self.required(segment, 3, "date time period")
        src = self.source
        cid = claim.claim_id
        start_time = stop_time = None
        if form == "D8":
            start = end = parse_d8(value, segment=segment, index=3, source=src, claim_id=cid)
        elif form == "RD8":
            first, _, last = value.partition("-")
            start = parse_d8(first, segment=segment, index=3, source=src, claim_id=cid)
            end = parse_d8(last, segment=segment, index=3, source=src, claim_id=cid)
        elif form in ("DT", "RDT"):
            # DT: CCYYMMDDHHMM; RDT: CCYYMMDDHHMM-CCYYMMDDHHMM (start and stop of a timed service)
            first, _, last = value.partition("-")
            if len(first) != 12 or (form == "RDT" and len(last) != 12):
                raise self.err(segment, f"{value!r} does not match the {form} format", 3)
            start = end = parse_d8(first[:8], segment=segment, index=3, source=src, claim_id=cid)
            start_time = parse_hhmm(first[8:], segment=segment, index=3, source=src, claim_id=cid)
            if form == "RDT":
                end = parse_d8(last[:8], segment=segment, index=3, source=src, claim_id=cid)
                stop_time = parse_hhmm(last[8:], segment=segment, index=3, source=src, claim_id=cid)
        elif form == "TM":
            return  # an hour without a date (837I discharge hour): nothing the contract holds
        else:
            return  # other formats carry no calendar date
        if end < start:
            raise self.err(segment, f"the period {value!r} ends before it starts", 3)
        if claim.loop == "2320" or claim.loop == "2430":
            return
        if claim.loop == "2400":
            if qualifier == "472":
                line = claim.lines[-1]
                line.start, line.end = start, end
                line.start_time, line.stop_time = start_time, stop_time
        elif qualifier == "434":
            claim.statement_start, claim.statement_end = start, end
        elif qualifier == "435":
            claim.admission = start
        elif qualifier == "096":
            claim.discharge = start

    def service(self, line: _Line, segment: Segment) -> None:
        if line.service is not None:
            raise self.err(segment, f"a second {segment.tag} in service line {line.number}")
        line.service = segment
        if segment.tag == "SV1":
            procedure, charge, basis, quantity = 1, 2, 3, 4
            line.place_of_service = segment.get(5) or None
        else:
            revenue = self.required(segment, 1, "service line revenue code")
            if len(revenue) != 4 or not revenue.isdigit():
                raise self.err(segment, f"{revenue!r} is not a 4-digit revenue code", 1)
            line.revenue_center_code = revenue
            procedure, charge, basis, quantity = 2, 3, 4, 5
        composite = segment.get(procedure)
        if segment.tag == "SV1" and not composite:
            raise self.err(segment, "missing required element SV101 (procedure code)", procedure)
        if composite:
            parts = self.split(composite)
            if len(parts) < 2 or not parts[0] or not parts[1]:
                raise self.err(
                    segment,
                    f"{composite!r} needs a qualifier and a procedure code",
                    procedure,
                    element=f"{segment.tag}{procedure:02d}-2",
                )
            line.hcpcs_code = parts[1]
            line.modifiers = [m for m in parts[2:6] if m]
        line.charge = self.number(segment, charge, "line item charge amount")
        line.unit_basis = self.required(segment, basis, "unit or basis for measurement code")
        line.quantity = self.number(segment, quantity, "service unit count")
        if line.quantity < 0:
            raise self.err(segment, f"negative service unit count {line.quantity}", quantity)

    def diagnoses(self, claim: _Claim, segment: Segment) -> None:
        for index in range(1, len(segment.elements)):
            composite = segment.elements[index]
            if not composite:
                continue
            parts = self.split(composite)
            qualifier = parts[0]
            code = parts[1] if len(parts) > 1 else ""
            if (qualifier in _PRINCIPAL_DX or qualifier in _OTHER_DX or qualifier == "DR") and not code:
                raise self.err(segment, f"{composite!r} has a qualifier but no code", index)
            if qualifier in _PRINCIPAL_DX:
                claim.principal_dx = code
                claim.dx_type = _PRINCIPAL_DX[qualifier]
            elif qualifier in _OTHER_DX:
                claim.other_dx.append(code)
                claim.dx_type = claim.dx_type or _OTHER_DX[qualifier]
            elif qualifier == "DR":
                claim.drg = code

    def notes(self, notes: _Notes, segment: Segment) -> None:
        for token in segment.get(2).split():
            key, sep, value = token.partition("=")
            key = key.upper()
            if not sep or key not in _NOTE_KEYS:
                continue  # ordinary free text
            element = f"NTE02 {key}"
            if key in ("START", "STOP"):
                time = parse_hhmm(
                    value,
                    segment=segment,
                    index=2,
                    source=self.source,
                    element=element,
                    claim_id=self.claim.claim_id if self.claim else None,
                )
                if key == "START":
                    notes.start_time = time
                else:
                    notes.stop_time = time
            elif key in ("F2F", "TRAVEL"):
                if not value.isdigit():
                    raise self.err(segment, f"{value!r} is not a whole number of minutes", element=element)
                if key == "F2F":
                    notes.face_to_face_minutes = int(value)
                else:
                    notes.travel_minutes = int(value)
            elif key == "ACTIVITY":
                notes.activity_code = value.lower() or None
            else:
                notes.rendering_staff_id = value or None

    # -- closing --------------------------------------------------------------------------------
    def finish_line(self, claim: _Claim) -> None:
        if claim.lines and claim.lines[-1].service is None:
            line = claim.lines[-1]
            tag = "SV1" if self.implementation == PROFESSIONAL else "SV2"
            raise self.err(line.lx, f"service line {line.number} has no {tag} segment", element=tag)

    def close_claim(self) -> None:
        claim, self.claim = self.claim, None
        self.skipping = False
        if claim is None:
            return
        self.claim = claim  # so errors below name the claim
        try:
            self.finish_line(claim)
            self.emit(claim)
        except X12InputError as error:
            self.fail(error)
        finally:
            self.claim = None

    def emit(self, claim: _Claim) -> None:
        if not claim.lines:
            raise self.err(claim.clm, "the claim has no service lines (LX)", element="LX")
        if not claim.member_id:
            where = claim.member_segment or claim.clm
            raise self.err(
                where, "no member id: NM109 of the subscriber (2010BA NM1*IL) is empty", element="NM109"
            )
        institutional = self.implementation == INSTITUTIONAL
        for line in claim.lines:
            if line.start is None:
                if claim.statement_start is None:
                    raise self.err(
                        line.lx,
                        f"service line {line.number} has no service date (DTP*472) and the claim "
                        "has no statement dates (DTP*434)",
                        element="DTP*472",
                    )
                line.start, line.end = claim.statement_start, claim.statement_end
        starts = [line.start for line in claim.lines if line.start is not None]
        ends = [line.end for line in claim.lines if line.end is not None]
        claim_start = claim.statement_start or min(starts)
        claim_end = claim.statement_end or max(ends)
        discharge = claim.discharge
        if institutional and discharge is None and claim.disposition and claim.disposition != _STILL_PATIENT:
            discharge = (
                claim.statement_end
            )  # 837I carries only the discharge hour; the day is the last statement day
        dx = [claim.principal_dx] if claim.principal_dx else []
        dx.extend(claim.other_dx)
        dx = dx[: len(DIAGNOSIS_COLUMNS)]
        data_source = _DATA_SOURCE[self.implementation or PROFESSIONAL]
        claim_type = _CLAIM_TYPE[self.implementation or PROFESSIONAL]
        cols = self.columns
        for line in claim.lines:
            notes = line.notes
            rendering = line.rendering_npi or claim.rendering_npi
            if rendering is None:
                rendering = claim.attending_npi if institutional else claim.billing_npi
            facility = (
                line.facility_npi or claim.facility_npi or (claim.billing_npi if institutional else None)
            )
            row: dict[str, Any] = {
                "claim_id": claim.claim_id,
                "claim_line_number": line.number,
                "claim_type": claim_type,
                "person_id": None,
                "member_id": claim.member_id,
                "payer": claim.payer,
                "plan": claim.plan,
                "claim_start_date": claim_start,
                "claim_end_date": claim_end,
                "claim_line_start_date": line.start,
                "claim_line_end_date": line.end,
                "admission_date": claim.admission,
                "discharge_date": discharge,
                "admit_source_code": claim.admit_source,
                "admit_type_code": claim.admit_type,
                "discharge_disposition_code": claim.disposition,
                "place_of_service_code": None
                if institutional
                else (line.place_of_service or claim.place_of_service),
                "bill_type_code": claim.bill_type,
                "ms_drg_code": claim.drg,
                "revenue_center_code": line.revenue_center_code,
                "service_unit_quantity": line.quantity,
                "hcpcs_code": line.hcpcs_code,
                "rendering_npi": rendering,
                "billing_npi": claim.billing_npi,
                "facility_npi": facility,
                "paid_date": None,
                "paid_amount": None,
                "allowed_amount": None,
                "charge_amount": line.charge,
                "diagnosis_code_type": claim.dx_type,
                "service_start_time": line.start_time or notes.start_time or claim.notes.start_time,
                "service_stop_time": line.stop_time or notes.stop_time or claim.notes.stop_time,
                "face_to_face_minutes": _first(notes.face_to_face_minutes, claim.notes.face_to_face_minutes),
                "travel_minutes": _first(notes.travel_minutes, claim.notes.travel_minutes),
                "rendering_staff_id": notes.rendering_staff_id or claim.notes.rendering_staff_id,
                "activity_code": notes.activity_code or claim.notes.activity_code,
                "data_source": data_source,
                "service_unit_basis": line.unit_basis,
                "source_segment": line.lx.number,
            }
            for i, name in enumerate(MODIFIER_COLUMNS):
                row[name] = line.modifiers[i] if i < len(line.modifiers) else None
            for i, name in enumerate(DIAGNOSIS_COLUMNS):
                row[name] = dx[i] if i < len(dx) else None
            for name, values in cols.items():
                values.append(row[name])

    def close_transaction(self, se: Segment) -> None:
        st = self.st
        if st is None:
            raise self.err(se, "an SE segment without its ST", 1)
        count = se.get(1)
        actual = se.number - st.number + 1
        if not count.isdigit() or int(count) != actual:
            self.fail(self.err(se, f"SE01 says {count!r} segments but the transaction set has {actual}", 1))
        if se.get(2) != st.get(2):
            self.fail(self.err(se, f"SE02 {se.get(2)!r} does not match ST02 {st.get(2)!r}", 2))
        self.st = None
        self.implementation = None

    def finish(self, last: Segment | None) -> None:
        if self.claim is not None or self.st is not None:
            open_claim = self.claim
            self.claim = None
            where = last or (open_claim.clm if open_claim else None)
            message = "the file ends inside a transaction set (no SE): truncated"
            if open_claim is not None:
                message += f"; claim {open_claim.claim_id} is not read"
            error = X12InputError(
                message,
                source=self.source,
                line=where.line if where else None,
                segment_number=where.number if where else None,
                segment_tag=where.tag if where else None,
                element="SE",
                claim_id=open_claim.claim_id if open_claim else None,
            )
            self.fail(error)

    def table(self) -> pa.Table:
        return pa.table(self.columns, schema=X12_MEDICAL_CLAIM_SCHEMA)


def _first(*values: int | None) -> int | None:
    for value in values:
        if value is not None:
            return value
    return None


def _run(source: str, delimiters: Delimiters, segments: Iterator[Segment], *, strict: bool) -> Read837Result:
    reader = _Reader(source, delimiters, strict=strict)
    last: Segment | None = None
    try:
        for segment in segments:
            last = segment
            reader.feed(segment)
    except X12InputError as error:
        if strict or error.element != "segment terminator":
            raise
        # a truncated last segment: the claim it sits in is not read, the claims before it are
        reader.claim = None
        reader.fail(error)
        reader.st = None
    reader.finish(last)
    return Read837Result(reader.table(), tuple(reader.errors))


def read_837(path: str | Path, *, conformance: bool = False) -> Read837Result:
    """Every service line of every claim that reads cleanly, plus one error per claim that does not.

    With ``conformance=True`` the file is also validated by x12sdk's typed 5010 models; a file they
    reject contributes no lines (the error names the loop path) so nothing is half-read.
    """
    file = Path(path)
    try:
        delimiters, segments = segments_from_path(file)
        result = _run(str(file), delimiters, segments, strict=False)
    except X12InputError as error:
        return Read837Result(X12_MEDICAL_CLAIM_SCHEMA.empty_table(), (error,))
    if conformance:
        problem = conformance_error(file)
        if problem is not None:
            return Read837Result(X12_MEDICAL_CLAIM_SCHEMA.empty_table(), (*result.errors, problem))
    return result


def parse_837(path: str | Path) -> pa.Table:
    """Strict reading: the whole file or an ``X12InputError`` for the first problem."""
    file = Path(path)
    delimiters, segments = segments_from_path(file)
    return _run(str(file), delimiters, segments, strict=True).table


def read_837_text(text: str, *, source: str = "<837>", strict: bool = False) -> Read837Result:
    """The same as ``read_837`` for X12 text already in memory (an API upload)."""
    delimiters, segments = segments_from_text(text, source=source)
    return _run(source, delimiters, segments, strict=strict)


def conformance_error(path: str | Path) -> X12InputError | None:
    """None when x12sdk's 005010 models accept every transaction set in the file, else the reason."""
    from pydantic import ValidationError
    from x12sdk.io import X12ModelReader

    try:
        with X12ModelReader(str(path)) as reader:
            for _ in reader.models():
                pass
    except ValidationError as exc:
        first = exc.errors()[0]
        loop_path = ".".join(str(part) for part in first["loc"])
        return X12InputError(
            f"x12sdk 5010 validation: {first['msg']} ({exc.error_count()} problem(s))",
            source=str(path),
            element=loop_path or None,
        )
    except Exception as exc:  # x12sdk raises KeyError/X12ParseException/ValueError on unknown shapes
        return X12InputError(f"x12sdk could not parse the file: {exc!r}", source=str(path))
    return None
