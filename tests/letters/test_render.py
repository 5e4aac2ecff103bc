"""Letters rendered as PDF with typst, opened with pypdf and checked for what they must say."""

from __future__ import annotations

import io
import re
import time
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pypdf
import pytest
from pypdf.generic import DictionaryObject

from bhum.adapters.letters import LetterConflict, LetterRenderer, long_date, render, write
from bhum.adapters.letters.view import TITLES
from bhum.domain.letters import CLINICAL_UPDATE_FORM_FIELDS, LetterContent, LetterKind, MemberRef
from tests.letters import factory as f


@pytest.fixture(scope="module")
def renderer() -> LetterRenderer:
    return LetterRenderer()


def read(pdf: bytes) -> pypdf.PdfReader:
    return pypdf.PdfReader(io.BytesIO(pdf))


def text_of(pdf: bytes) -> str:
    """All page text with line breaks and runs of spaces collapsed, so phrases can be matched."""
    raw = " ".join(page.extract_text() for page in read(pdf).pages)
    return re.sub(r"\s+", " ", raw)


@pytest.fixture(scope="module")
def texts(renderer: LetterRenderer) -> dict[str, str]:
    return {content.letter_id: text_of(renderer.render(content)) for content in f.every_kind()}


@pytest.mark.parametrize("content", f.every_kind(), ids=lambda c: c.letter_id)
def test_every_letter_is_an_accessible_pdf_naming_member_plan_and_reference(
    renderer: LetterRenderer, content: LetterContent
) -> None:
    pdf = renderer.render(content)
    assert pdf.startswith(b"%PDF-")
    reader = read(pdf)
    root = reader.root_object
    assert str(root["/Lang"]) == "en-US"
    mark_info = root["/MarkInfo"].get_object()
    assert isinstance(mark_info, DictionaryObject)
    assert bool(mark_info["/Marked"])  # tagged PDF: real text for screen readers
    assert "/StructTreeRoot" in root
    assert reader.metadata is not None and reader.metadata.title is not None
    assert reader.metadata.title == f"{TITLES[content.kind]} — {f.PLAN.name}"
    text = text_of(pdf)
    assert f.MEMBER_NAME in text
    assert f.MEMBER_ID in text
    assert content.reference in text
    assert f.PLAN.phone in text
    assert long_date(f.LETTER_DATE) in text
    assert "in another language, in large print" in text
    # Nothing leaked from the data plumbing.
    assert "None" not in text and "null" not in text and "{" not in text


def test_reg03_denial_says_service_dates_units_reason_criterion_rule_appeal_and_peer_to_peer(
    texts: dict[str, str],
) -> None:
    text = texts["denial-1"]
    assert "We did not approve a service" in text
    assert "Intensive outpatient psychiatric services, per diem" in text
    assert "HCPCS S9480" in text
    assert "March 9, 2026 to April 7, 2026" in text
    assert "12 sessions" in text
    # REG-01: the specific reason, naming the value that tripped it; REG-03: the criterion by name.
    assert f.IOP04.sentence in text
    assert "Criterion: Per diem minimum hours (rule IOP-04)" in text
    assert "Codes: CARC 151, RARC N54" in text
    assert f.MN02.sentence in text
    assert "rule MN-02" in text
    # REG-04: the licensed reviewer.
    assert "This decision was made by Dr. Sam Placeholder, MD, board-certified psychiatrist." in text
    # REG-03: appeal rights and the peer-to-peer offer.
    assert "Your right to appeal" in text
    assert f"You must ask for an appeal by {long_date(f.APPEAL.file_by)}." in text
    assert f.APPEAL.instructions in text
    assert "peer-to-peer" in text
    assert f"{f.P2P.phone} by {long_date(f.P2P.request_by)}" in text


def test_reg03_administrative_denial_does_not_claim_medical_necessity(renderer: LetterRenderer) -> None:
    from bhum.domain.letters import LetterDecision

    admin = replace(
        f.denial(), decision=LetterDecision.ADMINISTRATIVE_DENIAL, reviewer=None, peer_to_peer=None
    )
    text = text_of(renderer.render(admin))
    assert "cannot cover the service" in text
    assert "medically necessary" not in text
    assert "peer-to-peer" not in text
    assert "Your right to appeal" in text


def test_partial_approval_shows_requested_approved_and_not_approved_units(texts: dict[str, str]) -> None:
    text = texts["partial-1"]
    assert "Asked for Approved Not approved" in text
    assert "20 sessions" in text and "12 sessions" in text and "8 sessions" in text
    assert "Why we did not approve all of it" in text
    assert "rule IOP-04" in text and "peer-to-peer" in text and "Your right to appeal" in text


