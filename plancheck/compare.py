"""Compare a plan with its resubmission: what changed, area by area and criterion by criterion.

Both plans are scored with the same model. Areas are aligned by key; each gets a status (closed,
still open, regressed, newly missing, newly present, still missing, still sufficient), each
criterion its score before and after, and each change the sentences behind it: the evidence of
the new score, marked as added or kept, and the old evidence that was removed.
"""
from __future__ import annotations

import html
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Optional, Sequence

from .areas import AREA_KEYS, AREA_NAMES, REQUIRED_AREAS
from .errors import IngestError
from .record import Record
from .rubric import CRITERIA
from .types import Assessment, cite_pages

# Area statuses, in the order a reviewer reads them.
AREA_STATUSES = ("closed", "still_open", "regressed", "newly_missing", "newly_present", "still_missing",
                 "still_sufficient")
# A criterion is met at 2 (specific); these say how that changed.
CRITERION_STATUSES = ("closed", "still_open", "regressed", "met")
FORMATS = ("table", "json", "html")

SentenceSplitter = Callable[[str], Sequence[str]]


def _norm(text: str) -> str:
    return " ".join(text.split()).lower()


@dataclass(frozen=True)
class Evidence:
    """A sentence quoted for a score, and whether the resubmission ``added``, ``kept`` or ``removed`` it."""

    sentence: str
    change: str

    def to_dict(self) -> dict:
        return {"sentence": self.sentence, "change": self.change}


@dataclass(frozen=True)
class CriterionChange:
    """One criterion of one area, before and after (``None`` where the area is absent)."""

    criterion: str
    before: int | None
    after: int | None
    evidence_before: tuple[Evidence, ...] = ()
    evidence_after: tuple[Evidence, ...] = ()

    @property
    def status(self) -> str | None:
        """closed (now 2), still_open (under 2 both times), regressed (was 2), met (2 both times)."""
        if self.before is None or self.after is None:
            return None
        if self.before == 2:
            return "met" if self.after == 2 else "regressed"
        return "closed" if self.after == 2 else "still_open"

    @property
    def changed(self) -> bool:
        return self.before != self.after

    @property
    def added(self) -> list[str]:
        """New sentences behind the new score."""
        return [e.sentence for e in self.evidence_after if e.change == "added"]

    @property
    def removed(self) -> list[str]:
        """Sentences behind the old score that are gone."""
        return [e.sentence for e in self.evidence_before if e.change == "removed"]

    def to_dict(self) -> dict:
        return {"before": self.before, "after": self.after, "status": self.status, "changed": self.changed,
                "added": self.added, "removed": self.removed,
                "evidence_before": [e.to_dict() for e in self.evidence_before],
                "evidence_after": [e.to_dict() for e in self.evidence_after]}


@dataclass(frozen=True)
class AreaChange:
    """One area of the two plans: its status, scores, probabilities and the sentences that changed."""

    area: str
    status: str
    before: Assessment | None
    after: Assessment | None
    criteria: tuple[CriterionChange, ...]
    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()

    @staticmethod
    def _label(a: Assessment | None) -> str:
        return "missing" if a is None else ("insufficient" if a.flagged else "sufficient")

    @property
    def label_before(self) -> str:
        return self._label(self.before)

    @property
    def label_after(self) -> str:
        return self._label(self.after)

    @property
    def p_before(self) -> float | None:
        return None if self.before is None else self.before.p_insufficient

    @property
    def p_after(self) -> float | None:
        return None if self.after is None else self.after.p_insufficient

    def criterion(self, name: str) -> CriterionChange:
        return next(c for c in self.criteria if c.criterion == name)

    def to_dict(self) -> dict:
        def where(a: Assessment | None) -> dict | None:
            return None if a is None else {"headings": list(a.headings), "pages": list(a.pages)}

        return {"area": self.area, "status": self.status, "label_before": self.label_before,
                "label_after": self.label_after, "p_before": self.p_before, "p_after": self.p_after,
                "before": where(self.before), "after": where(self.after),
                "reasons_after": list(self.after.reasons) if self.after else [],
                "criteria": {c.criterion: c.to_dict() for c in self.criteria},
                "added": list(self.added), "removed": list(self.removed)}


