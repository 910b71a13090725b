"""Human-readable renderings: the model card in Markdown and the per-plan HTML report."""
from __future__ import annotations

import re
from functools import lru_cache

from .areas import AREA_NAMES
from .ingest import name_of_force
from .rubric import CRITERIA, QUESTIONS
from .record import Record
from .types import Assessment, cite_pages


def _fmt(value) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.3f}"
    return str(value)


def _label_row(name: str, where: str, r: dict | None) -> str:
    r = r or {}
    return (f"| {name} | {where} | {r.get('n', '-')} | {_fmt(r.get('precision'))} | {_fmt(r.get('recall'))} "
            f"| {_fmt(r.get('f1'))} | {_fmt(r.get('roc_auc'))} | {_fmt(r.get('brier'))} |")


def render_card_markdown(card) -> str:
    """The model card (a :class:`~plancheck.card.ModelCard`) as Markdown: what it is, how it was
    judged, what it may be trusted for."""
    m = card.metrics
    t = card.threshold
    data = card.training_data
    model = card.model
    git = card.git
    pipeline = card.pipeline
    where = {"out_of_writer": "leave-one-writer-out (corpus train + blind-dev)",
             "blind_dev_out_of_writer": "blind-dev, out of writer", "test": "corpus test split (held out by force)",
             "blind_test": "**blind-test (frozen, other writers)**"}
    lines = [
        f"# Model card: {card.name}", "",
        f"plancheck {card.plancheck_version} section model, trained {card.created} from commit "
        f"`{str(git.get('commit', 'unknown'))[:12]}` (corpus with uncommitted changes: "
        f"{git.get('corpus_uncommitted_changes')}).", "",
        "## What it does", "",
        "Scores each protective-service section of a plan on the eight rubric criteria (0/1/2) and gives a "
        "calibrated probability that the section is `insufficient`; sections at or above the threshold are "
        "flagged for a reviewer, with the failing criteria and the sentences behind them.", "",
        f"- Model: `{model.get('class')}`, parameters `{model.get('params')}`, {model.get('terms')} terms",
        f"- Validation: {model.get('validation')}",
        f"- Threshold: **{_fmt(t.get('value'))}** ({t.get('rule')}; there precision {_fmt(t.get('precision'))}, "
        f"recall {_fmt(t.get('recall'))})",
        f"- Language pipeline: `{pipeline.get('name')}` (spaCy {pipeline.get('spacy')}; "
        f"components {', '.join(pipeline.get('components', []))})",
        f"- Training data: {data.get('sections')} graded sections by {len(data.get('writers', []))} writers "
        f"({data.get('corpus_train_sections')} from the corpus training split, {data.get('blind_dev_sections')} "
        f"blind-dev), {_fmt(data.get('insufficient_share'))} insufficient; corpus SHA-256 "
        f"`{str(data.get('corpus_sha256'))[:16]}...`",
        f"- Held out: corpus test split {data.get('test_sections')} sections; blind-test {data.get('blind_test_sections')} "
        f"sections, SHA-256 `{data.get('blind_test_sha256')}` (scored once per trained model, never used to tune)",
        f"- Artefact SHA-256: `{card.artefact_sha256}`", "",
        "## Results (`insufficient` is the positive class)", "",
        "| model | data | sections | precision | recall | F1 | ROC-AUC | Brier |", "|---|---|---|---|---|---|---|---|",
    ]
    for key, label in where.items():
        if m.get(key):
            lines.append(_label_row("plancheck", label, m[key].get("label")))
    for name, b in card.baselines.items():
        for key in ("out_of_writer", "test", "blind_test"):
            if b.get(key):
                lines.append(_label_row(f"baseline: {name}", where[key], b[key]))
    for key in ("blind_test", "test", "blind_dev_out_of_writer"):
        r = m.get(key)
        if not r:
            continue
        lines += ["", f"## Criteria: {where[key]}", "", f"Macro F1 of 'met' (score 2): **{_fmt(r['criteria'].get('macro_f1'))}**",
                  "", "| criterion | accuracy (0/1/2) | F1 of 'met' (2) |", "|---|---|---|"]
        for c in CRITERIA:
            cr = r["criteria"].get(c, {})
            lines.append(f"| {c} | {_fmt(cr.get('accuracy'))} | {_fmt(cr.get('met_f1'))} |")
        for group in ("per_style", "per_area", "per_writer"):
            lines += ["", f"{group.replace('_', ' ').capitalize()} ({where[key]}):", "",
                      "| group | sections | insufficient | accuracy | recall |", "|---|---|---|---|---|"]
            for k, g in r.get(group, {}).items():
                lines.append(f"| {k} | {g['n']} | {g['insufficient']} | {_fmt(g['accuracy'])} | {_fmt(g['recall'])} |")
    evidence = card.evidence
    if evidence.get("selection"):
        lines += ["", "## Model selection (leave one writer out; `scripts/select_model.py`)", "",
                  "| candidate | blind-dev F1 | blind-dev ROC-AUC | pool F1 | criteria macro-F1 (blind-dev) |",
                  "|---|---|---|---|---|"]
        for name, r in evidence["selection"].items():
            lines.append(f"| {name} | {_fmt(r.get('blind_dev_f1'))} | {_fmt(r.get('blind_dev_roc_auc'))} "
                         f"| {_fmt(r.get('pool_f1'))} | {_fmt(r.get('criteria_macro_f1_blind_dev'))} |")
    if evidence.get("reason_check"):
        r = evidence["reason_check"]
        lines += ["", "## Do the reasons hold?", "",
                  f"An independent checker read {r.get('sections')} flagged sections by writers "
                  f"{', '.join(r.get('held_out_writers') or [])} (judged by a model trained without them) and "
                  f"found {r.get('supported')} of {r.get('reasons_checked')} reasons true, with relevant quotes: "
                  f"**{_fmt(r.get('share'))}** (`scripts/reason_check.py`)."
                  + (f" Set against the independent graders' scores instead, {r['true_by_grades']} of "
                     f"{r.get('reasons_checked')} reasons name a criterion the graders scored below 2."
                     if r.get("true_by_grades") is not None else "")]
    if evidence.get("second_grading"):
        g = evidence["second_grading"]
        lines += ["", f"## Agreement of two independent gradings ({g.get('sections')} blind sections)", "",
                  "| criterion | Cohen's kappa | agreement |", "|---|---|---|"]
        for key in list(CRITERIA) + ["label"]:
            if key in g:
                lines.append(f"| {key} | {_fmt(g[key]['kappa'])} | {_fmt(g[key]['agreement'])} |")
    lines += ["", "## Limits", "",
              "Every training and test text is fictional, written for this project. The blind sets "
              "are other writers' work, in styles the corpus lacked, but they are not real plans: expect lower figures "
              "on real forces' plans, and treat flags as a first pass for a reviewer, never as a verdict.", "",
              "## Versions", ""]
    lines += [f"- {k} {v}" for k, v in card.libraries.items()]
    lines += [f"- Python {card.python}", ""]
    return "\n".join(lines)


