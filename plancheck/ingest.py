"""Read a submitted file into a Document: the only module that touches pypdf and python-docx.

The type is decided from the file's bytes, never its name. Every failure of a third-party
parser is caught here and turned into a named IngestError that names the file.
"""
from __future__ import annotations

import hashlib
import io
import logging
import os
import re
import stat
import zipfile
from collections import Counter
from pathlib import Path

from .config import Config
from .errors import (EmptyFileError, EncryptedError, IngestError, LimitExceededError, NoTextError,
                     NotAFileError, TooLargeError, TooManyPagesError, UnreadableError,
                     UnsupportedTypeError)
from .rtf import RtfLimitError, is_rtf, read_rtf
from .types import Document, Line, Page

log = logging.getLogger(__name__)

SUPPORTED = ("pdf", "docx", "rtf", "txt", "md")
# What to do with a format plancheck does not read.
RESAVE = "save it as .docx or PDF and submit that"
# Fewer visible characters than this in a whole document means there is no text layer to judge.
MIN_TEXT_CHARS = 40

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f\u200b\ufeff]")
_PAGE_NUMBER = re.compile(r"^\s*(page\s*)?[-–—]?\s*\d{1,4}\s*[-–—]?(\s*(of|/)\s*\d{1,4})?\s*$", re.I)
_PDF_OBJECT = re.compile(rb"^\s*(%[^\n]*\n\s*)?\d+\s+\d+\s+obj\b")
_MD_HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")
_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # Office 97-2003 (.doc, .xls, .ppt) compound file
# Byte-order marks, the longer first: a UTF-32 LE mark starts like a UTF-16 LE one.
_BOMS = ((b"\xff\xfe\x00\x00", "utf-32"), (b"\x00\x00\xfe\xff", "utf-32"), (b"\xef\xbb\xbf", "utf-8-sig"),
         (b"\xff\xfe", "utf-16"), (b"\xfe\xff", "utf-16"))
# Titles that tools write for an untitled file.
_PLACEHOLDER_TITLE = re.compile(r"^(untitled|microsoft word - |document\s*\d*$)|\.(docx?|pdf|rtf|txt|odt)$", re.I)
# "Stourholme Constabulary", "Devon and Cornwall Police", "City of London Police", "Metropolitan Police Service".
_FORCE = re.compile(r"\b([A-Z][\w'\u2019-]*(?:\s+(?:and|of|&)\s+[A-Z][\w'\u2019-]*|\s+[A-Z][\w'\u2019-]*)*?"
                    r"\s+(?:Police(?:\s+(?:Service|Force))?|Constabulary))\b")
_NOT_A_NAME = {"the", "our", "this", "a", "an", "each", "every", "all", "any", "by", "for", "from", "to", "with"}


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sniff(data: bytes) -> str | None:
    """The type of a file from its first bytes: pdf, zip, ole, rtf, text, or None for anything else."""
    head = data[:1024]
    if b"%PDF" in head or (_PDF_OBJECT.search(head) and b"endobj" in data[:8192]):
        return "pdf"  # a lenient reader also takes a PDF whose header lost its version line
    if head.startswith(b"PK\x03\x04"):
        return "zip"
    if head.startswith(_OLE):
        return "ole"
    if is_rtf(head):
        return "rtf"
    return "text" if text_encoding(data) else None


