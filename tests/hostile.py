"""Build hostile submissions at test time: PDF bombs and traps, ZIP and XML bombs, odd file types.

Every builder writes into a folder it is given and returns the path it made; the files are small
on disk (at most ~3 MB, for 20,000 pages) however much they claim or inflate to, and nothing is
committed. PDFs are written as raw bytes by ``pdf_bytes`` so each trap is exactly what it says.
"""
from __future__ import annotations

import io
import json
import os
import shutil
import zipfile
import zlib
from pathlib import Path
from typing import Callable

GOOD_PLAN = Path(__file__).resolve().parent.parent / "examples" / "hollowfield-2009.pdf"
# One sentence of plain text: enough visible characters to pass plancheck's no-text check.
SENTENCE = b"The force will appoint a named lead for serious organised crime by 31 March 2010."
_FONT = b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"
# Different text on each page (the same line on every page would be dropped as a running header).
_PAGE_TEXTS = (SENTENCE, b"Each district commander will report progress to the programme board monthly.",
               b"Partners will share intelligence on organised crime groups through the regional unit.")


# --- raw PDF writing -------------------------------------------------------------------------

def pdf_bytes(objects: list[bytes], root: int = 1) -> bytes:
    """A PDF whose objects 1..n are ``objects`` (bodies without ``obj``/``endobj``), with a valid xref."""
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root %d 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, root, xref)
    return bytes(out)


def stream(data: bytes, filters: int = 0) -> bytes:
    """A stream object body whose content is ``data`` FlateDecoded ``filters`` times."""
    for _ in range(filters):
        data = zlib.compress(data, 9)
    names = b" ".join([b"/FlateDecode"] * filters)
    filter_entry = b" /Filter [%s]" % names if filters else b""
    return b"<< /Length %d%s >>\nstream\n" % (len(data), filter_entry) + data + b"\nendstream"


def page(parent: int, content: int, font: int) -> bytes:
    return (b"<< /Type /Page /Parent %d 0 R /MediaBox [0 0 612 792] /Contents %d 0 R "
            b"/Resources << /Font << /F1 %d 0 R >> >> >>" % (parent, content, font))


def text_content(text: bytes = SENTENCE) -> bytes:
    return b"BT /F1 12 Tf 72 720 Td (" + text + b") Tj ET"


def _write(folder: Path, name: str, data: bytes) -> Path:
    path = Path(folder) / name
    path.write_bytes(data)
    return path


# --- PDF traps -------------------------------------------------------------------------------

def _deflate_repeated(chunk: bytes, total: int) -> bytes:
    """A zlib stream of ``chunk`` repeated to ``total`` bytes, built without compressing it all.

    One 1 MiB block is deflated once and ended with a full flush, which resets the compressor's
    history, so the same compressed bytes are valid for every copy of the block.
    """
    block = chunk * max(1, (1 << 20) // len(chunk))
    copies = max(1, total // len(block))
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    body = compressor.compress(block) + compressor.flush(zlib.Z_FULL_FLUSH)
    adler = 1
    for _ in range(copies):
        adler = zlib.adler32(block, adler)
    return b"\x78\xda" + body * copies + compressor.flush(zlib.Z_FINISH) + adler.to_bytes(4, "big")


def flate_bomb(folder: Path, gigabytes: int = 2, layers: int = 3) -> Path:
    """A page whose content stream is FlateDecoded ``layers`` times and inflates to ``gigabytes`` GB.

    The innermost layer repeats one compressed block (see ``_deflate_repeated``), so building it
    takes about a second and never holds the inflated bytes.
    """
    data = _deflate_repeated(b"(bomb) Tj ", gigabytes << 30)
    for _ in range(layers - 1):
        data = zlib.compress(data, 9)
    names = b" ".join([b"/FlateDecode"] * layers)
    content = b"<< /Length %d /Filter [%s] >>\nstream\n" % (len(data), names) + data + b"\nendstream"
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
               page(2, 4, 5), content, _FONT]
    return _write(folder, "flate-bomb.pdf", pdf_bytes(objects))


def operator_flood(folder: Path, operators: int = 300_000) -> Path:
    """One page with ``operators`` text-showing operators: tiny compressed, slow to interpret."""
    ops = b"BT /F1 12 Tf 72 720 Td " + b"(x) Tj " * operators + b"ET"
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
               page(2, 4, 5), stream(ops, filters=1), _FONT]
    return _write(folder, "operator-flood.pdf", pdf_bytes(objects))