# --- HTML report -----------------------------------------------------------------------------

_VERDICTS = {"needs_review": "Needs review", "sufficient": "Sufficient", None: "Could not be read"}
_SCORE_WORDS = {0: "missing", 1: "vague", 2: "specific"}

# What a reviewer does about each error code; the message above it says what was found.
_ADVICE = {
    "no_text": "Run OCR on the file (or ask the force for a copy with a text layer) and resubmit it.",
    "encrypted": "Ask the force for a copy without a password, or remove the protection, and resubmit it.",
    "unsupported_type": "Save the plan as .docx or PDF and resubmit it.",
    "empty": "The file is empty: ask the force to send the plan again.",
    "unreadable": "The file is damaged: ask the force for a fresh copy, or open it and save it again as .docx or "
                  "PDF, and resubmit it.",
    "too_large": "Check that the file is the plan itself (not an archive or a bundle of scans); if it is, raise the "
                 "setting named above or split the plan, and resubmit it.",
    "too_many_pages": "Check that the file is the plan itself; if it is, raise the setting named above or split the "
                      "plan, and resubmit it.",
    "limit_exceeded": "Check that the file is the plan itself; if it is, open it and save it again as .docx or PDF "
                      "(which drops what tripped the limit), and resubmit it.",
    "timeout": "Try once more; if it fails again, open the plan and save it again as .docx or PDF, or ask the "
               "force for a fresh copy, and resubmit it.",
    "not_a_file": "Submit the plan file itself, not a folder, link or device.",
    "changed": "The file kept changing while it was read: wait until it is completely written, then resubmit it.",
    "not_routed": "Free space or fix permissions in the output folder, then run triage again; the log says where "
                  "the file is.",
}
_DEFAULT_ADVICE = "Fix what the message above says, then resubmit the file."

