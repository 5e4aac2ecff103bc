"""Streaming X12 segment tokenizer that remembers where every segment came from.

x12sdk's ``X12SegmentReader`` strips newlines before splitting, so it cannot say on which line of the
file a segment started; an error report must (file, line, segment number, element). This tokenizer
reads the delimiters from the ISA header exactly as x12sdk does (element separator at offset 3,
repetition separator ISA11, component separator ISA16, segment terminator after ISA16) and yields
each segment with its ordinal in the file and its starting line.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from bhum.domain.errors import InputError

_ISA_LENGTH = 106  # the ISA header is fixed-width: 106 characters including its terminator
_CHUNK = 1 << 22


class X12InputError(InputError):
    """Bad X12 input, located by file, line, segment ordinal and element (e.g. ``SV104``)."""

    def __init__(
        self,
        message: str,
        *,
        source: str,
        line: int | None = None,
        segment_number: int | None = None,
        segment_tag: str | None = None,
        element: str | None = None,
        claim_id: str | None = None,
    ) -> None:
        self.line = line
        self.segment_number = segment_number
        self.segment_tag = segment_tag
        self.element = element
        self.claim_id = claim_id
        where = []
        if line is not None:
            where.append(f"line {line}")
        if segment_number is not None:
            where.append(f"segment {segment_number}" + (f" ({segment_tag})" if segment_tag else ""))
        if claim_id is not None:
            where.append(f"claim {claim_id}")
        super().__init__(message, field=element, record=", ".join(where) or None, source=source)


@dataclass(frozen=True, slots=True)
class Delimiters:
    element: str
    repetition: str
    component: str
    segment: str


@dataclass(frozen=True, slots=True)
class Segment:
    """One segment: ``elements[0]`` is the tag, so ``elements[4]`` is element 04 (e.g. SV104)."""

    tag: str
    elements: list[str]
    number: int  # 1-based ordinal of the segment in the file
    line: int  # 1-based line on which the segment starts

    def get(self, index: int) -> str:
        """Element ``index`` or "" when the segment stops before it (X12 drops trailing empties)."""
        return self.elements[index] if index < len(self.elements) else ""

    def error(
        self,
        message: str,
        *,
        source: str,
        index: int | None = None,
        claim_id: str | None = None,
        element: str | None = None,
    ) -> X12InputError:
        name = element if element is not None else (f"{self.tag}{index:02d}" if index is not None else None)
        return X12InputError(
            message,
            source=source,
            line=self.line,
            segment_number=self.number,
            segment_tag=self.tag,
            element=name,
            claim_id=claim_id,
        )


def read_delimiters(header: str, *, source: str) -> Delimiters:
    if not header.startswith("ISA"):
        raise X12InputError(
            "not an X12 interchange: the file must start with an ISA segment",
            source=source,
            line=1,
            segment_number=1,
            element="ISA",
        )
    if len(header) < _ISA_LENGTH:
        raise X12InputError(
            f"the ISA segment is truncated ({len(header)} of {_ISA_LENGTH} characters)",
            source=source,
            line=1,
            segment_number=1,
            segment_tag="ISA",
            element="ISA16",
        )
    delimiters = Delimiters(
        element=header[3], repetition=header[82], component=header[104], segment=header[105]
    )
    if len({delimiters.element, delimiters.component, delimiters.segment}) != 3:
        raise X12InputError(
            "the ISA segment declares clashing delimiters",
            source=source,
            line=1,
            segment_number=1,
            segment_tag="ISA",
            element="ISA16",
        )
    return delimiters


def _chunks(path: Path) -> Iterator[str]:
    with path.open("r", encoding="utf-8", errors="strict", newline="") as handle:
        while chunk := handle.read(_CHUNK):
            yield chunk


def iter_segments(text_chunks: Iterator[str], *, source: str) -> tuple[Delimiters, Iterator[Segment]]:
    """Delimiters and a lazy stream of segments from chunks of X12 text."""
    buffer = ""
    for chunk in text_chunks:
        buffer += chunk
        if len(buffer.lstrip("\ufeff \r\n\t")) >= _ISA_LENGTH:
            break
    buffer = buffer.lstrip("\ufeff")
    lines_before = buffer[: len(buffer) - len(buffer.lstrip())].count("\n")
    buffer = buffer.lstrip()
    delimiters = read_delimiters(buffer[:_ISA_LENGTH], source=source)
    return delimiters, _segments(buffer, text_chunks, delimiters, lines_before + 1, source)


def _segments(
    buffer: str, rest: Iterator[str], delimiters: Delimiters, line: int, source: str
) -> Iterator[Segment]:
    terminator = delimiters.segment
    separator = delimiters.element
    newline_terminated = terminator == "\n"
    number = 0
    pending = buffer
    exhausted = False
    while True:
        if not exhausted:
            chunk = next(rest, None)
            if chunk is None:
                exhausted = True
            else:
                pending += chunk
                if terminator not in chunk:
                    continue
        parts = pending.split(terminator)
        pending = parts.pop()  # an unterminated tail waits for the next chunk
        for part in parts:
            stripped = part.strip()
            if newline_terminated:
                # the terminator itself is the newline: each segment ends one line
                start = line
                line += 1
            else:
                leading = len(part) - len(part.lstrip())
                start = line + part.count("\n", 0, leading)
                line += part.count("\n")
            if not stripped:
                continue
            number += 1
            elements = stripped.split(separator)
            yield Segment(elements[0].upper(), elements, number, start)
        if exhausted:
            tail = pending.strip()
            if tail:
                number += 1
                leading = len(pending) - len(pending.lstrip())
                start = line + pending.count("\n", 0, leading)
                raise X12InputError(
                    f"the file ends inside a segment that has no terminator {terminator!r}: "
                    f"{tail[:40]!r} (truncated file)",
                    source=source,
                    line=start,
                    segment_number=number,
                    segment_tag=tail.split(separator)[0].upper(),
                    element="segment terminator",
                )
            return


def segments_from_path(path: Path) -> tuple[Delimiters, Iterator[Segment]]:
    return iter_segments(_chunks(path), source=str(path))


def segments_from_text(text: str, *, source: str) -> tuple[Delimiters, Iterator[Segment]]:
    return iter_segments(iter([text]), source=source)


def parse_d8(text: str, *, segment: Segment, index: int, source: str, claim_id: str | None = None) -> date:
    """A CCYYMMDD date, refusing impossible ones (20250230)."""
    if len(text) != 8 or not text.isdigit():
        raise segment.error(f"{text!r} is not a CCYYMMDD date", source=source, index=index, claim_id=claim_id)
    try:
        return date(int(text[:4]), int(text[4:6]), int(text[6:8]))
    except ValueError as exc:
        raise segment.error(
            f"{text!r} is not a valid calendar date", source=source, index=index, claim_id=claim_id
        ) from exc


def parse_hhmm(
    text: str,
    *,
    segment: Segment,
    index: int,
    source: str,
    claim_id: str | None = None,
    element: str | None = None,
) -> str:
    """An HHMM or HH:MM clock time as the contract's local "HH:MM" string."""
    digits = text.replace(":", "")
    if len(digits) != 4 or not digits.isdigit() or int(digits[:2]) > 23 or int(digits[2:]) > 59:
        raise segment.error(
            f"{text!r} is not a valid HHMM time",
            source=source,
            index=index,
            claim_id=claim_id,
            element=element,
        )
    return f"{digits[:2]}:{digits[2:]}"
