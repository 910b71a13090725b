"""Split a Document into protective-service area sections.

Headings are found from numbering, font size and weight (PDF), heading styles (Word, Markdown)
and the shape of short standalone lines (plain text). Each heading's text gets an area from its
heading, or from its body's vocabulary (areas.py); sub-headings inherit their parent's area;
a heading that names two areas has its paragraphs shared between them; a document without
headings is assigned paragraph by paragraph. Parts of one area are merged, keeping every heading
and page.
"""
from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

from . import area_model
from .areas import GENERAL, REQUIRED_AREAS, best_area, heading_areas, is_general_heading, vocabulary_scores
from .types import Document, Section, Segmentation

_NUMBERED = re.compile(r"^((\d{1,2})(\.\d{1,2}){0,3}|[A-H]\.|[IVX]{1,4}\.|(section|part)\s+\d+)[.:)]?\s+\S", re.I)
_SENTENCE_END = re.compile(r"[.;,:?!]$")
_BULLET = re.compile(r"^([-*\u2022\u25aa\u2013]|\d{1,2}[.)]\s+[a-z])\s*")
_DATE_START = re.compile(r"^\d{1,2}(st|nd|rd|th)?\s+(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)", re.I)
_QA = re.compile(r"^(q|a|q\d+|question|answer)\s*[:.]", re.I)
_SMALL_WORDS = {"and", "of", "the", "for", "to", "in", "on", "a", "an", "with", "from", "by", "&", "at", "our"}


@dataclass
class _Line:
    text: str
    page: int
    size: float
    bold: bool
    style: str
    blank_before: bool


@dataclass
class _Part:
    heading: str
    level: int
    lines: list[_Line] = field(default_factory=list)

    @property
    def pages(self) -> list[int]:
        return sorted({l.page for l in self.lines})

    @property
    def body(self) -> str:
        return "\n".join(l.text for l in self.lines)


def _flatten(doc: Document) -> list[_Line]:
    out: list[_Line] = []
    blank = True
    for page in doc.pages:
        lines = page.lines or tuple()
        if not lines:
            from .types import Line
            lines = tuple(Line(t) for t in page.text.split("\n"))
        for line in lines:
            text = line.text.strip()
            if not text:
                blank = True
                continue
            out.append(_Line(text, page.number, line.size, line.bold, line.style, blank))
            blank = False
        blank = True
    return out


def _body_size(lines: list[_Line]) -> float:
    sizes: Counter[float] = Counter()
    for l in lines:
        if l.size:
            sizes[round(l.size, 1)] += len(l.text)
    return sizes.most_common(1)[0][0] if sizes else 0.0


def _title_like(text: str) -> bool:
    words = [w for w in re.findall(r"[A-Za-z][A-Za-z'&-]*", text)]
    if not words:
        return False
    if text.isupper():
        return True
    content = [w for w in words if w.lower() not in _SMALL_WORDS]
    return bool(content) and sum(w[0].isupper() for w in content) / len(content) >= 0.6