# Everything inline: the report is mailed and archived, so it must not fetch anything. Colours
# are doubled by what prints in black and white: scores are written out, evidence is underlined
# dashed (vague) or solid (specific) and tagged with its criterion.
_CSS = """
body { font: 16px/1.5 Georgia, "Times New Roman", serif; color: #111; max-width: 60rem; margin: 2rem auto; padding: 0 1rem; }
h1, h2, h3, th, .meta, .verdict, .force, .legend, sup.tag { font-family: "Helvetica Neue", Arial, sans-serif; }
h1 { margin-bottom: .2rem; } .force { font-size: 1.2rem; margin: 0 0 .5rem; }
.verdict { display: inline-block; padding: .3rem .8rem; font-size: 1.4rem; font-weight: bold; border: 3px solid; }
.verdict-needs_review { color: #8a1c00; background: #ffe3d6; }
.verdict-sufficient { color: #155724; background: #dff3e3; }
.verdict-error, .error { color: #721c24; background: #f8d7da; }
.error { border: 3px solid #721c24; padding: .8rem 1rem; margin: 1rem 0; }
.advice { font-weight: bold; }
.meta { display: grid; grid-template-columns: max-content 1fr; gap: .1rem 1rem; font-size: .9rem; }
.meta dt { font-weight: bold; } .meta dd { margin: 0; } code { font-size: .9em; }
table.grid { border-collapse: collapse; width: 100%; font-size: .85rem; }
.grid th, .grid td { border: 1px solid #555; padding: .25rem .35rem; text-align: center; }
.grid th[scope=row] { text-align: left; } .grid small { display: block; color: #333; }
.s0 { background: #f4b6b0; } .s1 { background: #ffe08a; } .s2 { background: #b9e4c1; }
.grid td, .verdict, mark, .error { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
section.area { border-top: 2px solid #333; margin-top: 1.5rem; }
.text { white-space: pre-wrap; border-left: 3px solid #ccc; padding-left: .8rem; }
mark.vague { background: #ffd27f; border-bottom: 2px dashed #000; }
mark.specific { background: #c6ecd0; border-bottom: 2px solid #000; }
sup.tag { font-size: .7rem; font-weight: bold; }
.legend { border: 1px solid #555; padding: .5rem 1rem; font-size: .9rem; break-inside: avoid; page-break-inside: avoid; }
.legend dl { display: grid; grid-template-columns: max-content 1fr; gap: .1rem 1rem; margin: .3rem 0; }
.legend dt { font-weight: bold; } .legend dd { margin: 0; }
.back { font-size: .85rem; }
@media print {
  body { margin: 0; max-width: none; font-size: 11pt; }
  a { color: inherit; text-decoration: none; } .back { display: none; }
  h2, h3, .section-head { break-after: avoid; page-break-after: avoid; break-inside: avoid; page-break-inside: avoid; }
  tr { break-inside: avoid; page-break-inside: avoid; }
}
"""

