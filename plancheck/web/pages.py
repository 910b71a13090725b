"""The workbench's templates: one Jinja2 environment, its filters, and the standalone summary page.

Templates escape everything by default: every string from a record or a folder is untrusted.
"""
from __future__ import annotations

import datetime as dt
from functools import lru_cache
from pathlib import Path

import jinja2
from markupsafe import Markup, escape

from ..areas import AREA_NAMES
from ..report import locate_evidence
from ..rubric import CRITERIA, QUESTIONS, SCORES
from ..types import cite_pages
from .national import AREA_SHORT, SORTS, STATES, VERDICT_WORDS, Picture

HERE = Path(__file__).resolve().parent

TEMPLATES = HERE / "templates"
STATIC = HERE / "static"


def _num(value, digits: int = 2) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def _pct(value) -> str:
    return "-" if value is None else f"{100 * value:.0f}%"


@lru_cache(maxsize=1)
def environment() -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES)), autoescape=True,
                             undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters.update(pages=cite_pages, num=_num, pct=_pct, area_name=lambda k: AREA_NAMES.get(k, k),
                       area_short=lambda k: AREA_SHORT.get(k, AREA_NAMES.get(k, k)),
                       verdict_words=lambda v: VERDICT_WORDS.get(v, str(v)))
    env.globals.update(CRITERIA=CRITERIA, QUESTIONS=QUESTIONS, SCORES=SCORES, STATES=STATES,
                       VERDICT_WORDS=VERDICT_WORDS, AREA_NAMES=AREA_NAMES)
    return env


def render(template: str, **context) -> str:
    return environment().get_template(template).render(**context)


def render_summary(picture: Picture, title: str, sources: list[str]) -> str:
    """The national picture as one self-contained HTML page (styles and script inline, nothing
    fetched), with filters and sorting that work in the page itself."""
    return render("national.html", standalone=True, picture=picture, title=title, sources=sources,
                  inline_css=(STATIC / "workbench.css").read_text(encoding="utf-8"),
                  inline_js=(STATIC / "workbench.js").read_text(encoding="utf-8"),
                  written=dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
                  batches=[], batch=None, nav="national", query={}, flash=None, all_areas=picture.areas,
                  sort_links={key: "#" for key in SORTS})


_MARK_CLASS = {2: "m-specific", 1: "m-vague", 0: "m-absent"}


def highlight(text: str, evidence: dict, criteria: dict) -> tuple[Markup, list[tuple[str, str]]]:
    """``text`` escaped, with each evidence sentence in a <mark> that names the criteria it
    supports (in a tag that prints), and the sentences that could not be found in it.

    Sentences are matched word by word across any whitespace, since extraction may have reflowed
    line breaks and spaces.
    """
    spans, unfound = locate_evidence(text, evidence)
    out, pos = [], 0
    for (start, end), names in sorted(spans.items()):
        if start < pos:  # overlaps a sentence already marked: its criteria join that mark's tag
            continue
        score = criteria.get(names[0])
        words = ", ".join(f"{n}: {SCORES.get(criteria.get(n), '?')}" for n in names)
        out.append(escape(text[pos:start]))
        out.append(Markup('<mark class="{}" title="{}">{}<sup class="tag">{}</sup></mark>').format(
            _MARK_CLASS.get(score, "m-vague"), words, text[start:end], ", ".join(names)))
        pos = end
    out.append(escape(text[pos:]))
    return Markup("").join(out), unfound