def _heading_level(line: _Line, body: float, is_heading_style: bool) -> int | None:
    """The heading level of a line (1 = top), or None when it is body text."""
    text = line.text
    words = text.split()
    if not words or " | " in text or text.lstrip().startswith("|"):
        return None  # a table row is never a heading
    if _QA.match(text) and not ((line.bold or (text.isupper() and line.blank_before)) and heading_areas(text)):
        # "Q: ..." and "A: ..." lines, unless set in bold or in capitals on a line of their own and
        # naming an area ("Q2. Major crime", "Q1. IS THE FORCE CLOSING THE GAP ON ORGANISED CRIME?")
        return None
    if is_heading_style and len(words) <= 30:  # the author said so: a long heading is still one
        m = re.search(r"(\d)", line.style)
        return int(m.group(1)) if m else 1
    if (text.isupper() and line.blank_before and len(words) <= 20 and not text.endswith((".", ":", ";", ","))
            and not line.size):
        return 1  # a line in capitals on its own in plain text, a long question too ("ARE WE READY FOR A FLU PANDEMIC, ...?")
    if len(words) > 14:
        return None
    if is_heading_style:
        m = re.search(r"(\d)", line.style)
        return int(m.group(1)) if m else 1
    if line.style.lower() in ("title",):
        return 1
    numbered = _NUMBERED.match(text) and not _DATE_START.match(text)
    if numbered and body and line.size and line.size < body - 0.1:
        numbered = None  # smaller print (table cells, footnotes) is never a heading
    # A short question stands as a heading ("How will we protect vulnerable people?").
    question = text.endswith("?") and len(words) <= 12
    ends_like_sentence = (bool(_SENTENCE_END.search(text)) and not text.endswith(":") and not question
                          or text.endswith(","))
    depth = text.split()[0].count(".") + 1 if numbered and text[0].isdigit() else 1
    if numbered and text.split()[0].endswith(".") and depth > 1:
        depth -= 1
    if body and line.size:
        if line.size >= body + 1.4 and not ends_like_sentence:
            return max(1, depth if numbered else 1)
        # A bold line at body size heads a section: a longer one too when it names an area (a
        # bilingual heading: "Atal Troseddwyr rhag Defnyddio'r Ffyrdd / Denying Criminals the Use of the Roads").
        if line.bold and line.size >= body - 0.1 and not ends_like_sentence and len(words) <= (14 if heading_areas(text) else 12):
            return depth + 1 if numbered else 3
        if not numbered:
            return None
    if _BULLET.match(text) and not numbered:
        return None
    if ends_like_sentence:
        return None
    if numbered and len(words) <= 12 and (_title_like(re.sub(_NUMBERED.pattern.split("[.:)]")[0], "", text))
                                          or (line.blank_before and heading_areas(text))):
        return depth  # a numbered heading; in sentence case too when it names an area on a line of its own
    limit = 12 if heading_areas(text) else 10
    if line.blank_before and len(words) <= limit and _title_like(text) and not text.endswith(":"):
        return 2 if not text.isupper() else 1
    if question and line.blank_before:
        return 2
    if line.bold and len(words) <= (14 if heading_areas(text) else 10):
        return 3
    return None


def _standalone_heading(line: _Line, nxt: _Line | None) -> bool:
    """A short sentence-case line standing alone between blank lines in plain text ("Major crime")."""
    text = line.text.strip()
    words = text.split()
    limit = 10 if heading_areas(text) else 6  # a longer line still heads a section when it names an area
    return (line.blank_before and nxt is not None and nxt.blank_before and 1 <= len(words) <= limit
            and text[:1].isupper() and not _SENTENCE_END.search(text) and " | " not in text
            and not _BULLET.match(text) and not _QA.match(text) and len(nxt.text.split()) > len(words))


def _parts(doc: Document) -> list[_Part]:
    lines = _flatten(doc)
    body = _body_size(lines)
    parts: list[_Part] = [_Part("", 0)]
    # Where the author marked headings (Word styles, Markdown #), a line that only looks like a
    # heading ("Objectives" in bold) sits below every marked level: it never outranks "### Section 3".
    marked = [_heading_level(l, body, True) for l in lines if l.style.lower().startswith("heading")]
    below_marked = max((m for m in marked if m is not None), default=0) + 1
    for i, line in enumerate(lines):
        style = line.style.lower()
        is_style = style.startswith("heading") or style == "title"
        level = _heading_level(line, body, is_style)
        if level is not None and not is_style and below_marked > 1:
            level = max(level, below_marked)
        nxt = lines[i + 1] if i + 1 < len(lines) else None
        if level is not None and not is_style and not body and not line.bold:
            # Plain text: a heading stands alone; the next line must not continue its sentence (a bold
            # line is a heading whatever follows it: "3.2 Major Crime" over OCR's "ln 2007/08 ...").
            if nxt is not None and not nxt.blank_before and nxt.text[:1].islower():
                level = None
        elif level is None and not is_style and not body and _standalone_heading(line, nxt):
            level = 2
        if level is not None:
            parts.append(_Part(line.text, level))
        else:
            parts[-1].lines.append(line)
    return [p for p in parts if p.heading or p.lines]


# A list item of any kind ("- ...", "3) ...", "(b) ..."), for telling list items from prose; wider than
# _BULLET, which keeps numbered headings ("3. Roads Policing") out of the list items it refuses as headings.
_LIST_ITEM = re.compile(r"^(?:[-\u2022*\u25aa\u2013]|\d+[.)]|\(?[a-z]\))\s")


def _kind(text: str) -> str:
    """A line's kind: a table row, a list item or prose."""
    if text.startswith("|"):
        return "row"
    return "bullet" if _LIST_ITEM.match(text) else "prose"