# All text from the record is escaped by autoescaping; the template adds the only markup.
_TEMPLATE = """\
{% macro body(a) -%}
{% if a.reasons or a.unfound %}<ul class="reasons">{% for r in a.reasons %}<li>{{ r }}</li>{% endfor %}{% for c, s in a.unfound %}<li>{{ c }} evidence (not located in the text): &#8220;{{ s }}&#8221;</li>{% endfor %}</ul>
{% endif %}
{%- if a.segments %}<div class="text">{% for s in a.segments %}{% if s.kind %}<mark class="{{ s.kind }}" title="{{ s.names }}">{{ s.text }}</mark><sup class="tag">[{{ s.tag }}]</sup>{% else %}{{ s.text }}{% endif %}{% endfor %}</div>
{% else %}<p><em>No text recorded.</em></p>
{% endif %}
<p class="back"><a href="#grid">Back to the scores</a></p>
{%- endmacro %}
{% macro section(a) -%}
{% if a.flagged %}<section class="area flagged" id="{{ a.anchor }}"><div class="section-head">
<h3>{{ a.name }}: flagged (p = {{ a.p }}{% if a.threshold %}, at or above the threshold {{ a.threshold }}{% endif %})</h3>
{% if a.where %}<p class="where">{{ a.where }}</p>
{% endif %}</div>
{{ body(a) }}
</section>
{% else %}<section class="area unflagged" id="{{ a.anchor }}"><details>
<summary>{{ a.name }} - not flagged (p = {{ a.p }}{% if a.threshold %}, below the threshold {{ a.threshold }}{% endif %}){% if a.where %} - {{ a.where }}{% endif %}</summary>
{{ body(a) }}
</details></section>
{% endif %}
{%- endmacro %}
<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>plancheck report: {{ heading }}</title>
<style>{{ css|safe }}</style></head><body>
<header>
{% if force %}<p class="force">Force: <strong>{{ force }}</strong></p>
{% endif %}<h1>{{ heading }}</h1>
<p class="verdict verdict-{{ verdict_class }}">{{ verdict_label }}</p>
<dl class="meta">
<dt>File</dt><dd><span title="{{ path }}">{{ file_name }}</span></dd>
{% for key, value in meta %}<dt>{{ key }}</dt><dd>{{ value }}</dd>
{% endfor %}<dt>SHA-256</dt><dd>{% if sha %}<code title="{{ sha }}">{{ sha[:12] }}...</code>{% else %}unknown{% endif %}</dd>
</dl></header>
{% for warning in warnings %}<p><strong>Warning:</strong> {{ warning }}</p>
{% endfor %}
{%- if failed %}
<div class="error" role="alert"><h2>The document could not be read</h2>
<p><strong>Error code:</strong> <code>{{ error_code }}</code></p>
<p>{{ error_message }}</p>
<p class="advice">What to do: {{ advice }}</p>
<p>No sections were assessed.</p></div>
{% else %}
<h2>Required areas</h2>
{% if missing %}<p><strong>Not found in the plan</strong> (each missing area is a reason for review by itself):</p>
<ul class="missing">
{% for key, name in missing %}<li>{{ name }} (<code>{{ key }}</code>)</li>
{% endfor %}</ul>
{% else %}<p>All required areas were found.</p>
{% endif %}
<h2 id="grid">Scores by area and criterion</h2>
<p>0 = missing, 1 = vague, 2 = specific; below each score, the model's probability that the criterion is
specific (score 2). Each area's name leads to its section. {% if threshold %}A section is flagged when its
p(insufficient) is at or above the model's threshold, <strong>{{ threshold }}</strong>.{% else %}Sections at or
above the model's threshold are flagged.{% endif %}</p>
{% if areas %}<table class="grid">
<thead><tr><th scope="col">area</th>{% for c in criteria %}<th scope="col">{{ c }}</th>{% endfor %}<th scope="col">p(insufficient)</th><th scope="col">flagged</th></tr></thead>
<tbody>
{% for a in areas %}<tr><th scope="row"><a href="#{{ a.anchor }}">{{ a.name }}</a></th>
{%- for cell in a.cells %}{% if cell.word %}<td class="s{{ cell.score }}">{{ cell.score }} {{ cell.word }}{% if cell.p %} <small>({{ cell.p }})</small>{% endif %}</td>{% else %}<td>-</td>{% endif %}{% endfor -%}
<td>{{ a.p }}</td>{% if a.flagged %}<td><strong>FLAGGED</strong></td>{% else %}<td>no</td>{% endif %}</tr>
{% endfor %}</tbody></table>
{% else %}<p>No sections were found.</p>
{% endif %}
{% if marked %}<div class="legend" id="legend"><h2>Reading the highlights</h2>
<p>In each section's text, the sentences behind a criterion's score are highlighted, and a tag after each
names the criterion and its score, such as <sup class="tag">[owner: vague]</sup>.</p>
<dl><dt><mark class="vague">vague</mark></dt><dd>dashed underline: the sentence meets the criterion only vaguely (score 1)</dd>
<dt><mark class="specific">specific</mark></dt><dd>solid underline: the sentence meets it specifically (score 2)</dd>
{% for c, question in questions %}<dt>{{ c }}</dt><dd>{{ question }}</dd>
{% endfor %}</dl></div>
{% endif %}
<h2>Flagged sections ({{ flagged|length }} of {{ areas|length }})</h2>
{% for a in flagged %}{{ section(a) }}{% endfor %}
{% if others %}<h2>Other sections</h2>
{% for a in others %}{{ section(a) }}{% endfor %}
{% endif %}
{%- endif %}
</body></html>
"""