def test_approval_shows_the_approved_units_and_dates(texts: dict[str, str]) -> None:
    text = texts["approval-1"]
    assert "We approved it." in text
    assert "12 sessions" in text and "March 9, 2026 to April 7, 2026" in text
    assert "continuing-service request" in text  # provider wording
    assert "Your right to appeal" not in text


def test_request_for_information_lists_each_item_and_the_due_date(texts: dict[str, str]) -> None:
    text = texts["rfi-1"]
    for item in f.request_for_information().requested_information:
        assert item in text
    assert "by March 6, 2026" in text


def test_opm04_provider_letter_has_the_form_fields_and_due_date_30_days_after_the_letter(
    renderer: LetterRenderer,
) -> None:
    content = f.opm_clinical_update_request()
    pdf = renderer.render(content)
    text = text_of(pdf)
    due = long_date(f.LETTER_DATE + timedelta(days=30))
    assert due == "April 1, 2026"
    assert f"return it by {due}. That is 30 days from the date of this letter." in text
    assert f.FLAG.sentence in text and "rule OPM-03" in text
    assert "Current treatment is approved during this 30-day period." in text
    assert "claims for these services may be denied" in text  # OPM-07 warned in advance
    # The form itself, on its own page, prefilled with member, case and provider.
    form_pages = [
        re.sub(r"\s+", " ", page.extract_text())
        for page in read(pdf).pages
        if "Clinical Update Request Form" in page.extract_text() and "Case number" in page.extract_text()
    ]
    assert form_pages, "the form starts on its own page"
    assert "Case number: C-2026-0007" in form_pages[0]
    assert f"Return by: {due}" in form_pages[0]
    assert "Cedar Grove Counseling (NPI 1234567893)" in form_pages[0]
    for field in CLINICAL_UPDATE_FORM_FIELDS:
        assert field.label in text, field.key
        assert field.prompt in text, field.key
    assert "Provider signature" in text


def test_opm05_member_letter_says_treatment_is_approved_during_the_30_day_period(
    texts: dict[str, str],
) -> None:
    text = texts["opm-member-1"]
    assert "We asked your provider to send us information about your care." in text
    assert (
        "Your current treatment is approved during this 30-day period, from March 2, 2026 to April 1, 2026."
        in text
    )
    assert "you may have to pay" in text


@pytest.mark.parametrize("letter_id", ["opm_discontinuation_provider-1", "opm_discontinuation_member-1"])
def test_opm07_discontinuation_states_end_date_reason_and_appeal(
    texts: dict[str, str], letter_id: str
) -> None:
    text = texts[letter_id]
    assert "ends on March 4, 2026" in text
    assert f.OPM07.sentence in text
    assert "rule OPM-07" in text and "CARC 197, RARC M62" in text
    assert "Your right to appeal" in text
    assert "may have to pay" in text


def test_coc02_pcp_letter_names_the_trigger_and_withholds_psychotherapy_notes(texts: dict[str, str]) -> None:
    text = texts["pcp-1"]
    assert "Sertraline 50 mg was started on February 20, 2026" in text
    assert "rule COC-02" in text
    assert "Jordan Sample, LCSW, at 1-800-555-0122" in text
    assert "does not contain psychotherapy notes" in text  # COC-04
    assert "NPI 1326034564" in text


def test_tcm07_outreach_letter_names_missed_date_and_case_manager(texts: dict[str, str]) -> None:
    text = texts["outreach-1"]
    assert "on February 27, 2026. We missed you." in text
    assert "Casey Mockford, at 1-800-555-0133" in text
    assert "by March 4, 2026" in text
    assert "Saying no will not change any of your other services." in text  # TCM-12


def test_opm01_testing_notice_states_start_date_and_codes(texts: dict[str, str]) -> None:
    text = texts["testing-1"]
    assert "Starting April 1, 2026" in text and "CPT 96130" in text and "rule OPM-01" in text


def test_member_text_is_never_read_as_typst_markup(renderer: LetterRenderer) -> None:
    tricky = '#set page(width: 1cm) *Bold* $x^2$ <label> @ref "quoted" \\ [Ana] O\'Neil'
    content = replace(f.approval(), member=MemberRef(tricky, "SYN-9"))
    text = text_of(renderer.render(content))
    assert tricky in text


def test_same_content_renders_the_same_bytes(renderer: LetterRenderer) -> None:
    assert renderer.render(f.denial()) == renderer.render(f.denial())
    assert render(f.denial()) == renderer.render(f.denial())  # module-level helper, same output