@dataclass(frozen=True)
class Comparison:
    """Two scored plans compared: a summary of each and every area's change."""

    old: dict
    new: dict
    model: str | None
    areas: tuple[AreaChange, ...]

    def area(self, key: str) -> AreaChange:
        return next(a for a in self.areas if a.area == key)

    @property
    def counts(self) -> dict[str, int]:
        return {s: n for s in AREA_STATUSES if (n := sum(a.status == s for a in self.areas))}

    def to_dict(self) -> dict:
        return {"old": self.old, "new": self.new, "model": self.model, "counts": self.counts,
                "areas": [a.to_dict() for a in self.areas]}


def _status(before: Assessment | None, after: Assessment | None) -> str:
    if before is None:
        return "still_missing" if after is None else "newly_present"
    if after is None:
        return "newly_missing"
    if before.flagged:
        return "still_open" if after.flagged else "closed"
    return "regressed" if after.flagged else "still_sufficient"


def _in(sentence: str, text: str) -> bool:
    """Whether ``sentence`` occurs in ``text`` (``text`` already tidied), whatever its line breaks."""
    s = _norm(sentence)
    return bool(s) and s in text


def _summary(record: Record) -> dict:
    return {"path": record.path, "sha256": record.sha256, "verdict": record.verdict,
            "p_insufficient": record.p_insufficient, "missing_areas": list(record.missing_areas), "title": record.title}


def compare_records(old: Record, new: Record, sentences: SentenceSplitter | None = None,
                    required: Sequence[str] = REQUIRED_AREAS) -> Comparison:
    """Compare two scored records (from :meth:`plancheck.score.Scorer.score_document`, with texts).

    Args:
        old, new: the records of the earlier plan and of its resubmission.
        sentences: splits a section's text into sentences for the lists of added and removed
            sentences (default: :func:`plancheck.overlap.split_sentences`); the CLI passes the
            language pipeline's splitter, the one the evidence was quoted from.
        required: the required areas (a required area absent from both plans is "still missing").
    """
    if sentences is None:
        from .overlap import split_sentences as sentences
    before = {a.area: a for a in old.areas}
    after = {a.area: a for a in new.areas}
    keys = [k for k in AREA_KEYS if k in before or k in after or k in required]
    keys += sorted(k for k in {*before, *after} if k not in AREA_KEYS)
    changes = []
    for key in keys:
        b, a = before.get(key), after.get(key)
        old_text, new_text = _norm(b.text) if b else "", _norm(a.text) if a else ""
        criteria = []
        for c in CRITERIA:
            ev_before = tuple(Evidence(s, "kept" if _in(s, new_text) else "removed") for s in (b.evidence.get(c, ()) if b else ()))
            ev_after = tuple(Evidence(s, "kept" if _in(s, old_text) else "added") for s in (a.evidence.get(c, ()) if a else ()))
            criteria.append(CriterionChange(c, b.criteria.get(c) if b else None, a.criteria.get(c) if a else None,
                                            ev_before, ev_after))
        added = tuple(s for s in sentences(a.text) if not _in(s, old_text)) if a else ()
        removed = tuple(s for s in sentences(b.text) if not _in(s, new_text)) if b else ()
        changes.append(AreaChange(key, _status(b, a), b, a, tuple(criteria), added, removed))
    return Comparison(_summary(old), _summary(new), new.model or old.model, tuple(changes))


def compare_paths(old: str | Path, new: str | Path, config=None, model: str | None = None) -> Comparison:
    """Score two plans with one model (each read in an isolated worker, as ``score`` does) and compare them.

    Raises:
        IngestError: either file could not be read (the error names it, with its code).
        ModelError: the model could not be loaded.
    """
    from . import nlp as nlp_mod
    from .config import Config
    from .score import Scorer, score_paths

    config = config or Config()
    scorer = Scorer.load(model, config)
    paths = list(dict.fromkeys([str(old), str(new)]))
    records = {r.path: r for r in score_paths(paths, config, scorer=scorer)}
    for path in paths:
        record = records[path]
        if not record.ok:
            failure = IngestError(record.error_message, path=path)
            failure.code = record.error_code
            raise failure

    def sentences(text: str) -> list[str]:
        return nlp_mod.sentences(next(nlp_mod.parse([text], scorer.nlp)))

    return compare_records(records[str(old)], records[str(new)], sentences, config.required_areas)


# --- terminal table --------------------------------------------------------------------------