@lru_cache(maxsize=1)
def _template():
    from jinja2 import Environment, StrictUndefined

    env = Environment(autoescape=True, undefined=StrictUndefined, trim_blocks=True, keep_trailing_newline=True)
    return env.from_string(_TEMPLATE)


def locate_evidence(text: str, evidence: dict) -> tuple[dict[tuple[int, int], list[str]], list[tuple[str, str]]]:
    """Where each evidence sentence stands in ``text``: its span with the criteria it supports,
    and the ``(criterion, sentence)`` pairs that could not be found.

    Sentences are matched word by word across any whitespace, since extraction may have
    reflowed line breaks and spaces. Criteria come in rubric order.
    """
    spans: dict[tuple[int, int], list[str]] = {}
    unfound: list[tuple[str, str]] = []
    for c in list(CRITERIA) + [k for k in evidence if k not in CRITERIA]:
        for sentence in evidence.get(c) or ():
            words = str(sentence).split()
            m = re.search(r"\s+".join(map(re.escape, words)), text) if words else None
            if m is None:
                unfound.append((str(c), str(sentence)))
            elif c not in spans.setdefault(m.span(), []):
                spans[m.span()].append(str(c))
    return spans, unfound


def _segments(text: str, evidence: dict, criteria: dict) -> tuple[list[dict], list[tuple[str, str]]]:
    """``text`` cut into plain and highlighted pieces, and the evidence sentences not found in it.

    Sentences are matched word by word across any whitespace, since extraction may have
    reflowed line breaks and spaces. Each highlight carries the criteria it supports with their
    scores, for its tag.
    """
    spans, unfound = locate_evidence(text, evidence)
    out: list[dict] = []
    pos = 0
    for (start, end), names in sorted(spans.items()):
        if start < pos:  # overlaps a sentence already marked; its words are highlighted anyway
            continue
        words: dict[str, list[str]] = {}  # score word -> criteria, so a tag stays short
        for n in names:
            words.setdefault(_SCORE_WORDS.get(criteria.get(n), "evidence"), []).append(n)
        out.append({"text": text[pos:start], "kind": None})
        out.append({"text": text[start:end], "names": ", ".join(names),
                    "kind": "specific" if set(words) == {"specific"} else "vague",
                    "tag": "; ".join(f"{', '.join(ns)}: {w}" for w, ns in words.items())})
        pos = end
    out.append({"text": text[pos:], "kind": None})
    return [s for s in out if s["text"]], unfound