def count_lie(folder: Path, kids: int = 3) -> Path:
    """A page tree whose /Count claims 2**31 pages while it holds ``kids`` (each with its own text)."""
    first = 4 + kids  # catalog, pages, font, then ``kids`` contents, then the pages
    refs = b" ".join(b"%d 0 R" % (first + i) for i in range(kids))
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>",
               b"<< /Type /Pages /Kids [%s] /Count %d >>" % (refs, 2 ** 31), _FONT]
    objects += [stream(text_content(_PAGE_TEXTS[i % len(_PAGE_TEXTS)])) for i in range(kids)]
    objects += [page(2, 4 + i, 3) for i in range(kids)]
    return _write(folder, "count-lie.pdf", pdf_bytes(objects))


def page_tree_cycle(folder: Path) -> Path:
    """A Pages node whose /Kids include the node itself (and one real page)."""
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>",
               b"<< /Type /Pages /Kids [2 0 R 3 0 R] /Count 2 >>",
               page(2, 4, 5), stream(text_content()), _FONT]
    return _write(folder, "page-tree-cycle.pdf", pdf_bytes(objects))


def many_pages(folder: Path, pages: int = 20_000) -> Path:
    """``pages`` page objects sharing one content stream and font (about 2 MB)."""
    first = 5
    refs = b" ".join(b"%d 0 R" % (first + i) for i in range(pages))
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [%s] /Count %d >>" % (refs, pages),
               stream(text_content()), _FONT]
    one = page(2, 3, 4)
    objects += [one] * pages
    return _write(folder, f"pages-{pages}.pdf", pdf_bytes(objects))