_SIGN = {"added": "+", "kept": "=", "removed": "-"}


def _p(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def _score(value: int | None) -> str:
    return "_" if value is None else str(value)


def _quote(text: str, limit: int = 150) -> str:
    text = " ".join(text.split())
    return "'" + (text if len(text) <= limit else text[:limit - 3].rstrip() + "...") + "'"


def _shown(change: AreaChange) -> list[tuple[str, str, list[str]]]:
    """The sentences a terminal shows for an area: for each criterion that changed or is still
    open, its strongest new evidence and the first of its old evidence that was removed; each
    sentence once, with the criteria it stands for."""
    picked: dict[tuple[str, str], list[str]] = {}
    for c in change.criteria:
        if not (c.changed or c.status == "still_open"):
            continue
        after = [e for e in c.evidence_after if c.changed or e.change == "added"][:1]
        for e in after + [e for e in c.evidence_before if e.change == "removed"][:1]:
            picked.setdefault((_SIGN[e.change], e.sentence), []).append(c.criterion)
    order = {"+": 0, "=": 1, "-": 2}
    return [(sign, s, names) for (sign, s), names in sorted(picked.items(), key=lambda kv: order[kv[0][0]])]


def table_lines(comparison: Comparison) -> list[str]:
    """The comparison for a terminal: a summary, then each area with its scores before and after
    and the sentences behind the changes (+ added, = kept, - removed; JSON and HTML give them all)."""
    old, new = comparison.old, comparison.new
    counts = ", ".join(f"{n} {s.replace('_', ' ')}" for s, n in comparison.counts.items())
    lines = [f"{Path(str(old['path'])).name} -> {Path(str(new['path'])).name}  (model {comparison.model})",
             f"  verdict        {old['verdict']} -> {new['verdict']}",
             f"  missing areas  {', '.join(old['missing_areas']) or 'none'} -> {', '.join(new['missing_areas']) or 'none'}",
             f"  areas          {counts}"]
    for change in comparison.areas:
        lines.append(f"\n{change.area:<24} {change.status.replace('_', ' ').upper():<17} "
                     f"p {_p(change.p_before)} -> {_p(change.p_after)}   {change.label_before} -> {change.label_after}")
        if change.before is None and change.after is None:
            continue
        lines.append("    " + "  ".join(f"{c.criterion[:4]} {_score(c.before)}->{_score(c.after)}" for c in change.criteria))
        for sign, sentence, names in _shown(change):
            which = "all criteria" if len(names) == len(CRITERIA) else ", ".join(names)
            lines.append(f"    {sign} {_quote(sentence, 110)}  [{which}]")
        lines.append(f"    {len(change.added)} sentence(s) added, {len(change.removed)} removed")
    return lines


# --- HTML ------------------------------------------------------------------------------------

_CSS = """
body { font: 15px/1.5 Georgia, "Times New Roman", serif; color: #111; max-width: 80rem; margin: 2rem auto; padding: 0 1rem; }
h1, h2, h3, th, .badge, .meta { font-family: "Helvetica Neue", Arial, sans-serif; }
.meta { display: grid; grid-template-columns: max-content 1fr 1fr; gap: .1rem 1rem; font-size: .9rem; }
.meta b { font-weight: bold; }
.badge { display: inline-block; padding: .1rem .5rem; border: 2px solid; font-size: .85rem; font-weight: bold; }
.closed, .newly_present { color: #155724; background: #dff3e3; }
.still_open, .still_missing { color: #7a4b00; background: #fff1cc; }
.regressed, .newly_missing { color: #8a1c00; background: #ffe3d6; }
.still_sufficient, .met { color: #333; background: #eee; }
table { border-collapse: collapse; width: 100%; font-size: .85rem; margin: .5rem 0; }
th, td { border: 1px solid #777; padding: .25rem .4rem; vertical-align: top; text-align: left; }
td.score { text-align: center; white-space: nowrap; }
.s0 { background: #f4b6b0; } .s1 { background: #ffe08a; } .s2 { background: #b9e4c1; }
section.area { border-top: 2px solid #333; margin-top: 1.5rem; }
.sides { display: grid; grid-template-columns: 1fr 1fr; gap: 1rem; }
.text { white-space: pre-wrap; border-left: 3px solid #ccc; padding-left: .7rem; font-size: .9rem; }
del.removed { background: #f4b6b0; text-decoration: line-through; }
ins.added { background: #b9e4c1; text-decoration: none; }
ul.evidence { margin: 0; padding-left: 1.1rem; } li.added::marker { content: "+ "; } li.removed::marker { content: "- "; }
li.kept::marker { content: "= "; }
.badge, .score, del, ins { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
@media print { body { max-width: none; margin: 0; font-size: 10pt; } section.area { break-inside: avoid-page; } }
"""


def _e(value) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def _mark(text: str, sentences: Sequence[str], tag: str, css: str) -> str:
    """Escaped ``text`` with each of ``sentences`` wrapped in ``<tag class=css>``, matched word by
    word across any whitespace."""
    spans = []
    for s in sentences:
        words = s.split()
        m = re.search(r"\s+".join(map(re.escape, words)), text) if words else None
        if m:
            spans.append(m.span())
    out, pos = [], 0
    for start, end in sorted(spans):
        if start < pos:
            continue
        out += [_e(text[pos:start]), f'<{tag} class="{css}">{_e(text[start:end])}</{tag}>']
        pos = end
    out.append(_e(text[pos:]))
    return "".join(out)


def _badge(status: str | None) -> str:
    return f'<span class="badge {_e(status)}">{_e(str(status).replace("_", " "))}</span>' if status else ""


def _dash(value: int | None) -> str:
    return "&#8211;" if value is None else str(int(value))


def _cell(value: int | None) -> str:
    return f'<td class="score s{value}">{value}</td>' if value is not None else '<td class="score">-</td>'


def _evidence(items: Sequence[Evidence]) -> str:
    if not items:
        return ""
    return '<ul class="evidence">' + "".join(f'<li class="{_e(e.change)}" title="{_e(e.change)}">{_e(e.sentence)}</li>'
                                             for e in items) + "</ul>"


def _area_html(change: AreaChange) -> list[str]:
    name = AREA_NAMES.get(change.area, change.area)
    parts = [f'<section class="area" id="{_e(change.area)}">',
             f"<h2>{_e(name)} {_badge(change.status)}</h2>",
             f"<p>p(insufficient) {_e(_p(change.p_before))} &#8594; {_e(_p(change.p_after))}; "
             f"{_e(change.label_before)} &#8594; {_e(change.label_after)}</p>"]
    if change.before is not None or change.after is not None:
        parts += ['<table><thead><tr><th scope="col">criterion</th><th scope="col">before</th><th scope="col">after</th>'
                  '<th scope="col">change</th><th scope="col">evidence before</th><th scope="col">evidence after</th>'
                  "</tr></thead><tbody>"]
        for c in change.criteria:
            parts.append(f'<tr><th scope="row">{_e(c.criterion)}</th>{_cell(c.before)}{_cell(c.after)}'
                         f"<td>{_badge(c.status)}</td><td>{_evidence(c.evidence_before)}</td>"
                         f"<td>{_evidence(c.evidence_after)}</td></tr>")
        parts.append("</tbody></table>")
    if change.after is not None and change.after.reasons:
        parts.append('<ul class="reasons">' + "".join(f"<li>{_e(r)}</li>" for r in change.after.reasons) + "</ul>")
    old = change.before.text if change.before else ""
    new = change.after.text if change.after else ""
    parts += ['<div class="sides">',
              f"<div><h3>Before {_e(cite_pages(change.before.pages if change.before else ()))}</h3>"
              f'<div class="text">{_mark(old, change.removed, "del", "removed") if old else "<em>absent</em>"}</div></div>',
              f"<div><h3>After {_e(cite_pages(change.after.pages if change.after else ()))}</h3>"
              f'<div class="text">{_mark(new, change.added, "ins", "added") if new else "<em>absent</em>"}</div></div>',
              "</div></section>"]
    return parts


def render_html(comparison: Comparison, links: Sequence[tuple[str, str]] = ()) -> str:
    """The comparison as one self-contained HTML page: both plans side by side, changes highlighted.

    Every string from the plans is escaped; the page loads nothing and runs no scripts. ``links``
    (address, words) go above the title: the workbench's way back to the plans.
    """
    old, new = comparison.old, comparison.new
    title = f"{Path(str(old['path'])).name} \u2192 {Path(str(new['path'])).name}"
    rows = "".join(
        f'<tr><th scope="row"><a href="#{_e(a.area)}">{_e(AREA_NAMES.get(a.area, a.area))}</a></th><td>{_badge(a.status)}</td>'
        f"<td>{_e(_p(a.p_before))}</td><td>{_e(_p(a.p_after))}</td>"
        + "".join(f'<td class="score s{c.after}">{_dash(c.before)}&#8594;{_dash(c.after)}</td>' if c.after is not None
                  else f"<td>{_dash(c.before)}&#8594;{_dash(c.after)}</td>" for c in a.criteria) + "</tr>"
        for a in comparison.areas)
    head = "".join(f'<th scope="col">{_e(c[:5])}</th>' for c in CRITERIA)
    counts = ", ".join(f"{n} {s.replace('_', ' ')}" for s, n in comparison.counts.items())
    parts = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
             '<meta name="viewport" content="width=device-width, initial-scale=1">',
             f"<title>plancheck comparison: {_e(title)}</title>", f"<style>{_CSS}</style></head><body>",
             *(["<nav>" + " &middot; ".join('<a href="%s">%s</a>' % (_e(href), _e(words)) for href, words in links)
                + "</nav>"] if links else []),
             f"<header><h1>{_e(title)}</h1>", '<div class="meta"><b></b><b>Before</b><b>After</b>',
             f"<span>File</span><span>{_e(old['path'])}</span><span>{_e(new['path'])}</span>",
             f"<span>Title</span><span>{_e(old['title'])}</span><span>{_e(new['title'])}</span>",
             f"<span>Verdict</span><span>{_e(old['verdict'])}</span><span>{_e(new['verdict'])}</span>",
             f"<span>Missing areas</span><span>{_e(', '.join(old['missing_areas']) or 'none')}</span>"
             f"<span>{_e(', '.join(new['missing_areas']) or 'none')}</span>",
             f"<span>Model</span><span>{_e(comparison.model)}</span><span></span></div>",
             f"<p><strong>{_e(counts)}</strong></p></header>",
             "<h2>Areas</h2><p>Criteria: 0 missing, 1 vague, 2 specific; cells coloured by the score after.</p>",
             f'<table><thead><tr><th scope="col">area</th><th scope="col">status</th><th scope="col">p before</th>'
             f'<th scope="col">p after</th>{head}</tr></thead><tbody>{rows}</tbody></table>']
    for change in comparison.areas:
        parts += _area_html(change)
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


