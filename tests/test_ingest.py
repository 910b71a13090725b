"""Ingestion: type from bytes, cleaning, metadata, and a named outcome for every hostile PDF."""
from __future__ import annotations

import json
import zipfile

import pytest

from plancheck.config import Config
from plancheck.errors import (EmptyFileError, IngestError, NoTextError, NotAFileError, TooLargeError,
                              UnsupportedTypeError)
from plancheck.ingest import clean_pages, read_document, sniff
from plancheck.types import Line, Page

# What the manifest expects, mapped to plancheck's codes; a stricter named outcome is allowed
# where the manifest accepts "ok" for a file with almost no text (it cannot be judged).
ACCEPT = {
    "reject: not_a_pdf": {"unsupported_type"},
    "reject: unreadable_pdf": {"unreadable"},
    "reject: unreadable_pdf (must be caught as generic Exception)": {"unreadable"},
    "reject: unreadable_pdf (generic Exception)": {"unreadable"},
    "reject: unreadable_pdf (cycle detected)": {"unreadable"},
    "reject/partial: extraction_failed (generic Exception)": {"unreadable"},
    "reject/partial: extraction_failed": {"unreadable"},
    "partial/reject: extraction_failed": {"unreadable"},
    "reject: limit_exceeded": {"limit_exceeded"},
    "reject: encrypted": {"encrypted"},
    "reject: no_pages (do not score)": {"empty"},
    "reject/flag: no_text (needs OCR)": {"no_text"},
    "reject/flag: no_text": {"no_text"},
}


def _manifest(shared_pdfs):
    return json.loads((shared_pdfs / "manifest.json").read_text())


def _cases():
    from conftest import SHARED_PDFS
    if not SHARED_PDFS.is_dir():
        return []
    return [(e["file"], e["expected_plancheck"]) for e in json.loads((SHARED_PDFS / "manifest.json").read_text())]


@pytest.mark.parametrize("name,expected", _cases())
def test_ingest_shared_pdfs_give_expected_outcome(shared_pdfs, name, expected):
    path = shared_pdfs / name
    try:
        doc = read_document(path)
        outcome = "ok"
    except IngestError as exc:
        outcome = exc.code
        assert str(path) in exc.message  # every message names the file
    if expected in ACCEPT:
        assert outcome in ACCEPT[expected], f"{name}: got {outcome}, expected {expected}"
    else:
        # "ok" in the manifest: read it, or refuse it with a named code when it holds almost no text.
        assert outcome in {"ok", "no_text", "encrypted"}, f"{name}: got {outcome}, expected {expected}"
        if outcome == "ok":
            assert doc.word_count > 0 and doc.sha256 and doc.kind == "pdf"


def test_ingest_multilang_pdf_round_trips_utf8(shared_pdfs):
    doc = read_document(shared_pdfs / "pypdf_multilang.pdf")
    text = doc.text
    assert any(ord(c) > 0x0600 for c in text)  # Arabic, Cyrillic, CJK or Thai survive
    text.encode("utf-8")


def test_ingest_type_comes_from_bytes_not_name(tmp_path, examples):
    pdf_as_txt = tmp_path / "plan.txt"
    pdf_as_txt.write_bytes((examples / "hollowfield-2009.pdf").read_bytes())
    assert read_document(pdf_as_txt).kind == "pdf"
    text_as_pdf = tmp_path / "plan.pdf"
    text_as_pdf.write_text("Serious and organised crime. " * 20)
    with pytest.raises(UnsupportedTypeError):
        read_document(text_as_pdf)
    zip_as_pdf = tmp_path / "archive.pdf"
    with zipfile.ZipFile(zip_as_pdf, "w") as z:
        z.writestr("a.txt", "hello")
    with pytest.raises(UnsupportedTypeError, match="ZIP"):
        read_document(zip_as_pdf)
    binary = tmp_path / "blob.bin"
    binary.write_bytes(bytes(range(256)) * 10)
    with pytest.raises(UnsupportedTypeError):
        read_document(binary)


@pytest.mark.parametrize("head,kind", [(b"%PDF-1.4\n", "pdf"), (b"PK\x03\x04rest", "zip"), (b"Plain words here\n", "text"),
                                       (b"\x00\x01\x02\x03" * 10, None)])
def test_ingest_sniff(head, kind):
    assert sniff(head) == kind


def test_ingest_empty_and_not_a_file(tmp_path):
    empty = tmp_path / "empty.pdf"
    empty.write_bytes(b"")
    with pytest.raises(EmptyFileError):
        read_document(empty)
    folder = tmp_path / "folder.pdf"
    folder.mkdir()
    with pytest.raises(NotAFileError):
        read_document(folder)
    with pytest.raises(NotAFileError):
        read_document(tmp_path / "missing.pdf")


def test_ingest_too_large(tmp_path):
    big = tmp_path / "big.txt"
    big.write_text("word " * 1000)
    with pytest.raises(TooLargeError, match="max_file_bytes"):
        read_document(big, Config(max_file_bytes=100))


def test_ingest_no_text_message_says_ocr(shared_pdfs):
    with pytest.raises(NoTextError, match="OCR"):
        read_document(shared_pdfs / "opf_veraPDFHiRes.pdf")


def test_ingest_clean_drops_running_headers_footers_and_page_numbers():
    pages = [Page(n, "", (Line("RESTRICTED"), Line(["Organised crime groups", "Major crime review", "Roads policing plan", "Safeguarding duties"][n - 1]
                               + " are set out here in full."),
                          Line(f"Page {n} of 4"))) for n in range(1, 5)]
    cleaned = clean_pages(pages)
    for page in cleaned:
        assert "RESTRICTED" not in page.text and "of 4" not in page.text
        assert "set out here" in page.text


def test_ingest_clean_rejoins_hyphenation_and_strips_control_characters():
    page = Page(1, "", (Line("We will recruit six inter-"), Line("national liaison officers\x00 by March."),
                        Line("Control\x07 chars\u200b gone")))
    text = clean_pages([page])[0].text
    assert "international" in text and "inter-" not in text
    assert "\x00" not in text and "\x07" not in text and "\u200b" not in text


def test_ingest_docx_keeps_heading_styles_and_tables(tmp_path):
    import docx

    d = docx.Document()
    d.core_properties.title = "Plan title"
    d.add_heading("Major Crime", level=2)
    d.add_paragraph("The Head of Crime will recruit 4 DCs by 31 March 2010.")
    t = d.add_table(rows=2, cols=3)
    for j, v in enumerate(["Action", "Owner", "Deadline"]):
        t.cell(0, j).text = v
    for j, v in enumerate(["Open MIT", "Det Supt", "Q3 2009/10"]):
        t.cell(1, j).text = v
    path = tmp_path / "plan.docx"
    d.save(path)
    doc = read_document(path)
    assert doc.kind == "docx" and doc.title == "Plan title"
    styles = {l.text: l.style for l in doc.pages[0].lines}
    assert styles["Major Crime"].startswith("Heading")
    assert "Open MIT | Det Supt | Q3 2009/10" in doc.text


def test_ingest_pdf_lines_carry_font_size_and_weight(examples):
    doc = read_document(examples / "hollowfield-2009.pdf")
    lines = [l for p in doc.pages for l in p.lines if l.text]
    body = max((l.size for l in lines), key=[l.size for l in lines].count)
    headings = [l for l in lines if l.text.startswith("2. Major Crime")]
    assert headings and headings[0].size > body and headings[0].bold
    assert doc.sha256 and len(doc.sha256) == 64 and doc.page_count >= 3
