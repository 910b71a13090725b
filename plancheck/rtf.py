"""A small reader of Rich Text Format: the paragraphs of an RTF file as text, without its markup.

It keeps what a plan's text needs (paragraphs, line and page breaks, table rows, bold runs,
outline levels, characters in the file's code page or in Unicode, the title and author of the
info group) and skips every destination it does not show: font and colour tables, style sheets,
pictures, objects, field instructions, headers, footers and anything marked ``\\*``.

The bytes are read once, by a tokenizer whose alternatives never overlap, so a file costs time
in proportion to its size however it is built; group nesting, text and pages are bounded. (The
regex-based converters on PyPI go quadratic on unclosed field groups and font tables.)
"""
from __future__ import annotations

import codecs
import re
from dataclasses import dataclass, field

from .types import Line

# One token per match, tried at every position; each alternative starts with a different byte
# class, so a match never backtracks over more than the token itself.
_TOKEN = re.compile(
    rb"\\([a-zA-Z]{1,32})(-?\d{1,10})? ?"  # control word with its optional parameter
    rb"|\\'([0-9a-fA-F]{2})"  # a byte in the current code page
    rb"|\\(.)"  # control symbol
    rb"|([{}])"  # group
    rb"|([^\\{}\r\n]+)"  # plain text
    rb"|[\r\n]+"  # line ends in the source carry no meaning
    rb"|\\",  # a lone backslash at the very end
    re.S)

# Destinations whose text is not part of the document's body.
_SKIP = frozenset("""
    fonttbl colortbl stylesheet listtable listoverridetable rsidtbl revtbl filetbl pgptbl protusertbl
    xmlnstbl themedata colorschememapping latentstyles datastore generator userprops docvar
    pict nonshppict object objdata objclass objname result shpinst fldinst datafield formfield
    header headerl headerr headerf footer footerl footerr footerf footnote annotation atnid atnauthor
    atndate comment pn pntext pntxta pntxtb template bkmkstart bkmkend
""".split())
_SYMBOLS = {"tab": "\t", "emdash": "\u2014", "endash": "\u2013", "bullet": "\u2022", "lquote": "\u2018",
            "rquote": "\u2019", "ldblquote": "\u201c", "rdblquote": "\u201d", "emspace": " ", "enspace": " ",
            "qmspace": " "}
_BREAKS = frozenset(("par", "sect", "line"))
_ESCAPED = {"~": "\u00a0", "_": "-", "{": "{", "}": "}", "\\": "\\"}
_CHARSETS = {"ansi": "cp1252", "mac": "mac_roman", "pc": "cp437", "pca": "cp850"}


class RtfLimitError(ValueError):
    """An RTF file goes past one of the reader's bounds (nesting, text or pages)."""


@dataclass
class RtfText:
    """What :func:`read_rtf` found: pages of lines, and the info group's title and author."""

    pages: list[list[Line]] = field(default_factory=lambda: [[]])
    title: str = ""
    author: str = ""


def is_rtf(data: bytes) -> bool:
    """Whether ``data`` opens like an RTF file (``{\\rtf``, after any blank space)."""
    return data[:64].lstrip(b" \t\r\n\xef\xbb\xbf").startswith(b"{\\rtf")