def _paragraph_break(prev: str, line: str) -> bool:
    """In wrapped text without blank lines: a sentence that ends a line and a capital that opens the
    next, or a change between prose, list items and table rows (a list item's wrapped tail excepted)."""
    if prev.endswith((".", "?", "!")) and line[:1].isupper():
        return True
    before, after = _kind(prev), _kind(line)
    if before == after or (before == "bullet" and after == "prose" and not prev.endswith((".", ";"))):
        return False
    return True


def _paragraphs(lines: list[_Line]) -> list[list[_Line]]:
    """Group lines into paragraphs: at blank lines; each line of a Word document or of unwrapped
    text is a paragraph; in wrapped text (PDF) a paragraph ends where a sentence ends a short line, or
    at a break ``_paragraph_break`` sees (neighbours of one area are joined again afterwards)."""
    paras: list[list[_Line]] = []
    lengths = sorted(len(l.text) for l in lines)
    typical = lengths[int(len(lengths) * 0.9)] if lengths else 0
    wrapped = any(l.size for l in lines) or (typical and typical <= 100)
    for line in lines:
        new = not paras or line.blank_before or not wrapped or line.style
        prev = paras[-1][-1].text if paras else ""
        if not new and prev.endswith((".", ":", "?", "!")) and len(prev) < 0.8 * typical:
            new = True
        if not new and wrapped and _paragraph_break(prev, line.text):
            new = True
        if new:
            paras.append([line])
        else:
            paras[-1].append(line)
    return paras


def _classified(text: str, allowed: list[str] | None = None, confidence: float = 0.5) -> str | None:
    """The learned area classifier's answer when it is confident, else None."""
    model = area_model.bundled()
    if model is None:
        return None
    area, p = model.best(text, allowed)
    return area if p >= confidence else None


def _content_overrules(area: str, heading: str, body: str) -> str | None:
    """Another area, when a substantial body is plainly about it by two independent signals: the learned
    classifier is sure of it and the body's own vocabulary outweighs ``area``'s at least twice."""
    if len(body.split()) < 30:
        return None
    scores = vocabulary_scores(body)
    bar = max(2.0, 2 * scores.get(area, 0.0))
    if not any(v >= bar for k, v in scores.items() if k != area):
        return None  # the usual case, settled without the classifier
    other = _classified(heading + "\n" + body, confidence=0.9)
    return other if other not in (None, area, GENERAL) and scores.get(other, 0.0) >= bar else None


def _assign_paragraphs(paras: list[list[_Line]], allowed: list[str] | None, default: str) -> list[tuple[str, list[_Line]]]:
    """Give each paragraph an area (restricted to ``allowed`` when given); weak ones join a neighbour."""
    labelled: list[tuple[str | None, list[_Line]]] = []
    for para in paras:
        text = " ".join(l.text for l in para)
        if allowed:
            scores = vocabulary_scores(text)
            top = max(allowed, key=lambda a: scores.get(a, 0.0))
            area = top if scores.get(top, 0.0) >= 1.0 else _classified(text, allowed, 0.6)
        else:
            area = _classified(text) if len(text.split()) >= 6 else None
            if area is None:
                area = best_area(text, minimum=2.5, margin=1.25)
                area = None if area == GENERAL and len(text.split()) < 60 else area
        labelled.append((area, para))
    out: list[tuple[str, list[_Line]]] = []
    current = default
    for area, para in labelled:
        if area is None:
            area = current
        current = area
        if out and out[-1][0] == area:
            out[-1][1].extend(para)
        else:
            out.append((area, list(para)))
    return out