# --- command line ----------------------------------------------------------------------------

def register(app) -> None:
    """Add the ``compare`` and ``overlap`` verbs (comparing plans) to the Typer ``app``."""
    import json

    import typer

    from . import overlap

    @app.command()
    def compare(old: Path = typer.Argument(..., help="the earlier plan"),
                new: Path = typer.Argument(..., help="its resubmission"),
                fmt: str = typer.Option("table", "--format", "-f", help="table | json | html"),
                output: Optional[Path] = typer.Option(None, "--output", "-o", help="write here instead of stdout"),
                model: Optional[str] = typer.Option(None, "--model", "-m", help="model name or path of its .card.json"),
                config: Optional[Path] = typer.Option(None, "--config", help="TOML settings file")) -> None:
        """Compare a plan with its resubmission: did the force fix what was flagged?

        For each area: closed, still open, regressed, newly missing or newly present; each
        criterion's score and p(insufficient) before and after; the sentences added or removed
        behind each change. Exit 1 if either file could not be read.

        Example: plancheck compare examples/resubmission/quillmoor-2009.md examples/resubmission/quillmoor-2010.md
        """
        from .card import atomic_write
        from .config import load_config

        if fmt not in FORMATS:
            raise typer.BadParameter(f"expected one of {list(FORMATS)}", param_hint="--format")
        comparison = compare_paths(old, new, load_config(config), model)
        if fmt == "json":
            text = json.dumps(comparison.to_dict(), indent=2, ensure_ascii=False) + "\n"
        elif fmt == "html":
            text = render_html(comparison)
        else:
            text = "\n".join(table_lines(comparison)) + "\n"
        if output is None:
            typer.echo(text, nl=False)
        else:
            atomic_write(output, text.encode("utf-8"))
            typer.echo(f"{output}: {', '.join(f'{n} {s}' for s, n in comparison.counts.items())}", err=True)

    overlap.register(app)