class _Reader:
    """The reading state; :meth:`feed` walks the tokens once."""

    def __init__(self, max_depth: int, max_chars: int, max_pages: int) -> None:
        self.max_depth, self.max_chars, self.max_pages = max_depth, max_chars, max_pages
        self.out = RtfText()
        # Group state, saved on "{" and restored on "}": skipped, Unicode fallback length,
        # bold, hidden (\v or \deleted), and the info field being captured.
        self.skip, self.uc, self.bold, self.hidden, self.capture = False, 1, False, False, ""
        self.stack: list[tuple[bool, int, bool, bool, str]] = []
        self.info_depth = 0
        self.codepage = "cp1252"
        self.fallback = 0  # characters still to drop after a \u character
        self.high = 0  # a pending high surrogate from \u
        self.hexes = bytearray()
        self.pieces: list[tuple[str, bool]] = []
        self.cells: list[str] = []
        self.outline: int | None = None
        self.in_table = False
        self.chars = 0
        self.captured: dict[str, list[str]] = {"title": [], "author": []}

    # -- output --------------------------------------------------------------------------------

    def emit(self, text: str) -> None:
        if self.capture:
            self.captured[self.capture].append(text)
        elif not self.skip and not self.hidden and text:
            self.chars += len(text)
            if self.chars > self.max_chars:
                raise RtfLimitError(f"holds over {self.max_chars:,} characters of text")
            self.pieces.append((text, self.bold))

    def flush_hexes(self) -> None:
        if self.hexes:
            self.emit(bytes(self.hexes).decode(self.codepage, errors="replace"))
            self.hexes.clear()

    def take_pieces(self) -> tuple[str, bool]:
        text = "".join(t for t, _ in self.pieces)
        shown = [b for t, b in self.pieces if t.strip()]
        self.pieces.clear()
        return text, bool(shown) and all(shown)

    def end_paragraph(self) -> None:
        if self.skip or self.capture:
            return
        if self.in_table:  # a paragraph break inside a table cell: the cell's text runs on
            self.pieces.append((" ", False))
            return
        text, bold = self.take_pieces()
        page = self.out.pages[-1]
        if not text.strip() and page and not page[-1].text.strip():
            return  # runs of empty paragraphs are one blank line (and cost no memory)
        self.chars += 1
        if self.chars > self.max_chars:
            raise RtfLimitError(f"holds over {self.max_chars:,} characters of text")
        style = f"Heading {self.outline + 1}" if self.outline is not None else "Normal"
        page.append(Line(text, 0.0, bold, style))

    def end_cell(self) -> None:
        if not self.skip and not self.capture:
            self.cells.append(" ".join(self.take_pieces()[0].split()))

    def end_row(self) -> None:
        if self.skip or self.capture:
            return
        if self.pieces:
            self.end_cell()
        while self.cells and not self.cells[-1]:
            self.cells.pop()
        if not self.cells:
            return
        self.out.pages[-1].append(Line(" | ".join(self.cells), 0.0, False, "Table"))
        self.cells.clear()
        self.chars += 1

    def end_page(self) -> None:
        if self.skip or self.capture:
            return
        self.in_table = False
        self.end_paragraph()
        if len(self.out.pages) >= self.max_pages:
            raise RtfLimitError(f"has more than {self.max_pages:,} pages")
        self.out.pages.append([])

    def unicode(self, value: int) -> None:
        value &= 0xFFFF  # a signed 16-bit number in the file; anything wider is cut, never an error
        if 0xD800 <= value < 0xDC00:
            self.high = value
            return
        if 0xDC00 <= value < 0xE000:
            char = chr(0x10000 + ((self.high - 0xD800) << 10) + (value - 0xDC00)) if self.high else "\ufffd"
        else:
            char = chr(value)
        self.high = 0
        self.emit(char)

    # -- tokens --------------------------------------------------------------------------------

    def feed(self, data: bytes) -> RtfText:
        pos, end, depth = max(data.find(b"{"), 0), len(data), 0
        match = _TOKEN.match
        while pos < end:
            m = match(data, pos)
            pos = m.end()
            word, arg, hexbyte, symbol, brace, text = m.groups()
            if hexbyte is not None:
                if self.fallback:
                    self.fallback -= 1
                elif not self.skip or self.capture:
                    self.hexes.append(int(hexbyte, 16))
                continue
            if self.hexes:
                self.flush_hexes()
            if text is not None:
                if self.fallback:
                    drop, self.fallback = min(self.fallback, len(text)), max(0, self.fallback - len(text))
                    text = text[drop:]
                if text and (not self.skip or self.capture):
                    self.emit(text.decode(self.codepage, errors="replace"))
                continue
            if brace == b"{":
                depth += 1
                if depth > self.max_depth:
                    raise RtfLimitError(f"nests groups more than {self.max_depth} deep")
                self.stack.append((self.skip, self.uc, self.bold, self.hidden, self.capture))
                self.fallback = 0
            elif brace == b"}":
                self.fallback = 0
                if not self.stack:
                    break
                self.skip, self.uc, self.bold, self.hidden, self.capture = self.stack.pop()
                depth -= 1
                if depth < self.info_depth:
                    self.info_depth = 0
                if depth == 0:
                    break  # the document's group is closed; anything after it is not part of it
            elif symbol is not None:
                self.fallback = 0
                self.symbol(symbol)
            elif word is not None:
                self.fallback = 0
                skip_bytes = self.word(word.decode("ascii"), int(arg) if arg else None, depth)
                pos = min(end, pos + skip_bytes)
        self.flush_hexes()
        self.in_table = False
        self.skip = self.hidden = False
        self.capture = ""
        if self.cells:
            self.end_row()
        self.end_paragraph()
        self.out.title = " ".join("".join(self.captured["title"]).split())
        self.out.author = " ".join("".join(self.captured["author"]).split())
        return self.out

    def symbol(self, symbol: bytes) -> None:
        char = symbol.decode("latin-1")
        if char == "*":
            self.skip = True
        elif char in "\r\n":
            self.end_paragraph()  # a backslash before a line end is a paragraph mark
        elif char in _ESCAPED:
            self.emit(_ESCAPED[char])

    def word(self, word: str, arg: int | None, depth: int) -> int:
        """Act on one control word; returns the number of raw bytes that follow it (\\bin)."""
        if word in _BREAKS:  # the commonest words first
            self.end_paragraph()
        elif word in _SKIP:
            self.skip = True
        elif word == "bin":
            return max(arg or 0, 0)
        elif word in _SYMBOLS:
            self.emit(_SYMBOLS[word])
        elif word == "u" and arg is not None:
            self.unicode(arg)
            self.fallback = self.uc
        elif word == "uc":
            self.uc = min(max(arg or 0, 0), 8)
        elif word == "page":
            self.end_page()
        elif word in ("cell", "nestcell"):
            self.end_cell()
        elif word in ("row", "nestrow"):
            self.in_table = False
            self.end_row()
        elif word == "intbl":
            self.in_table = True
        elif word == "pard":
            self.outline, self.in_table = None, False
        elif word == "outlinelevel":
            self.outline = arg if arg is not None and 0 <= arg <= 8 else None
        elif word == "b":
            self.bold = arg != 0
        elif word in ("v", "deleted"):
            self.hidden = arg != 0
        elif word == "plain":
            self.bold = self.hidden = False
        elif word == "info":
            self.skip, self.info_depth = True, depth
        elif word in ("title", "author") and self.info_depth and depth > self.info_depth:
            self.capture = word
        elif word == "ansicpg" and arg is not None:
            self.codepage = _codepage(f"cp{arg}")
        elif word in _CHARSETS:
            self.codepage = _CHARSETS[word]
        return 0


def _codepage(name: str) -> str:
    try:
        return codecs.lookup(name).name
    except LookupError:
        return "cp1252"


def read_rtf(data: bytes, *, max_depth: int = 200, max_chars: int = 5_000_000, max_pages: int = 2000) -> RtfText:
    """The text of an RTF file, as pages of lines (split at ``\\page``), and its title and author.

    Each paragraph is one line: styled ``Heading N`` when it has an outline level, ``Normal``
    otherwise, and bold when every visible character is; a table row is one ``a | b | c`` line.

    Raises:
        RtfLimitError: groups nest deeper than ``max_depth``, or the text or pages go past
            ``max_chars`` or ``max_pages``.
    """
    return _Reader(max_depth, max_chars, max_pages).feed(data)