def text_encoding(data: bytes) -> str | None:
    """The encoding of a text file, judged from its first 8 KB, or None when it is not text.

    A byte-order mark decides (UTF-8, UTF-16 or UTF-32); without one, text in UTF-16 shows as
    a zero byte in every other place (the high byte of each Latin character), which no 8-bit
    text has. Otherwise UTF-8, or Windows-1252 when the bytes are not UTF-8.
    """
    sample = data[:8192]
    for bom, encoding in _BOMS:
        if sample.startswith(bom):
            if encoding == "utf-8-sig":
                break
            return encoding if _looks_like_text(sample.decode(encoding, errors="replace")) else None
    wide = _utf16_order(sample)
    if wide:
        return wide if _looks_like_text(sample[:len(sample) // 2 * 2].decode(wide, errors="replace")) else None
    if b"\x00" in sample[:1024]:
        return None
    encoding = "utf-8-sig"
    try:
        sample.decode(encoding)
    except UnicodeDecodeError as exc:
        if exc.start < len(sample) - 4:  # not just a multi-byte character cut at the sample's end
            try:
                sample.decode("cp1252")
                encoding = "cp1252"
            except UnicodeDecodeError:
                return None
    printable = sum(32 <= b < 127 or b in (9, 10, 13) or b >= 128 for b in sample)
    return encoding if sample and printable / len(sample) > 0.95 else None


def _utf16_order(sample: bytes) -> str | None:
    """``utf-16-le`` or ``utf-16-be`` when the zero bytes of ``sample`` all fall on one side."""
    sample = sample[:len(sample) // 2 * 2]
    if len(sample) < 16:
        return None
    even, odd = sample[0::2], sample[1::2]
    zero_even, zero_odd = even.count(0) / len(even), odd.count(0) / len(odd)
    if zero_odd >= 0.3 and zero_even <= 0.02:
        return "utf-16-le"
    if zero_even >= 0.3 and zero_odd <= 0.02:
        return "utf-16-be"
    return None


def _looks_like_text(text: str) -> bool:
    shown = sum(c.isprintable() or c in "\t\n\r\f" for c in text)
    return bool(text) and shown / len(text) > 0.95


def read_document(path: str | Path, config: Config | None = None) -> Document:
    """Read a plan from ``path`` into a cleaned Document.

    Raises:
        IngestError: a subclass whose ``code`` says what is wrong (``unsupported_type``,
            ``empty``, ``encrypted``, ``no_text``, ``unreadable``, ``too_large``,
            ``too_many_pages``, ``limit_exceeded``, ``not_a_file``).
    """
    config = config or Config()
    path = Path(path)
    name = str(path)
    try:
        info = path.lstat()
    except OSError as exc:
        raise NotAFileError(f"{name}: cannot be opened ({exc.strerror or exc})", path=name) from exc
    if stat.S_ISLNK(info.st_mode):
        raise NotAFileError(f"{name}: is a symbolic link; submit the file itself", path=name)
    if not stat.S_ISREG(info.st_mode):
        kind = "a directory" if stat.S_ISDIR(info.st_mode) else "not a regular file (FIFO, socket or device)"
        raise NotAFileError(f"{name}: is {kind}; only regular files are read", path=name)
    if info.st_size > config.max_file_bytes:
        raise TooLargeError(f"{name}: is {info.st_size:,} bytes, over the limit of "
                            f"{config.max_file_bytes:,} (setting max_file_bytes)", path=name)
    if info.st_size == 0:
        raise EmptyFileError(f"{name}: is empty (0 bytes)", path=name)
    # O_NONBLOCK: a path swapped for a FIFO between the check and the open must not block us.
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOFOLLOW", 0))
    with os.fdopen(fd, "rb") as handle:
        data = handle.read(config.max_file_bytes + 1)
    if len(data) > config.max_file_bytes:
        raise TooLargeError(f"{name}: grew past the limit of {config.max_file_bytes:,} bytes while read", path=name)
    return read_bytes(data, name, config)


def read_bytes(data: bytes, name: str = "<bytes>", config: Config | None = None) -> Document:
    """Read a plan from its bytes; ``name`` is used in messages and records."""
    config = config or Config()
    if not data:
        raise EmptyFileError(f"{name}: is empty (0 bytes)", path=name)
    digest = sha256_bytes(data)
    kind = sniff(data)
    suffix = Path(name).suffix.lower()
    if kind == "pdf":
        pages, meta, warns = _read_pdf(data, name, config)
        doc_kind = "pdf"
    elif kind == "zip":
        if suffix == ".pdf":
            raise UnsupportedTypeError(f"{name}: is named .pdf but its bytes are a ZIP archive, not a PDF", path=name)
        pages, meta, warns = _read_docx(data, name, config)
        doc_kind = "docx"
    elif kind == "ole":
        raise UnsupportedTypeError(f"{name}: is an Office 97-2003 file (a Word .doc or similar), which plancheck "
                                   f"cannot read; {RESAVE}", path=name)
    elif kind == "rtf":
        pages, meta, warns = _read_rtf(data, name, config)
        doc_kind = "rtf"
    elif kind == "text":
        if suffix in (".pdf", ".docx", ".doc", ".odt"):
            hint = "" if suffix == ".pdf" else f"; if it is a Word or OpenDocument file, {RESAVE}"
            raise UnsupportedTypeError(f"{name}: is named {suffix} but holds no {suffix[1:].upper()} "
                                       f"(no valid signature in its first bytes){hint}", path=name)
        doc_kind = "md" if suffix in (".md", ".markdown") else "txt"
        pages, meta, warns = _read_text(data, name, config, markdown=doc_kind == "md")
    else:
        raise UnsupportedTypeError(f"{name}: is not a PDF, Word .docx, RTF or text file "
                                   f"(supported: {', '.join(SUPPORTED)}); {RESAVE}", path=name)
    pages = clean_pages(pages)
    chars = sum(len(p.text) for p in pages)
    if chars > config.max_chars:
        raise LimitExceededError(f"{name}: holds {chars:,} characters of text, over the limit of "
                                 f"{config.max_chars:,} (setting max_chars)", path=name)
    visible = sum(len(p.text.split()) and len("".join(p.text.split())) for p in pages)
    if visible < MIN_TEXT_CHARS:
        if doc_kind == "pdf":
            raise NoTextError(f"{name}: has no text layer to read ({visible} characters on "
                              f"{len(pages)} page(s)); it looks scanned or image-only, so OCR is needed "
                              f"before plancheck can judge it", path=name)
        raise NoTextError(f"{name}: has almost no text ({visible} characters)", path=name)
    title = " ".join(strip_control(meta.get("title", "")).split())
    if not title or _PLACEHOLDER_TITLE.search(title):
        title = first_heading(pages)
    return Document(path=name, sha256=digest, kind=doc_kind, pages=tuple(pages), title=title,
                    author=strip_control(meta.get("author", "")), warnings=tuple(warns))


def first_heading(pages: list[Page]) -> str:
    """The document's first heading: a heading-styled line near the top of its first page, or
    else its first line when that is short enough to be a title (2 to 15 words); "" if neither."""
    opening = [line for line in (pages[0].lines if pages else ()) if line.text.strip()][:15]
    for line in opening:
        if line.style.lower().startswith("heading") or line.style.lower() == "title":
            return line.text.strip()
    if opening and 2 <= len(opening[0].text.split()) <= 15 and not opening[0].text.rstrip().endswith("."):
        return opening[0].text.strip()
    return ""


def force_name(document: Document) -> str:
    """The name of the force whose plan this is ("Stourholme Constabulary"), from the title or
    the opening lines of the first page; "" when none of them names a force."""
    lines = [document.title] + [line.text for line in (document.pages[0].lines if document.pages else ())
                                if line.text.strip()][:10]
    for line in lines:
        name = name_of_force(line)
        if name:
            return name
    return ""


def name_of_force(text: str) -> str:
    """The first force named in a line of text ("Devon and Cornwall Police"), or ""."""
    text = text[:300]  # a title or heading, never a page of text
    if text.isupper():
        text = text.title().replace(" And ", " and ").replace(" Of ", " of ")
    for m in _FORCE.finditer(text):
        words = m.group(1).split()
        while words and words[0].lower() in _NOT_A_NAME:
            words.pop(0)
        if len(words) >= 2:
            return " ".join(words)
    return ""


# --- PDF -------------------------------------------------------------------------------------

def _read_pdf(data: bytes, name: str, config: Config) -> tuple[list[Page], dict, list[str]]:
    from pypdf import PdfReader
    from pypdf.errors import DependencyError, FileNotDecryptedError, LimitReachedError

    warns: list[str] = []
    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted:
            try:
                ok = reader.decrypt("")
            except DependencyError as exc:
                raise EncryptedError(f"{name}: is encrypted with a cipher this installation cannot open "
                                     f"({exc}); ask for an unencrypted copy", path=name) from exc
            if not ok:
                raise EncryptedError(f"{name}: is password-protected; ask the force for an unprotected copy",
                                     path=name)
            warns.append("encrypted with an empty user password; read without one")
        if _count_pages(reader, stop=config.max_pages) > config.max_pages:
            raise TooManyPagesError(f"{name}: has more than {config.max_pages:,} pages (setting max_pages)",
                                    path=name)
        count = len(reader.pages)
        if count == 0:
            raise EmptyFileError(f"{name}: is a PDF with no pages", path=name)
        if count > config.max_pages:
            raise TooManyPagesError(f"{name}: has {count:,} pages, over the limit of {config.max_pages:,} "
                                    f"(setting max_pages)", path=name)
        meta = _pdf_metadata(reader)
        pages: list[Page] = []
        failed = 0
        chars = 0
        for number, page in enumerate(reader.pages, start=1):
            try:
                text, lines = _extract_pdf_page(page)
            except (LimitReachedError, RecursionError, MemoryError):
                raise
            except Exception as exc:  # pypdf raises many types on damaged content streams
                failed += 1
                log.info("%s: page %d could not be extracted: %r", name, number, exc)
                text, lines = "", ()
            chars += len(text)
            if chars > config.max_chars:
                raise LimitExceededError(f"{name}: holds over {config.max_chars:,} characters of text "
                                         f"(setting max_chars)", path=name)
            pages.append(Page(number, text, lines))
        if failed:
            warns.append(f"text of {failed} of {count} page(s) could not be extracted")
            if failed == count:
                raise UnreadableError(f"{name}: the text of every page is damaged and cannot be extracted",
                                      path=name)
        return pages, meta, warns
    except IngestError:
        raise
    except FileNotDecryptedError as exc:
        raise EncryptedError(f"{name}: is encrypted and cannot be read without its password", path=name) from exc
    except LimitReachedError as exc:
        raise LimitExceededError(f"{name}: hit a safety limit while parsing ({exc})", path=name) from exc
    except RecursionError as exc:
        raise UnreadableError(f"{name}: is a damaged PDF (its objects are nested too deeply or loop)",
                              path=name) from exc
    except MemoryError as exc:
        raise LimitExceededError(f"{name}: needs more memory to parse than allowed", path=name) from exc
    except Exception as exc:  # the boundary: pypdf raises TypeError, AttributeError, AssertionError ...
        raise UnreadableError(f"{name}: is a damaged or invalid PDF ({type(exc).__name__}: {exc})",
                              path=name) from exc


def _count_pages(reader, stop: int) -> int:
    """The leaves of the page tree, counted only until there are more than ``stop``.

    pypdf flattens the whole tree before it says how many pages there are, which takes seconds
    for a file of 20,000 tiny pages, and /Count may lie; so the leaves are counted here, stopping
    early. Malformed nodes and cycles are skipped: pypdf's own walk judges them afterwards.
    """
    from pypdf.generic import ArrayObject, DictionaryObject

    stack = [reader.root_object.get("/Pages")]
    seen: set[int] = set()  # /Pages nodes already expanded: guards against cycles
    count = 0
    while stack and count <= stop:
        node = stack.pop()
        node = node.get_object() if node is not None else None
        if not isinstance(node, DictionaryObject) or not node:
            continue
        kids = node.get("/Kids")
        if node.get("/Type") == "/Pages" or ("/Type" not in node and kids is not None):
            kids = kids.get_object() if kids is not None else None
            if id(node) not in seen and isinstance(kids, ArrayObject):
                seen.add(id(node))
                stack.extend(kids)
        else:
            count += 1
    return count


def _pdf_metadata(reader) -> dict:
    try:
        info = reader.metadata or {}
        return {"title": str(info.get("/Title", "") or ""), "author": str(info.get("/Author", "") or "")}
    except Exception:  # broken info dictionaries are common and never fatal
        return {}


def _extract_pdf_page(page) -> tuple[str, tuple[Line, ...]]:
    """Text of one page plus per-line font size and weight from pypdf's text visitor.

    Table rows are rebuilt from positions: a line that starts level with or above the previous
    one and to its right opens the next cell of the same row, so a row reads "a | b | c".
    """
    fragments: list[tuple[str, float, bool, float, float]] = []

    def visit(text, cm, tm, font_dict, font_size):
        if not text:
            return
        # Word-made PDFs set size 1 and scale the text matrix, so the size is font size x scale.
        scale = abs(tm[3]) if tm and tm[3] else 1.0
        cm_scale = abs(cm[3]) if cm and cm[3] else 1.0
        size = float(font_size or 0) * scale * cm_scale
        base = ""
        if font_dict:
            try:
                base = str(font_dict.get("/BaseFont", ""))
            except Exception:
                base = ""
        bold = bool(re.search(r"bold|black|heavy|semibold", base, re.I))
        try:
            x = tm[4] * cm[0] + tm[5] * cm[2] + cm[4]
            y = tm[4] * cm[1] + tm[5] * cm[3] + cm[5]
        except (TypeError, IndexError):
            x = y = 0.0
        fragments.append((text, size, bold, float(x), float(y)))

    page.extract_text(visitor_text=visit)
    text = "".join(f[0] for f in fragments)
    placed: list[tuple[Line, float, float]] = []
    current: list[tuple[str, float, bool, float, float]] = []

    def flush():
        line_text = "".join(t for t, *_ in current)
        weighted = [(len(t.strip()), s, b, x, y) for t, s, b, x, y in current if t.strip()]
        if weighted:
            total = sum(w[0] for w in weighted)
            size = max(weighted, key=lambda w: w[0])[1]
            bold = sum(w[0] for w in weighted if w[2]) > total / 2
            placed.append((Line(line_text, round(size, 1), bold), weighted[0][3], weighted[0][4]))
        current.clear()

    for frag in fragments:
        parts = frag[0].split("\n")
        for i, part in enumerate(parts):
            if i:
                flush()
            if part:
                current.append((part,) + frag[1:])
    flush()
    return text, tuple(_rebuild_rows(placed))


def _rebuild_rows(placed: list[tuple[Line, float, float]]) -> list[Line]:
    """Join the cells of table rows (drawn cell by cell) into single "a | b | c" lines."""
    n = len(placed)
    row_of: list[int | None] = [None] * n
    rows: list[dict] = []
    for i in range(1, n):
        line, x, y = placed[i]
        _, px, py = placed[i - 1]
        if y >= py - 1 and x > px + 5:
            r = row_of[i - 1]
            if r is not None and abs(rows[r]["top"] - y) < 2:
                rows[r]["cells"].append([i])
                row_of[i] = r
                continue
            j = i - 1  # walk back up the first cell to the line level with this one
            while j > 0 and abs(placed[j][2] - y) >= 2 and abs(placed[j][1] - px) < 3 and placed[j][2] < y \
                    and i - j < 15 and row_of[j] is None:
                j -= 1
            if abs(placed[j][2] - y) < 2 and placed[j][1] < x and row_of[j] is None:
                rows.append({"top": y, "cells": [list(range(j, i)), [i]]})
                for k in range(j, i + 1):
                    row_of[k] = len(rows) - 1
        elif row_of[i - 1] is not None and abs(x - px) < 3 and y < py:
            r = row_of[i - 1]
            rows[r]["cells"][-1].append(i)  # the cell's text runs on
            row_of[i] = r
    out: list[Line] = []
    emitted: set[int] = set()
    for i, (line, _, _) in enumerate(placed):
        r = row_of[i]
        if r is None:
            out.append(line)
        elif r not in emitted:
            emitted.add(r)
            cells = [" ".join(placed[k][0].text.strip() for k in cell) for cell in rows[r]["cells"]]
            out.append(Line(" | ".join(cells), line.size, line.bold))
    return out


# --- DOCX ------------------------------------------------------------------------------------

def _read_docx(data: bytes, name: str, config: Config) -> tuple[list[Page], dict, list[str]]:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = archive.infolist()
    except (zipfile.BadZipFile, ValueError, OSError) as exc:
        raise UnreadableError(f"{name}: is a damaged ZIP archive, so not a readable .docx", path=name) from exc
    names = {m.filename for m in members}
    if "word/document.xml" not in names:
        raise UnsupportedTypeError(f"{name}: {_zip_kind(archive, names)}, which plancheck cannot read; {RESAVE}",
                                   path=name)
    total = sum(m.file_size for m in members)
    if total > config.max_docx_uncompressed or len(members) > 5000:
        raise LimitExceededError(f"{name}: would expand to {total:,} bytes in {len(members)} parts, over the "
                                 f"limit of {config.max_docx_uncompressed:,} (a ZIP bomb?)", path=name)
    for m in members:
        if m.file_size > 1_000_000 and m.file_size > config.max_docx_ratio * max(m.compress_size, 1):
            raise LimitExceededError(f"{name}: part {m.filename} expands {m.file_size / max(m.compress_size, 1):,.0f}"
                                     f"-fold, over the limit of {config.max_docx_ratio:,.0f} (a ZIP bomb?)", path=name)
    try:
        import docx  # python-docx's parser does not resolve XML entities

        document = docx.Document(io.BytesIO(data))
        lines: list[Line] = []
        for block in _docx_blocks(document):
            lines.append(block)
        props = document.core_properties
        meta = {"title": props.title or "", "author": props.author or ""}
    except IngestError:
        raise
    except Exception as exc:
        raise UnreadableError(f"{name}: is a damaged Word document ({type(exc).__name__}: {exc})", path=name) from exc
    text = "\n".join(line.text for line in lines)
    # A .docx has no fixed pages; its text is one page.
    return [Page(1, text, tuple(lines))], meta, []


def _zip_kind(archive: zipfile.ZipFile, names: set[str]) -> str:
    """What a ZIP archive that is not a .docx holds, as a phrase for a message."""
    mimetype = b""
    if "mimetype" in names:  # OpenDocument files name their type in a first, stored member
        try:
            with archive.open("mimetype") as member:
                mimetype = member.read(100)
        except Exception:  # a damaged or encrypted member: the archive is still not a .docx
            mimetype = b""
    if mimetype.startswith(b"application/vnd.oasis.opendocument.text"):
        return "is an OpenDocument text file (.odt)"
    if mimetype.startswith(b"application/vnd.oasis.opendocument"):
        return "is an OpenDocument file (a spreadsheet or presentation), not a text document"
    if "xl/workbook.xml" in names:
        return "is an Excel workbook, not a Word .docx"
    if "ppt/presentation.xml" in names:
        return "is a PowerPoint presentation, not a Word .docx"
    return "is a ZIP archive but not a Word .docx (no word/document.xml)"


def _docx_blocks(document) -> list[Line]:
    """Paragraphs (with style names and run weight) and table rows, in document order."""
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    out: list[Line] = []
    body = document.element.body
    for child in body.iterchildren():
        tag = child.tag.rsplit("}", 1)[-1]
        if tag == "p":
            para = Paragraph(child, document)
            text = para.text
            style = ""
            try:
                style = para.style.name if para.style is not None else ""
            except Exception:
                style = ""
            runs = [r for r in para.runs if r.text.strip()]
            bold = bool(runs) and all(r.bold for r in runs)
            if style.lower().startswith("list") and text.strip():
                text = "- " + text
            out.append(Line(text, 0.0, bold, style))
        elif tag == "tbl":
            table = Table(child, document)
            for row in table.rows:
                cells: list[str] = []
                for cell in row.cells:
                    value = " ".join(cell.text.split())
                    if not cells or cells[-1] != value:  # merged cells repeat
                        cells.append(value)
                out.append(Line(" | ".join(cells), 0.0, False, "Table"))
            out.append(Line(""))
    return out


# --- RTF -------------------------------------------------------------------------------------

def _read_rtf(data: bytes, name: str, config: Config) -> tuple[list[Page], dict, list[str]]:
    try:
        found = read_rtf(data, max_chars=config.max_chars, max_pages=config.max_pages)
    except RtfLimitError as exc:
        raise LimitExceededError(f"{name}: is an RTF file that {exc}, over plancheck's limit", path=name) from exc
    pages = [Page(number, "\n".join(line.text for line in lines), tuple(lines))
             for number, lines in enumerate(found.pages, start=1)]
    return pages, {"title": found.title, "author": found.author}, []


# --- plain text and Markdown -----------------------------------------------------------------

def _read_text(data: bytes, name: str, config: Config, markdown: bool) -> tuple[list[Page], dict, list[str]]:
    warns: list[str] = []
    encoding = text_encoding(data)
    if encoding and encoding.startswith(("utf-16", "utf-32")):
        text = data.decode(encoding, errors="replace")
        if "\ufffd" in text:
            warns.append(f"{text.count(chr(0xFFFD))} character(s) could not be decoded from {encoding.upper()}")
    else:
        for encoding in ("utf-8-sig", "cp1252", "latin-1"):
            try:
                text = data.decode(encoding)
                break
            except UnicodeDecodeError:
                continue
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    pages = []
    for number, chunk in enumerate(text.split("\f"), start=1):
        lines = []
        for raw in chunk.split("\n"):
            m = _MD_HEADING.match(raw) if markdown else None
            if m:
                lines.append(Line(m.group(2), 0.0, True, f"Heading {len(m.group(1))}"))
            else:
                lines.append(Line(raw))
        pages.append(Page(number, "\n".join(l.text for l in lines), tuple(lines)))
    if len(pages) > config.max_pages:
        raise TooManyPagesError(f"{name}: has {len(pages):,} pages, over the limit of {config.max_pages:,}",
                                path=name)
    title = next((l.text for l in pages[0].lines if l.style.startswith("Heading")), "") if markdown else ""
    return pages, {"title": title}, warns


# --- cleaning --------------------------------------------------------------------------------

def strip_control(text: str) -> str:
    """Remove NULs, control characters and zero-width marks (keeps newlines and tabs)."""
    return _CONTROL.sub("", text)


def _signature(text: str) -> str:
    return re.sub(r"\d+", "#", " ".join(text.lower().split()))


def clean_pages(pages: list[Page]) -> list[Page]:
    """Drop running headers, footers and page numbers; rejoin hyphenated words; tidy whitespace."""
    repeated: set[str] = set()
    if len(pages) >= 3:
        counts: Counter[str] = Counter()
        for page in pages:
            nonblank = [l.text for l in page.lines if l.text.strip()]
            edge = set(_signature(t) for t in nonblank[:3] + nonblank[-3:])
            counts.update(edge)
        repeated = {sig for sig, n in counts.items() if sig and n >= max(3, len(pages) * 0.5)}
    cleaned: list[Page] = []
    for page in pages:
        lines: list[Line] = []
        for line in page.lines:
            text = " ".join(strip_control(line.text).replace("\u00a0", " ").split())
            if text and (_PAGE_NUMBER.match(text) or _signature(text) in repeated):
                continue
            lines.append(Line(text, line.size, line.bold, line.style))
        # Rejoin words hyphenated across line breaks ("inter-\nvention" -> "intervention").
        merged: list[Line] = []
        for line in lines:
            if (merged and merged[-1].text.endswith("-") and len(merged[-1].text) > 1
                    and merged[-1].text[-2].isalpha() and line.text[:1].islower()):
                prev = merged.pop()
                head, _, rest = line.text.partition(" ")
                merged.append(Line(prev.text[:-1] + head, prev.size, prev.bold, prev.style))
                if rest:
                    merged.append(Line(rest, line.size, line.bold, line.style))
                continue
            merged.append(line)
        text = "\n".join(l.text for l in merged)
        text = re.sub(r"\n{3,}", "\n\n", text).strip()
        cleaned.append(Page(page.number, text, tuple(merged)))
    return cleaned
