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
        return cite_pages(self.pages)


def cite_pages(pages) -> str:
    """Page numbers as a reviewer cites them: "p. 4", "pp. 4-5" or "pp. 4, 7"."""
    nums = sorted({int(p) for p in pages or ()})
    if not nums:
        return ""
    if len(nums) == 1:
        return f"p. {nums[0]}"
    if nums[-1] - nums[0] == len(nums) - 1:
        return f"pp. {nums[0]}-{nums[-1]}"
    return "pp. " + ", ".join(map(str, nums))


@dataclass(frozen=True)
class Segmentation:
    path: str
    sections: tuple[Section, ...]
    missing_areas: tuple[str, ...]
    general: tuple[Section, ...] = ()


@dataclass(frozen=True)
class Assessment:
    """The judgement of one section: the one shape every record, table and report reads.

    ``criteria`` are the scores shown (they always agree with ``flagged`` under the rubric's rule,
    see explain.py); ``p_specific`` is the model's P(score = 2) of each criterion; ``threshold`` is
    the model's flag threshold that ``p_insufficient`` was compared with.

    ``shared_with`` and ``shared`` are set when a batch is compared for shared text (``score
    --shared``, overlap.py): the other documents whose text this section repeats, and the share of
    its words found in plans of other forces. ``flagged`` stays the model's judgement of the text;
    a section that is mostly shared text also needs review (``mostly_shared``), with the reason
    first among ``reasons``.
    """

    area: str
    headings: tuple[str, ...]
    pages: tuple[int, ...]
    p_insufficient: float
    flagged: bool
    criteria: dict[str, int]
    reasons: tuple[str, ...]
    evidence: dict[str, list[str]] = field(default_factory=dict)
    text: str = ""
    p_specific: dict[str, float] = field(default_factory=dict)
    threshold: float | None = None
    shared_with: tuple[str, ...] = ()
    shared: float | None = None

    @property
    def mostly_shared(self) -> bool:
        """Most of this section's words are text shared with plans of other forces."""
        from .overlap import MOSTLY_SHARED

        return self.shared is not None and self.shared >= MOSTLY_SHARED

    @property
    def needs_review(self) -> bool:
        """Flagged by the model, or mostly another force's text: either way a reviewer looks."""
        return self.flagged or self.mostly_shared

    def to_dict(self, with_text: bool = True) -> dict:
        record = {"area": self.area, "headings": list(self.headings), "pages": list(self.pages),
                  "p_insufficient": self.p_insufficient, "threshold": self.threshold, "flagged": self.flagged,
                  "criteria": dict(self.criteria), "p_specific": dict(self.p_specific), "reasons": list(self.reasons),
                  "evidence": {k: list(v) for k, v in self.evidence.items()}}
        if self.shared is not None:
            record["shared"] = self.shared
            record["shared_with"] = list(self.shared_with)
        if with_text:
            record["text"] = self.text
        return record

    @classmethod
    def from_dict(cls, data: dict) -> "Assessment":
        return cls(str(data["area"]), tuple(data.get("headings") or ()), tuple(data.get("pages") or ()),
                   float(data["p_insufficient"]), bool(data["flagged"]), dict(data["criteria"]),
                   tuple(data.get("reasons") or ()), {k: list(v) for k, v in (data.get("evidence") or {}).items()},
                   str(data.get("text") or ""), dict(data.get("p_specific") or {}), data.get("threshold"),
                   tuple(str(p) for p in data.get("shared_with") or ()),
                   None if data.get("shared") is None else float(data["shared"]))
