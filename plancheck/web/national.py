"""The national picture: every plan of a batch as a forces x areas matrix, with headline shares,
the criteria that fail most, filters, sorting and a CSV export.

A cell is ``sufficient`` (the area's section was not flagged), ``flagged``, ``missing`` (a required
area the plan lacks), ``absent`` (an area that is not required and not there) or ``unreadable``
(the plan could not be read). The same picture is served by the workbench and written by
``plancheck summary``.
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field

from ..areas import AREA_NAMES
from ..rubric import CRITERIA, failing
from .batches import Plan, area_order

STATES = ("sufficient", "flagged", "missing", "absent", "unreadable")
VERDICTS = ("sufficient", "needs_review", "unreadable")
VERDICT_WORDS = {"sufficient": "sufficient", "needs_review": "needs review", "unreadable": "could not be read"}
SORTS = ("force", "verdict", "p", "flagged", "missing")
# Column headings: short enough for a matrix of eight areas on one printed page.
AREA_SHORT = {"serious_organised_crime": "Serious & organised crime", "major_crime": "Major crime",
              "critical_incidents": "Critical incidents", "civil_contingencies": "Civil contingencies",
              "public_order": "Public order", "roads_policing": "Roads policing",
              "vulnerable_people": "Vulnerable people", "counter_terrorism": "Counter terrorism"}
_VERDICT_RANK = {"unreadable": 0, "needs_review": 1, "sufficient": 2}


@dataclass(frozen=True)
class Cell:
    """One plan's judgement of one area."""

    area: str
    state: str
    p: float | None = None
    threshold: float | None = None
    failing: tuple[str, ...] = ()
    pages: tuple[int, ...] = ()

    @property
    def text(self) -> str:
        """What the cell says in print: the state, p and the failing criteria."""
        if self.state == "flagged":
            shown = ", ".join(self.failing[:3]) + (f" +{len(self.failing) - 3} more" if len(self.failing) > 3 else "")
            return f"flagged p={self.p:.2f}" + (f": {shown}" if self.failing else "")
        if self.state == "sufficient":
            return f"sufficient p={self.p:.2f}"
        return {"missing": "missing", "absent": "-", "unreadable": "unreadable"}[self.state]

    @property
    def title(self) -> str:
        """The same, in full, for the hover text."""
        name = AREA_NAMES.get(self.area, self.area)
        if self.state in ("flagged", "sufficient"):
            t = f" (threshold {self.threshold:.2f})" if self.threshold is not None else ""
            why = f"; failing: {', '.join(self.failing)}" if self.failing else ""
            return f"{name}: {self.state}, p(insufficient) {self.p:.2f}{t}{why}"
        if self.state == "missing":
            return f"{name}: a required area that the plan does not have"
        if self.state == "absent":
            return f"{name}: not in the plan (not required)"
        return f"{name}: the plan could not be read"


@dataclass(frozen=True)
class Row:
    plan: Plan
    cells: tuple[Cell, ...]

    @property
    def flagged(self) -> int:
        return sum(c.state == "flagged" for c in self.cells)

    @property
    def missing(self) -> int:
        return sum(c.state == "missing" for c in self.cells)

    def cell(self, area: str) -> Cell:
        return next(c for c in self.cells if c.area == area)


@dataclass(frozen=True)
class CriterionBar:
    criterion: str
    failing: int
    sections: int
    forces: int

    @property
    def share(self) -> float:
        return self.failing / self.sections if self.sections else 0.0


@dataclass
class Picture:
    """The national picture of some plans, filtered and sorted as asked."""

    areas: list[str]
    rows: list[Row]
    total_rows: int
    plans: int
    plans_sufficient: int
    plans_unreadable: int
    area_cells: int
    areas_sufficient: int
    bars: list[CriterionBar]
    filters: dict = field(default_factory=dict)

    @property
    def plans_share(self) -> float:
        scored = self.plans - self.plans_unreadable
        return self.plans_sufficient / scored if scored else 0.0

    @property
    def areas_share(self) -> float:
        return self.areas_sufficient / self.area_cells if self.area_cells else 0.0

    @property
    def forces(self) -> int:
        return len({r.plan.force for r in self.rows})


def cells_of(plan: Plan, areas: list[str]) -> tuple[Cell, ...]:
    if not plan.scored:
        return tuple(Cell(a, "unreadable") for a in areas)
    by_area = {a.area: a for a in plan.assessments}
    missing = set(plan.missing_areas)
    out = []
    for area in areas:
        a = by_area.get(area)
        if a is not None:
            fails = tuple(failing(a.criteria)) if set(CRITERIA) <= set(a.criteria) else ()
            out.append(Cell(area, "flagged" if a.needs_review else "sufficient", a.p_insufficient, a.threshold,
                            fails if a.flagged else (), tuple(a.pages)))
        else:
            out.append(Cell(area, "missing" if area in missing else "absent"))
    return tuple(out)