def _anchor(key: str, taken: set[str]) -> str:
    """A fragment id for an area's section, unique within the page."""
    base = "area-" + (re.sub(r"[^a-z0-9_-]+", "-", key.lower()).strip("-") or "section")
    anchor, n = base, 1
    while anchor in taken:
        n += 1
        anchor = f"{base}-{n}"
    taken.add(anchor)
    return anchor


def _area_view(a: Assessment, taken: set[str]) -> dict:
    key = a.area
    criteria = a.criteria
    p_specific = a.p_specific
    cells = []
    for c in CRITERIA:
        score = criteria.get(c)
        p = p_specific.get(c)
        cells.append({"score": score, "word": _SCORE_WORDS.get(score),
                      "p": f"{p:.2f}" if isinstance(p, (int, float)) else ""})
    segments, unfound = _segments(a.text, a.evidence, criteria)
    threshold = a.threshold
    return {"anchor": _anchor(key, taken), "name": AREA_NAMES.get(key, key), "cells": cells,
            "p": _fmt(a.p_insufficient), "flagged": a.needs_review,
            "threshold": _fmt(threshold) if isinstance(threshold, (int, float)) else "",
            "where": "; ".join(filter(None, [" / ".join(map(str, a.headings)), cite_pages(a.pages)])),
            "reasons": [str(r) for r in a.reasons], "unfound": unfound, "segments": segments}


def render_html(record: Record) -> str:
    """One plan's scored record as a self-contained, print-friendly HTML5 page.

    The page names the force (the record's ``force``, or the force its title names), gives the
    verdict, the model's flag threshold, a grid of scores whose rows lead to the sections, each
    section's evidence highlighted and tagged with its criterion (with a legend that prints), and
    for a file that could not be read, what to do about it. All text from the record is
    untrusted and escaped; the page loads no external assets and runs no scripts.

    Args:
        record: a document record (scored or not).

    Returns:
        The HTML page as a string.
    """
    path = record.path
    name = re.split(r"[\\/]", path)[-1] or path
    title = record.title
    force = record.force or name_of_force(title)
    failed = not record.ok
    verdict = None if failed else record.verdict
    meta = [("Title", title), ("Kind", record.kind), ("Pages", record.pages or None),
            ("Words", record.words or None), ("Model", record.model or "none")]
    taken: set[str] = set()
    areas = [_area_view(a, taken) for a in record.areas]
    thresholds = sorted({a["threshold"] for a in areas if a["threshold"]})
    if not failed:
        meta.append(("Highest p(insufficient)", _fmt(record.p_insufficient)))
        if thresholds:
            meta.append(("Flag threshold", ", ".join(thresholds)))
    return _template().render(
        css=_CSS, heading=title or name, force=force, path=path, file_name=name,
        sha=record.sha256 or "", meta=[(k, str(v)) for k, v in meta if v not in (None, "")],
        verdict_class="error" if failed else str(verdict), verdict_label=_VERDICTS.get(verdict, str(verdict)),
        warnings=list(record.warnings), failed=failed,
        error_code=record.error_code, error_message=record.error_message,
        advice=_ADVICE.get(record.error_code, _DEFAULT_ADVICE),
        missing=[(k, AREA_NAMES.get(k, k)) for k in record.missing_areas],
        threshold=", ".join(thresholds), criteria=CRITERIA, areas=areas,
        flagged=[a for a in areas if a["flagged"]], others=[a for a in areas if not a["flagged"]],
        marked=any(s["kind"] for a in areas for s in a["segments"]), questions=list(QUESTIONS.items()))