def segment(doc: Document, required: tuple[str, ...] = REQUIRED_AREAS) -> Segmentation:
    """Split ``doc`` into area sections and list the required areas it lacks."""
    parts = _parts(doc)
    pieces: list[tuple[str, str, list[_Line]]] = []  # (area, heading, lines)
    # Title-block lines at the very top are not section headings.
    headed = [p for p in parts[3:] if p.heading] if len(parts) > 3 else []
    top = [p for p in parts[:3] if p.heading and len(p.body.split()) > 150]
    if len(headed) + len(top) <= 1 and not any(heading_areas(p.heading) for p in parts if p.heading):
        # No headings: assign paragraphs and group neighbours of one area.
        lines = [l for p in parts for l in p.lines]
        title = next((p.heading for p in parts if p.heading), "")
        for area, chunk in _assign_paragraphs(_paragraphs(lines), None, GENERAL):
            pieces.append((area, title if not pieces else "", chunk))
    else:
        stack: list[tuple[int, str]] = []  # (level, area) of enclosing headings
        named_at = [i for i, p in enumerate(parts) if p.heading and heading_areas(p.heading)]
        # When most areas have headings that name them, what comes before the first is preamble.
        preamble_end = named_at[0] if len(named_at) >= 3 else 0
        for index, part in enumerate(parts):
            while stack and stack[-1][0] >= part.level:
                stack.pop()
            parent = stack[-1][1] if stack else GENERAL
            named = heading_areas(part.heading) if part.heading else []
            if len(named) > 1:
                for area, chunk in _assign_paragraphs(_paragraphs(part.lines), named, named[0]):
                    area = _content_overrules(area, "", "\n".join(l.text for l in chunk)) or area
                    pieces.append((area, part.heading, chunk))
                stack.append((part.level, named[0]))
                continue
            if named:
                area = _content_overrules(named[0], part.heading, part.body) or named[0]
            elif part.heading and is_general_heading(part.heading):
                area = GENERAL if parent == GENERAL else parent
            elif parent != GENERAL:
                area = parent
                own = best_area(part.body + " " + part.heading, minimum=6.0, margin=2.5)
                if own != GENERAL and own != parent and vocabulary_scores(part.heading).get(own, 0) > 0:
                    area = own
                else:
                    area = _content_overrules(parent, part.heading, part.body) or area
            elif _is_summary(part.body):
                area = GENERAL  # an overview that touches many areas belongs to none
            elif index < preamble_end:
                area = best_area(part.heading + " " + part.body, minimum=10.0, margin=3.0)
                if area == GENERAL:
                    area = _content_overrules(GENERAL, part.heading, part.body) or area
            else:
                area = _classified(part.heading + "\n" + part.body) or best_area(part.heading + " " + part.body)
                if area == GENERAL and len(part.body.split()) > 150:
                    # A long untitled stretch: let its paragraphs speak for themselves.
                    for sub, chunk in _assign_paragraphs(_paragraphs(part.lines), None, GENERAL):
                        pieces.append((sub, part.heading, chunk))
                    stack.append((part.level, GENERAL))
                    continue
            pieces.append((area, part.heading, part.lines))
            stack.append((part.level, area))
    return _merge(doc.path, pieces, required)


def _is_summary(text: str) -> bool:
    """Whether ``text`` surveys several areas (a summary or progress overview), not one."""
    scores = vocabulary_scores(text)
    strong = sorted((v for v in scores.values() if v >= 3.0), reverse=True)
    return len(strong) >= 3 and strong[0] < 2.5 * strong[2]


def _merge(path: str, pieces: list[tuple[str, str, list[_Line]]], required: tuple[str, ...]) -> Segmentation:
    by_area: dict[str, dict] = {}
    for area, heading, lines in pieces:
        if not lines and not heading:
            continue
        entry = by_area.setdefault(area, {"headings": [], "pages": set(), "texts": []})
        if heading and heading not in entry["headings"]:
            entry["headings"].append(heading)
        entry["pages"].update(l.page for l in lines)
        text = _join_lines(lines)
        if text:
            entry["texts"].append(text)
    sections, general = [], []
    for area, entry in by_area.items():
        text = "\n\n".join(entry["texts"]).strip()
        if area != GENERAL and len(text.split()) < 8:
            continue  # a heading with next to no text is not a plan for the area
        section = Section(area, tuple(entry["headings"]), tuple(sorted(entry["pages"])), text)
        (general if area == GENERAL else sections).append(section)
    found = {s.area for s in sections}
    missing = tuple(a for a in required if a not in found)
    return Segmentation(path, tuple(sections), missing, tuple(general))


def _join_lines(lines: list[_Line]) -> str:
    """Lines joined into paragraphs: a wrapped line continues its sentence, a table row stands alone.

    Linear in the number of lines: the pieces of a paragraph are collected and joined once.
    """
    paragraphs: list[list[str]] = []
    for line in lines:
        last = paragraphs[-1][-1] if paragraphs else ""
        if paragraphs and not line.blank_before and not _BULLET.match(line.text) and " | " not in line.text \
                and not last.endswith((".", ":", "?", "!")) and " | " not in last:
            paragraphs[-1].append(line.text)
        else:
            paragraphs.append([line.text])
    return "\n".join(" ".join(p) for p in paragraphs)
