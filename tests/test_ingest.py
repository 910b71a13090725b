"""Ingestion: type from bytes, cleaning, metadata, and a named outcome for every hostile PDF."""
from __future__ import annotations

import json
import zipfile

import pytest

from plancheck.config import Config
from plancheck.errors import (EmptyFileError, IngestError, LimitExceededError, NoTextError, NotAFileError,
                              TooLargeError, UnsupportedTypeError)
from plancheck.ingest import clean_pages, force_name, read_bytes, read_document, sniff
from plancheck.types import Line, Page

PLAN_TEXT = ("Stourholme Constabulary - Protective Services Plan\n\n1. Major Crime\n\n"
             "The Head of Crime will recruit four detectives by 31 March 2010, funded from the reserve.\n")

# A plan as Word saves it in RTF: tables of fonts, colours and styles, an info group, a picture
# with binary data, a hyperlink field, Unicode with fallbacks, a code-page byte and a table.
WORD_RTF = (rb"{\rtf1\ansi\ansicpg1252\deff0\uc1{\fonttbl{\f0\froman\fcharset0 Times New Roman;}"
            rb"{\f1\fswiss\fcharset0 Arial;}}{\colortbl;\red0\green0\blue0;}"
            rb"{\stylesheet{\s0 Normal;}{\s1\outlinelevel0 heading 1;}}"
            rb"{\info{\title Protective Services Plan 2009}{\author Larkmere Police}{\creatim\yr2009}}"
            rb"{\*\generator Riched20 10.0.19041}\viewkind4\pard\plain\f0\fs24 "
            rb"{\*\bkmkstart top}{\*\bkmkend top}"
            rb"\pard\s1\outlinelevel0\b\fs32 Serious and Organised Crime\b0\par"
            rb"\pard\plain The force\rquote s caf\'e9 review \u8211\'96 led by the ACC \endash  reports "
            rb"by 31 March 2010.{\pict\pngblip\picw10\pich10\bin6 {}\\x!}\par"
            rb' See {\field{\*\fldinst{HYPERLINK "http://example.org/plan"}}{\fldrslt{the annex}}}.\par'
            rb"{\header\pard Larkmere RESTRICTED\par}"
            rb"\trowd\cellx2000\cellx4000\pard\intbl Action\cell Owner\cell\row"
            rb"\trowd\cellx2000\cellx4000\pard\intbl Open the MIT\cell Det\par Supt\cell\row"
            rb"\pard\page Second page text about civil contingencies.\par}")

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


def test_ingest_rtf_reads_text_without_markup(tmp_path):
    path = tmp_path / "plan.rtf"
    path.write_bytes(WORD_RTF)
    doc = read_document(path)
    assert doc.kind == "rtf" and sniff(WORD_RTF) == "rtf"
    text = doc.text
    assert "The force\u2019s caf\u00e9 review \u2013 led by the ACC \u2013 reports by 31 March 2010." in text
    assert "See the annex." in text
    assert "Action | Owner" in text and "Open the MIT | Det Supt" in text
    for markup in ("\\", "{", "}", "rtf1", "Times New Roman", "fonttbl", "HYPERLINK", "Riched20", "RESTRICTED",
                   "top", "?"):
        assert markup not in text
    assert [p.number for p in doc.pages] == [1, 2] and "civil contingencies" in doc.pages[1].text
    heading = next(l for l in doc.pages[0].lines if l.text == "Serious and Organised Crime")
    assert heading.style == "Heading 1" and heading.bold
    assert doc.title == "Protective Services Plan 2009" and doc.author == "Larkmere Police"


def test_ingest_rtf_named_doc_is_read_as_rtf(tmp_path):
    path = tmp_path / "plan.doc"  # Word's "Save as .doc" can write RTF
    path.write_bytes(WORD_RTF)
    assert read_document(path).kind == "rtf"


@pytest.mark.parametrize("body", [
    rb"{\rtf1 " + rb"{" * 100_000 + b"deep" + rb"}" * 100_000 + rb"}",
    rb"{\rtf1 " + rb"{\b " * 300 + b"text",
], ids=["nested-100000", "unclosed-300"])
def test_ingest_rtf_deep_nesting_is_a_named_limit(body):
    with pytest.raises(LimitExceededError, match="nests groups"):
        read_bytes(body, "deep.rtf")


