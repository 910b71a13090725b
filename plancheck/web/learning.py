"""What to grade next, and how far reviewers and the model agree.

The queue puts first the sections whose grade would teach the model most: those it was least
sure of, and those like the text it judged worst on writers it never saw. A section is uncertain
when its p(insufficient) is close to the threshold it was compared with, and when some
criterion's p(specific) is close to 0.5; the priority adds the two distances (the criterion's at
half weight, since the label is what the flag rests on), smallest first. From that, a quarter of
two error rates on blind-dev (the model card's out-of-writer figures, see :class:`Weakness`) is
taken away: that of the most uncertain criterion, and that of the section's layout (table, list,
short entry or prose). Sections already reviewed are left out.

Agreement is Cohen's kappa per criterion (scores 0/1/2, unweighted) between the reviewers' latest
grades and the model's scores, and between two reviewers of the same section.
"""
from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

from ..rubric import CRITERIA
from ..types import Assessment
from .batches import Plan
from .reviews import Review, section_id

NEAR = 0.15  # a criterion's p(specific) within this of 0.5 is shown as uncertain
WEAK_WEIGHT = 0.25  # how much the blind sets' error rates move a section up the queue
# Which blind-set style tags are which layout (by words in the tag); the rest are prose.
_LAYOUT_TAGS = {"table": ("table", "scorecard", "register", "gantt"), "list": ("bullet", "smart", "list", "notes", "minutes"),
                "short": ("short", "minimal")}
_BULLET = re.compile(r"^\s*(?:[-*\u2022\u25aa]|\(?\d+[.)]|\(?[a-z][.)])\s+")


def layout_of(text: str) -> str:
    """A section's layout: ``table`` (three or more rows of cells), ``list`` (three or more
    bullets or numbered items), ``short`` (under 70 words) or ``prose``."""
    lines = [line for line in text.splitlines() if line.strip()]
    if sum(1 for line in lines if line.count("|") >= 2 or line.count("\t") >= 2) >= 3:
        return "table"
    if sum(1 for line in lines if _BULLET.match(line)) >= 3:
        return "list"
    if len(text.split()) < 70:
        return "short"
    return "prose"


def _layout_of_tag(tag: str) -> str:
    return next((layout for layout, words in _LAYOUT_TAGS.items() if any(w in tag for w in words)), "prose")


@dataclass(frozen=True)
class Weakness:
    """Where a model held least on writers it never saw: its card's blind-dev out-of-writer figures.

    ``criteria``: each criterion's error rate (1 - accuracy of its 0/1/2 score); ``layouts``: the
    error rate of the label over blind-dev sections of each layout (style tags grouped by layout).
    Empty when the card has no blind-dev figures.
    """

    criteria: dict[str, float] = field(default_factory=dict)
    layouts: dict[str, float] = field(default_factory=dict)
    model: str = ""

    @classmethod
    def from_card(cls, card) -> "Weakness":
        figures = card.metrics.get("blind_dev_out_of_writer") or {}
        criteria = {c: round(1 - float(v["accuracy"]), 3) for c, v in (figures.get("criteria") or {}).items()
                    if c in CRITERIA and isinstance(v, dict) and "accuracy" in v}
        wrong: Counter[str] = Counter()
        seen: Counter[str] = Counter()
        for tag, v in (figures.get("per_style") or {}).items():
            if isinstance(v, dict) and "accuracy" in v and v.get("n"):
                layout = _layout_of_tag(tag)
                seen[layout] += int(v["n"])
                wrong[layout] += int(v["n"]) * (1 - float(v["accuracy"]))
        layouts = {k: round(wrong[k] / seen[k], 3) for k in seen}
        return cls(criteria, layouts, card.name)


@dataclass(frozen=True)
class Candidate:
    plan: Plan
    section: Assessment
    distance: float  # |p(insufficient) - threshold|
    uncertain: tuple[tuple[str, float], ...]  # criteria whose p(specific) is near 0.5, nearest first
    priority: float
    weak: tuple[str, ...] = ()  # what the blind sets show this section to be like, in words


