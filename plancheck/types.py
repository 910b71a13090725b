"""Frozen value types that flow through the pipeline.

file -> Document(pages) -> [Section] -> feature row -> Assessment -> PlanResult
"""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Line:
    """One line of a page with what heading detection needs.

    ``size`` is the effective font size in points (0 when unknown) and ``bold`` whether the
    font is bold; ``style`` is a Word paragraph style name ("Heading 2") where there is one.
    """

    text: str
    size: float = 0.0
    bold: bool = False
    style: str = ""


@dataclass(frozen=True)
class Page:
    number: int
    text: str
    lines: tuple[Line, ...] = ()


@dataclass(frozen=True)
class Document:
    path: str
    sha256: str
    kind: str  # pdf | docx | txt | md
    pages: tuple[Page, ...]
    title: str = ""
    author: str = ""
    warnings: tuple[str, ...] = ()

    @property
    def page_count(self) -> int:
        return len(self.pages)

    @property
    def text(self) -> str:
        return "\n\n".join(p.text for p in self.pages)

    @property
    def word_count(self) -> int:
        return sum(len(p.text.split()) for p in self.pages)


@dataclass(frozen=True)
class Section:
    """The text of one protective-service area in a document.

    ``headings`` lists every heading the area's text sat under (an area can be spread over
    several headings); ``pages`` the pages its text came from.
    """

    area: str
    headings: tuple[str, ...]
    pages: tuple[int, ...]
    text: str

    @property
    def heading(self) -> str:
        return " / ".join(h for h in self.headings if h)

    @property
    def page_range(self) -> str:
        if not self.pages:
            return ""
        lo, hi = min(self.pages), max(self.pages)
        return f"p. {lo}" if lo == hi else f"pp. {lo}-{hi}"


@dataclass(frozen=True)
class Segmentation:
    path: str
    sections: tuple[Section, ...]
    missing_areas: tuple[str, ...]
    general: tuple[Section, ...] = ()


@dataclass(frozen=True)
class Assessment:
    """The judgement of one section."""

    area: str
    headings: tuple[str, ...]
    pages: tuple[int, ...]
    p_insufficient: float
    flagged: bool
    criteria: dict[str, int]
    reasons: tuple[str, ...]
    evidence: dict[str, list[str]] = field(default_factory=dict)
    text: str = ""