def truncated(folder: Path, source: Path = GOOD_PLAN) -> Path:
    """The first half of a valid PDF: no xref, no trailer, streams cut mid-way."""
    data = Path(source).read_bytes()
    return _write(folder, "truncated.pdf", data[: len(data) // 2])


# --- ZIP and Word traps ----------------------------------------------------------------------

def _docx_template() -> bytes:
    import docx

    document = docx.Document()
    document.add_paragraph(SENTENCE.decode())
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def _rebuild_docx(path: Path, replace: dict[str, Callable[[zipfile.ZipFile], None]]) -> Path:
    """Copy python-docx's template into ``path``, letting ``replace[name](zip)`` write chosen parts."""
    with zipfile.ZipFile(io.BytesIO(_docx_template())) as source, \
            zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            if info.filename in replace:
                replace[info.filename](target)
            else:
                target.writestr(info, source.read(info))
    return path


def zip_named_pdf(folder: Path) -> Path:
    """A ZIP archive (holding a text file) named ``.pdf``."""
    path = Path(folder) / "archive.pdf"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("plan.txt", SENTENCE.decode() * 5)
    return path


_DOC_HEAD = (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
             b'<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>')
_DOC_TAIL = b"</w:body></w:document>"


def docx_bomb(folder: Path, megabytes: int = 300, name: str = "zip-bomb.docx") -> Path:
    """A .docx whose word/document.xml inflates to ``megabytes`` MB (about 300 KB on disk).

    The part is written through zipfile's streaming writer, so it is never held in memory.
    """
    def write_bomb(target: zipfile.ZipFile) -> None:
        with target.open("word/document.xml", "w") as handle:
            handle.write(_DOC_HEAD + b"<w:p><w:r><w:t>")
            block = b"A" * (1 << 20)
            for _ in range(megabytes):
                handle.write(block)
            handle.write(b"</w:t></w:r></w:p>" + _DOC_TAIL)

    return _rebuild_docx(Path(folder) / name, {"word/document.xml": write_bomb})


def docx_size_lie(folder: Path, megabytes: int = 50) -> Path:
    """A .docx whose word/document.xml inflates to ``megabytes`` MB while its headers claim 2 KB.

    Checks on the declared sizes pass; the reader must still stop at the declared size.
    """
    path = docx_bomb(folder, megabytes, name=".zip-size-lie.tmp")
    data = _patch_size(path.read_bytes(), b"word/document.xml", 2048)
    path.unlink()
    return _write(folder, "zip-size-lie.docx", data)


def _patch_size(data: bytes, name: bytes, size: int) -> bytes:
    """Rewrite the uncompressed size of member ``name`` in its local header and central directory."""
    out = bytearray(data)
    # (signature, offset of the size field, offset of the name length, offset of the name)
    for signature, size_at, length_at, name_at in ((b"PK\x03\x04", 22, 26, 30), (b"PK\x01\x02", 24, 28, 46)):
        start = out.find(signature)
        while start != -1:
            length = int.from_bytes(out[start + length_at:start + length_at + 2], "little")
            if out[start + name_at:start + name_at + length] == name:
                out[start + size_at:start + size_at + 4] = size.to_bytes(4, "little")
            start = out.find(signature, start + 4)
    return bytes(out)


def _docx_with_doctype(path: Path, doctype: bytes, body: bytes) -> Path:
    xml = (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n' + doctype + b"\n"
           + _DOC_HEAD.split(b"\n", 1)[1] + b"<w:p><w:r><w:t>" + SENTENCE + b"</w:t></w:r></w:p>"
           + b"<w:p><w:r><w:t>" + body + b"</w:t></w:r></w:p>" + _DOC_TAIL)

    def write_xml(target: zipfile.ZipFile) -> None:
        target.writestr("word/document.xml", xml)

    return _rebuild_docx(path, {"word/document.xml": write_xml})


def docx_entities(folder: Path, levels: int = 10) -> Path:
    """A .docx whose document.xml declares billion-laughs entities (10**(levels-1) 'lol's) and uses them."""
    decl = [b'<!ENTITY lol0 "lol">']
    decl += [b'<!ENTITY lol%d "%s">' % (i, b"&lol%d;" % (i - 1) * 10) for i in range(1, levels)]
    doctype = b"<!DOCTYPE w:document [" + b"".join(decl) + b"]>"
    return _docx_with_doctype(Path(folder) / f"laughs-{levels}.docx", doctype, b"&lol%d;" % (levels - 1))


def docx_external_entity(folder: Path, secret: Path) -> Path:
    """A .docx whose document.xml pulls the file ``secret`` in through an external entity (XXE)."""
    doctype = b'<!DOCTYPE w:document [<!ENTITY xxe SYSTEM "%s">]>' % Path(secret).resolve().as_uri().encode()
    return _docx_with_doctype(Path(folder) / "external-entity.docx", doctype, b"&xxe;")


# --- not regular files -----------------------------------------------------------------------

def empty_file(folder: Path) -> Path:
    return _write(folder, "empty.pdf", b"")


def directory_named_pdf(folder: Path) -> Path:
    path = Path(folder) / "plan.pdf"
    path.mkdir()
    return path


def symlink(folder: Path, target: Path) -> Path:
    path = Path(folder) / "link.pdf"
    os.symlink(target, path)
    return path


def fifo(folder: Path) -> Path:
    """A named pipe with no writer: opening it for reading without O_NONBLOCK would block forever."""
    path = Path(folder) / "pipe.pdf"
    os.mkfifo(path)
    return path


def good_plan(folder: Path) -> Path:
    path = Path(folder) / GOOD_PLAN.name
    shutil.copyfile(GOOD_PLAN, path)
    return path


SECRET = b"canary-d41d8cd98f00b204-secret"


def secret_file(folder: Path) -> Path:
    """A private file outside the inbox that no submission may pull in (by a link or an XML entity)."""
    return _write(folder, "secret.txt", (SECRET + b" ") * 8)


# --- the inbox of every case -----------------------------------------------------------------

# Every hostile case and the codes plancheck may give it ("scored" for a successful read). Where a
# case may defensibly end in two ways both are allowed; otherwise the code is exact.
EXPECTED: dict[str, set[str]] = {
    "flate_bomb": {"limit_exceeded"},  # pypdf's decompression cap (75 MB) stops the first layer
    # 300,000 text operators: seconds of CPU in pypdf, more or fewer than the timeout depending on the
    # machine, so either outcome is right; what it costs is measured by `make bench`.
    "operator_flood": {"timeout", "scored", "no_text"},
    # A reader that blocks for good (the test replaces the reader for this one file): the timeout must stop it.
    "blocking_reader": {"timeout"},
    "count_lie": {"scored"},  # the 3 real pages are read; /Count is never trusted
    "page_tree_cycle": {"unreadable"},
    "many_pages": {"too_many_pages"},
    "truncated": {"unreadable", "no_text"},
    "zip_named_pdf": {"unsupported_type"},
    "docx_bomb": {"limit_exceeded"},
    "docx_size_lie": {"unreadable"},  # zipfile stops at the declared size; the CRC then fails
    "docx_laughs": {"unreadable"},  # libxml2 refuses the entity amplification
    "docx_small_entities": {"scored"},  # parsed, the entity left unexpanded
    "docx_external_entity": {"scored"},  # parsed, the external entity never fetched
    "empty_file": {"empty"},
    "directory_named_pdf": {"not_a_file"},
    "symlink": {"not_a_file"},
    "fifo": {"not_a_file"},
    "good_plan": {"scored"},
}
# The file name whose reading the batch fixture makes block forever, and the timeout a batch gives
# each file: long enough for any honest file on a busy machine, and the blocking reader still never
# finishes within it, however fast the machine.
BLOCKING_NAME = "blocks-forever.pdf"
TIMEOUT = 30


def build_inbox(inbox: Path, outside: Path) -> dict[str, str]:
    """Build every case of ``EXPECTED`` in ``inbox`` (private files in ``outside``); path -> case."""
    secret = secret_file(outside)
    linked = shutil.copyfile(GOOD_PLAN, Path(outside) / "linked-plan.pdf")
    builders: dict[str, Callable[[], Path]] = {
        "flate_bomb": lambda: flate_bomb(inbox),
        "operator_flood": lambda: operator_flood(inbox),
        "count_lie": lambda: count_lie(inbox),
        "page_tree_cycle": lambda: page_tree_cycle(inbox),
        "many_pages": lambda: many_pages(inbox),
        "truncated": lambda: truncated(inbox),
        "zip_named_pdf": lambda: zip_named_pdf(inbox),
        "docx_bomb": lambda: docx_bomb(inbox),
        "docx_size_lie": lambda: docx_size_lie(inbox),
        "docx_laughs": lambda: docx_entities(inbox, levels=10),
        "docx_small_entities": lambda: docx_entities(inbox, levels=4),
        "docx_external_entity": lambda: docx_external_entity(inbox, secret),
        "empty_file": lambda: empty_file(inbox),
        "directory_named_pdf": lambda: directory_named_pdf(inbox),
        "symlink": lambda: symlink(inbox, Path(linked)),
        "fifo": lambda: fifo(inbox),
        "blocking_reader": lambda: Path(shutil.copyfile(GOOD_PLAN, inbox / BLOCKING_NAME)),
        "good_plan": lambda: good_plan(inbox),
    }
    assert set(builders) == set(EXPECTED)
    return {str(build()): case for case, build in builders.items()}


# --- settings and process checks -------------------------------------------------------------

def write_config(path: Path, **settings) -> Path:
    """A TOML settings file with ``[plancheck]`` ``settings`` (strings and numbers)."""
    lines = ["[plancheck]"] + [f"{key} = {json.dumps(value)}" for key, value in settings.items()]
    Path(path).write_text("\n".join(lines) + "\n", encoding="utf-8")
    return Path(path)


def child_pids() -> set[int]:
    """Processes whose parent is this one, read from /proc (zombies included: they were not reaped)."""
    me, found = os.getpid(), set()
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as fh:
                fields = fh.read().rsplit(b")", 1)[1].split()
        except (OSError, IndexError):
            continue  # ended while we looked
        if int(fields[1]) == me:
            found.add(int(entry))
    return found


def peak_rss_kb() -> int:
    """This process's peak resident memory (VmHWM) in KiB."""
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    raise AssertionError("no VmHWM in /proc/self/status")