def queue(plans: list[Plan], reviewed: set[str], limit: int = 100, weakness: Weakness | None = None) -> list[Candidate]:
    """The sections to grade next, most informative first (see the module's notes)."""
    weakness = weakness or Weakness()
    out = []
    seen: set[str] = set()
    for plan in plans:
        if not plan.scored:
            continue
        for a in plan.assessments:
            sid = section_id(plan, a.area)
            if sid in reviewed or sid in seen:
                continue
            seen.add(sid)
            threshold = a.threshold if a.threshold is not None else 0.5
            distance = abs(a.p_insufficient - threshold)
            near = sorted(((c, float(p)) for c, p in a.p_specific.items() if c in CRITERIA),
                          key=lambda item: abs(item[1] - 0.5))
            nearest = abs(near[0][1] - 0.5) if near else 0.5
            priority = distance + nearest / 2
            weak = []
            if near and near[0][0] in weakness.criteria:
                c = near[0][0]
                priority -= WEAK_WEIGHT * weakness.criteria[c]
                weak.append(f"{c}: {weakness.criteria[c]:.0%} of blind-dev scores wrong")
            layout = layout_of(a.text) if a.text else None
            if layout in weakness.layouts:
                priority -= WEAK_WEIGHT * weakness.layouts[layout]
                weak.append(f"{layout} layout: {weakness.layouts[layout]:.0%} of blind-dev labels wrong")
            out.append(Candidate(plan, a, distance, tuple((c, p) for c, p in near if abs(p - 0.5) <= NEAR),
                                 round(priority, 4), tuple(weak)))
    out.sort(key=lambda c: (c.priority, c.plan.force, c.section.area))
    return out[:limit]


def kappa(pairs: list[tuple]) -> float | None:
    """Cohen's kappa of paired ratings (None with no pairs; 1.0 when both always give one same value)."""
    n = len(pairs)
    if not n:
        return None
    observed = sum(a == b for a, b in pairs) / n
    left, right = Counter(a for a, _ in pairs), Counter(b for _, b in pairs)
    expected = sum(left[k] * right[k] for k in left) / (n * n)
    if expected >= 1.0:
        return 1.0 if observed == 1.0 else 0.0
    return (observed - expected) / (1 - expected)


@dataclass(frozen=True)
class Agreement:
    criterion: str
    n: int
    agree: int
    kappa: float | None


@dataclass(frozen=True)
class Disagreement:
    review: Review
    criteria: tuple[str, ...]
    label: bool


def latest(reviews: list[Review]) -> dict[str, Review]:
    """The latest version of each section's grade (any reviewer)."""
    out: dict[str, Review] = {}
    for r in sorted(reviews, key=lambda r: r.time):
        out[r.section] = r
    return out


def _table(pairs_by: dict[str, list[tuple]]) -> list[Agreement]:
    return [Agreement(k, len(p), sum(a == b for a, b in p), kappa(p)) for k, p in pairs_by.items()]


def with_model(reviews: list[Review]) -> tuple[list[Agreement], list[Disagreement]]:
    """Kappa per criterion (and of the label) between the latest grades and the model's scores,
    and the sections where they differ."""
    pairs: dict[str, list[tuple]] = {c: [] for c in (*CRITERIA, "label")}
    differ = []
    for r in latest(reviews).values():
        for c in CRITERIA:
            if c in r.model_criteria and r.model_criteria[c] in (0, 1, 2):
                pairs[c].append((r.criteria[c], r.model_criteria[c]))
        pairs["label"].append((r.label, r.model_label))
        crit = tuple(c for c in CRITERIA if r.model_criteria.get(c) != r.criteria.get(c))
        if crit or r.label != r.model_label:
            differ.append(Disagreement(r, crit, r.label != r.model_label))
    differ.sort(key=lambda d: (not d.label, -len(d.criteria), d.review.force))
    return _table(pairs), differ


def between_reviewers(reviews: list[Review]) -> tuple[list[Agreement], list[tuple[Review, Review]]]:
    """Kappa per criterion between two reviewers of the same section (each one's latest grade;
    the first two reviewers of a section), and the pairs that differ."""
    mine: dict[tuple[str, str], Review] = {}
    for r in sorted(reviews, key=lambda r: r.time):
        mine[(r.section, r.reviewer)] = r
    by_section: dict[str, list[Review]] = {}
    for (sid, _), r in sorted(mine.items(), key=lambda kv: kv[1].time):
        by_section.setdefault(sid, []).append(r)
    pairs: dict[str, list[tuple]] = {c: [] for c in (*CRITERIA, "label")}
    differ = []
    for rs in by_section.values():
        if len(rs) < 2:
            continue
        a, b = rs[0], rs[1]
        for c in CRITERIA:
            pairs[c].append((a.criteria[c], b.criteria[c]))
        pairs["label"].append((a.label, b.label))
        if a.criteria != b.criteria or a.label != b.label:
            differ.append((a, b))
    return _table(pairs), differ