def _sorted(rows: list[Row], sort: str, descending: bool) -> list[Row]:
    """Rows in the order asked; ties stay in force order and plans without a p come last."""
    rows = sorted(rows, key=lambda r: (r.plan.force.lower(), r.plan.file_name.lower()))
    if sort == "force":
        return rows[::-1] if descending else rows
    if sort == "p":
        known = [r for r in rows if r.plan.p_insufficient is not None]
        known.sort(key=lambda r: r.plan.p_insufficient, reverse=descending)
        return known + [r for r in rows if r.plan.p_insufficient is None]
    key = {"verdict": lambda r: _VERDICT_RANK.get(r.plan.verdict, 3), "flagged": lambda r: (r.flagged, r.missing),
           "missing": lambda r: (r.missing, r.flagged)}[sort]
    return sorted(rows, key=key, reverse=descending)


def build(plans: list[Plan], area: str = "", verdict: str = "", state: str = "", sort: str = "force",
          descending: bool = False) -> Picture:
    """The national picture of ``plans``.

    Args:
        plans: the plans of one batch (or of several).
        area: show only this area's column ("" for all).
        verdict: keep only plans with this verdict (``sufficient``, ``needs_review``, ``unreadable``).
        state: keep only plans with a cell in this state among the areas shown.
        sort: ``force``, ``verdict``, ``p``, ``flagged`` or ``missing``.
        descending: reverse the order.

    The headline shares are of all the plans given; the criterion bars are of the plans and areas
    shown.
    """
    all_areas = area_order(plans)
    areas = [area] if area in all_areas else all_areas
    rows_all = [Row(p, cells_of(p, all_areas)) for p in plans]
    scored = [r for r in rows_all if r.plan.scored]
    cells = [c for r in scored for c in r.cells if c.state in ("sufficient", "flagged", "missing")]
    picture = Picture(areas=areas, rows=[], total_rows=len(rows_all), plans=len(rows_all),
                      plans_sufficient=sum(r.plan.verdict == "sufficient" for r in scored),
                      plans_unreadable=len(rows_all) - len(scored), area_cells=len(cells),
                      areas_sufficient=sum(c.state == "sufficient" for c in cells), bars=[],
                      filters={"area": area if area in all_areas else "", "verdict": verdict if verdict in VERDICTS else "",
                               "state": state if state in STATES else "", "sort": sort if sort in SORTS else "force",
                               "dir": "desc" if descending else "asc"})
    rows = [Row(r.plan, tuple(r.cell(a) for a in areas)) for r in rows_all]
    if picture.filters["verdict"]:
        rows = [r for r in rows if r.plan.verdict == verdict]
    if picture.filters["state"]:
        rows = [r for r in rows if any(c.state == state for c in r.cells)]
    picture.rows = _sorted(rows, picture.filters["sort"], descending)
    picture.bars = criterion_bars(picture.rows, areas)
    return picture


def criterion_bars(rows: list[Row], areas: list[str]) -> list[CriterionBar]:
    """For each criterion: in how many of the sections shown it stops the section passing, and in
    how many forces' plans."""
    counts = {c: 0 for c in CRITERIA}
    forces: dict[str, set] = {c: set() for c in CRITERIA}
    sections = 0
    for row in rows:
        for a in row.plan.assessments:
            if a.area not in areas or not set(CRITERIA) <= set(a.criteria):
                continue
            sections += 1
            for c in failing(a.criteria):
                counts[c] += 1
                forces[c].add(row.plan.force)
    bars = [CriterionBar(c, counts[c], sections, len(forces[c])) for c in CRITERIA]
    return sorted(bars, key=lambda b: (-b.failing, CRITERIA.index(b.criterion)))


CSV_FIELDS = ("force", "plan", "batch", "verdict", "plan_p_insufficient", "area", "state", "p_insufficient",
              "threshold", "failing_criteria", "pages")


def to_csv(picture: Picture) -> str:
    """One line per plan and area shown, in the order shown."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_FIELDS, lineterminator="\n")
    writer.writeheader()
    for row in picture.rows:
        p = row.plan
        for c in row.cells:
            writer.writerow({"force": p.force, "plan": p.file_name, "batch": p.batch.name, "verdict": p.verdict,
                             "plan_p_insufficient": "" if p.p_insufficient is None else f"{p.p_insufficient:.3f}",
                             "area": c.area, "state": c.state, "p_insufficient": "" if c.p is None else f"{c.p:.3f}",
                             "threshold": "" if c.threshold is None else f"{c.threshold:.3f}",
                             "failing_criteria": ";".join(c.failing), "pages": ";".join(map(str, c.pages))})
    return out.getvalue()