def test_only_typst_embedded_fonts_are_used(renderer: LetterRenderer) -> None:
    """Offline and reproducible: no system or downloaded fonts."""
    reader = read(renderer.render(f.opm_clinical_update_request()))
    fonts: set[str] = set()
    for page in reader.pages:
        resources = page["/Resources"].get_object()
        assert isinstance(resources, DictionaryObject)
        page_fonts = resources["/Font"].get_object()
        assert isinstance(page_fonts, DictionaryObject)
        for font in page_fonts.values():
            font_dict = font.get_object()
            assert isinstance(font_dict, DictionaryObject)
            fonts.add(str(font_dict["/BaseFont"]))
    assert fonts
    assert all("Libertinus" in name or "NewCM" in name or "DejaVu" in name for name in fonts), fonts


# -- write: atomic, once per letter id ------------------------------------------------------------


def test_write_creates_letter_id_pdf_and_is_idempotent(tmp_path: Path) -> None:
    path = write(f.denial(), tmp_path / "letters")
    assert path == tmp_path / "letters" / "denial-1.pdf"
    first = path.read_bytes()
    assert text_of(first).count(f.MEMBER_NAME) >= 1
    again = write(f.denial(), tmp_path / "letters")
    assert again == path and path.read_bytes() == first
    assert sorted(p.name for p in (tmp_path / "letters").iterdir()) == ["denial-1.pdf"]  # no temp files


def test_write_never_overwrites_a_letter_with_different_content(tmp_path: Path) -> None:
    path = write(f.denial(), tmp_path)
    before = path.read_bytes()
    changed = replace(f.denial(), member=MemberRef("Someone Else", "SYN000999"))
    with pytest.raises(LetterConflict, match="denial-1"):
        write(changed, tmp_path)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["denial-1.pdf"]


def test_render_time_per_letter_stays_small(renderer: LetterRenderer) -> None:
    """A batch renders thousands of letters: a few ms each on a warm compiler (loose bound)."""
    contents = f.every_kind() * 3
    renderer.render_many(contents[:13])  # warm the template cache
    start = time.perf_counter()
    pdfs = renderer.render_many(contents)
    per_letter_ms = (time.perf_counter() - start) * 1000 / len(contents)
    assert len(pdfs) == len(contents)
    assert per_letter_ms < 250, per_letter_ms


def test_every_kind_has_a_template() -> None:
    from bhum.adapters.letters.renderer import TEMPLATES

    assert {p.stem for p in TEMPLATES.glob("*.typ")} == {k.value for k in LetterKind} | {"letterhead"}


def _syllables(word: str) -> int:
    """A rough English syllable count (vowel groups, silent final e): enough to track reading level."""
    word = re.sub(r"[^a-z]", "", word.lower())
    if len(word) <= 3:
        return 1 if word else 0
    word = re.sub(r"(?:[^laeiouy]es|ed|[^laeiouy]e)$", "", word)
    word = re.sub(r"^y", "", word)
    return max(1, len(re.findall(r"[aeiouy]{1,2}", word)))


def flesch_kincaid_grade(text: str) -> float:
    sentences = [s for s in re.split(r"[.!?:]+\s", text) if s.strip()]
    words = re.findall(r"[A-Za-z][A-Za-z'-]*", text)
    syllables = sum(_syllables(w) for w in words)
    return 0.39 * len(words) / len(sentences) + 11.8 * syllables / len(words) - 15.59


def test_flesch_kincaid_counts_a_known_sentence() -> None:
    assert flesch_kincaid_grade("The cat sat on the mat. The dog ran.") < 1
    hard = "Authorization determinations necessitate comprehensive documentation substantiating necessity."
    assert flesch_kincaid_grade(hard) > 12


@pytest.mark.parametrize("content", f.every_kind(), ids=lambda c: c.letter_id)
def test_plain_language_at_most_eighth_grade(texts: dict[str, str], content: LetterContent) -> None:
    """REG-03 plain language: the letter body (greeting to signature) reads at grade 8 or below."""
    text = texts[content.letter_id]
    body = text[text.index("Dear") : text.index("Sincerely")]
    assert flesch_kincaid_grade(body) <= 8.0


def test_concurrent_writes_of_one_letter_leave_one_file_and_no_temp_files(tmp_path: Path) -> None:
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=4) as pool:
        paths = list(pool.map(lambda _: write(f.opm_member_notice(), tmp_path), range(8)))
    assert set(paths) == {tmp_path / "opm-member-1.pdf"}
    assert [p.name for p in tmp_path.iterdir()] == ["opm-member-1.pdf"]
    assert "30-day period" in text_of(paths[0].read_bytes())
