"""Render a LetterContent to PDF with typst, and file it once under its letter id.

One template per letter kind (``templates/<kind>.typ``), all sharing ``letterhead.typ``. The content
goes in as one JSON string (``sys.inputs.data``), so nothing in it is ever read as typst markup.
Only the fonts embedded in typst are used and no packages are imported: rendering works offline and
gives the same bytes on every machine (the PDF timestamp is the letter date). Letters are tagged
PDF/UA-1: real text with document title and language, readable by screen readers.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import threading
from collections.abc import Iterable
from datetime import UTC, datetime, time
from pathlib import Path
from typing import Final

import typst

from bhum.adapters.letters.view import letter_view
from bhum.domain.errors import BhumError
from bhum.domain.letters import LetterContent, LetterKind

TEMPLATES = Path(__file__).with_name("templates")
# Bump when a template's wording changes; stored with each letter record ("<kind>@<version>").
TEMPLATE_VERSION = "1"
# PDF/UA-1: typst checks the accessibility rules (tagged structure, title, language) at compile time,
# so a template change that breaks them fails the render instead of mailing an inaccessible letter.
PDF_STANDARD: Final = "ua-1"


class LetterRenderError(BhumError):
    """typst refused a template or its data; names the letter and the template."""


class LetterConflict(BhumError):
    """A letter with this id was already written with different content; it is never overwritten."""


def template_name(kind: LetterKind) -> str:
    """The name and version stored with a letter record, e.g. ``authorization_denial@1``."""
    return f"{kind.value}@{TEMPLATE_VERSION}"


def sha256(pdf: bytes) -> str:
    return hashlib.sha256(pdf).hexdigest()


class LetterRenderer:
    """Compiles letters with one long-lived typst compiler.

    The compiler keeps fonts and parsed templates between calls, so a batch costs a few
    milliseconds per letter. Calls are serialised: the compiler is not safe to share across threads.
    """

    def __init__(self, templates: Path = TEMPLATES) -> None:
        self._templates = templates
        self._sources: dict[LetterKind, bytes] = {}
        self._compiler = typst.Compiler(root=str(templates), ignore_system_fonts=True)
        self._lock = threading.Lock()

    def _source(self, kind: LetterKind) -> bytes:
        source = self._sources.get(kind)
        if source is None:
            source = (self._templates / f"{kind.value}.typ").read_bytes()
            self._sources[kind] = source
        return source

    def render(self, content: LetterContent) -> bytes:
        """The letter as PDF bytes. Same content, same bytes."""
        data = json.dumps(letter_view(content), ensure_ascii=False, sort_keys=True)
        # The letter date is the document date, so re-rendering reproduces the file exactly.
        stamp = datetime.combine(content.letter_date, time(12, 0), tzinfo=UTC)
        source = self._source(content.kind)
        with self._lock:
            try:
                pdf = self._compiler.compile(
                    input=source,
                    format="pdf",
                    sys_inputs={"data": data},
                    timestamp=stamp,
                    pdf_standards=[PDF_STANDARD],
                )
            except typst.TypstError as exc:
                raise LetterRenderError(
                    f"letter {content.letter_id}: template {template_name(content.kind)} failed: "
                    f"{exc.message} {exc.hints}"
                ) from exc
        if not isinstance(pdf, bytes):
            raise LetterRenderError(f"letter {content.letter_id}: typst returned no single PDF")
        return pdf

    def render_many(self, contents: Iterable[LetterContent]) -> list[bytes]:
        """A batch, in order (the compiler and templates are reused across the batch)."""
        return [self.render(content) for content in contents]

    def write(self, content: LetterContent, directory: Path) -> Path:
        """Write ``<letter id>.pdf`` into ``directory`` atomically and return its path.

        Writing the same letter again is a no-op; writing different content under an existing
        letter id raises LetterConflict and leaves the existing file untouched.
        """
        pdf = self.render(content)
        directory.mkdir(parents=True, exist_ok=True)
        target = directory / f"{content.letter_id}.pdf"
        if target.exists():
            return _same_or_conflict(target, pdf, content.letter_id)
        handle, temp_name = tempfile.mkstemp(dir=directory, prefix=f".{content.letter_id}.", suffix=".tmp")
        temp = Path(temp_name)
        try:
            with os.fdopen(handle, "wb") as stream:
                stream.write(pdf)
                stream.flush()
                os.fsync(stream.fileno())
            try:
                # A hard link never replaces an existing file: two writers cannot clobber each other.
                target.hardlink_to(temp)
            except FileExistsError:
                return _same_or_conflict(target, pdf, content.letter_id)
            except OSError:
                # File systems without hard links: rename, after checking nobody wrote it meanwhile.
                if target.exists():
                    return _same_or_conflict(target, pdf, content.letter_id)
                temp.replace(target)
        finally:
            temp.unlink(missing_ok=True)
        return target


def _same_or_conflict(target: Path, pdf: bytes, letter_id: str) -> Path:
    if target.read_bytes() == pdf:
        return target
    raise LetterConflict(f"letter {letter_id} already exists at {target} with different content")


_default: LetterRenderer | None = None
_default_lock = threading.Lock()


def default_renderer() -> LetterRenderer:
    global _default
    with _default_lock:
        if _default is None:
            _default = LetterRenderer()
        return _default


def render(content: LetterContent) -> bytes:
    """The letter as PDF bytes, with the shared renderer."""
    return default_renderer().render(content)


def write(content: LetterContent, directory: Path) -> Path:
    """Write ``<letter id>.pdf`` atomically, never overwriting a different letter; returns the path."""
    return default_renderer().write(content, directory)