@pytest.mark.parametrize("body,kept", [
    # Many fields on one line, and font entries without a charset: quadratic for regex-based converters.
    (rb"{\rtf1 Serious and organised crime: the plan text for this area. " + rb"{\field{\*\fldinst{ x}}}" * 40_000, "organised crime"),
    (rb"{\rtf1{\fonttbl " + rb"\f1 x" * 100_000 + rb"}Serious and organised crime: the plan text for this area.}", "organised"),
    # 200,000 paragraph marks are one blank line, not 200,000 lines.
    (rb"{\rtf1 Serious and organised crime: the plan text for this area." + rb"\par" * 200_000 + rb" Major crime text.}", "Major"),
    # \bin lengths past the end, lone surrogates, absurd numbers and code pages, a stray backslash.
    (rb"{\rtf1\ansicpg99999\uc99999 Serious and organised crime: the plan text for this area. \u-10179 \u99999999 \'ff text"
     rb"\bin99999999999 ", "organised crime"),
    (rb"{\rtf1 Serious and organised crime plan text and more words here." + b"\\", "organised crime"),
], ids=["unclosed-fields", "unclosed-fonttbl", "million-pars", "bad-numbers", "stray-backslash"])
def test_ingest_rtf_hostile_input_is_read(body, kept):
    doc = read_bytes(body, "hostile.rtf")
    assert kept in doc.text
    doc.text.encode("utf-8")  # no lone surrogates
    assert sum(len(p.lines) for p in doc.pages) < 10


def test_ingest_rtf_text_past_the_limit_is_refused():
    body = rb"{\rtf1 " + b"Serious and organised crime. " * 2000 + rb"}"
    with pytest.raises(LimitExceededError, match="max_chars|characters"):
        read_bytes(body, "long.rtf", Config(max_chars=10_000))


@pytest.mark.parametrize("encoding,bom", [("utf-16-le", b"\xff\xfe"), ("utf-16-be", b"\xfe\xff"),
                                          ("utf-16-le", b""), ("utf-16-be", b""),
                                          ("utf-32-le", b"\xff\xfe\x00\x00")])
def test_ingest_utf16_text_is_decoded(tmp_path, encoding, bom):
    path = tmp_path / "plan.txt"
    path.write_bytes(bom + (PLAN_TEXT + "Caf\u00e9 \u2013 r\u00e9sum\u00e9.\n").encode(encoding))
    doc = read_document(path)
    assert doc.kind == "txt"
    assert "The Head of Crime will recruit four detectives by 31 March 2010" in doc.text
    assert "Caf\u00e9 \u2013 r\u00e9sum\u00e9." in doc.text and "\x00" not in doc.text


def test_ingest_binary_with_alternate_zero_bytes_is_not_text():
    assert sniff(bytes([0, 1, 0, 2, 0, 3, 0, 7]) * 100) is None
    assert sniff(b"\xff\xfe" + bytes([1, 0, 2, 0, 3, 0]) * 100) is None


def test_ingest_doc_says_save_as_docx_or_pdf(tmp_path):
    path = tmp_path / "plan.doc"
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(4000))
    with pytest.raises(UnsupportedTypeError, match=r"Word \.doc.*save it as \.docx or PDF"):
        read_document(path)


def test_ingest_odt_says_save_as_docx_or_pdf(tmp_path):
    path = tmp_path / "plan.odt"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("mimetype", "application/vnd.oasis.opendocument.text")
        z.writestr("content.xml", "<office:document-content/>")
    with pytest.raises(UnsupportedTypeError, match=r"OpenDocument text file \(\.odt\).*save it as \.docx or PDF"):
        read_document(path)


@pytest.mark.parametrize("name", ["plan.doc", "plan.odt"])
def test_ingest_text_named_doc_or_odt_says_save_as_docx_or_pdf(tmp_path, name):
    path = tmp_path / name
    path.write_text(PLAN_TEXT)
    with pytest.raises(UnsupportedTypeError, match=r"save it as \.docx or PDF"):
        read_document(path)


def test_ingest_title_falls_back_to_first_heading_and_force_is_found(tmp_path):
    path = tmp_path / "plan.txt"
    path.write_text(PLAN_TEXT)
    doc = read_document(path)
    assert doc.title == "Stourholme Constabulary - Protective Services Plan"
    assert force_name(doc) == "Stourholme Constabulary"


@pytest.mark.parametrize("opening,force", [
    ("STOURHOLME CONSTABULARY - PROTECTIVE SERVICES PLAN", "Stourholme Constabulary"),
    ("Protective Services Plan of the Devon and Cornwall Police", "Devon and Cornwall Police"),
    ("The Metropolitan Police Service: delivery plan", "Metropolitan Police Service"),
    ("City of London Police", "City of London Police"),
    ("Protective Services Plan 2009-2011", ""),
])
def test_ingest_force_name(opening, force):
    doc = read_bytes((opening + "\n\n" + PLAN_TEXT.split("\n", 1)[1]).encode(), "plan.txt")
    assert force_name(doc) == force
