"""Letters as PDF: typst templates (package data) and the renderer."""

from bhum.adapters.letters.renderer import (
    TEMPLATE_VERSION,
    LetterConflict,
    LetterRenderer,
    LetterRenderError,
    default_renderer,
    render,
    sha256,
    template_name,
    write,
)
from bhum.adapters.letters.view import letter_view, long_date

__all__ = [
    "TEMPLATE_VERSION",
    "LetterConflict",
    "LetterRenderError",
    "LetterRenderer",
    "default_renderer",
    "letter_view",
    "long_date",
    "render",
    "sha256",
    "template_name",
    "write",
]
