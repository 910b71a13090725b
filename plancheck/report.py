"""Human-readable renderings: the model card in Markdown and the per-plan HTML report."""
from __future__ import annotations

import html
import re

from .areas import AREA_NAMES
from .rubric import CRITERIA


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


def render_card_markdown(card: dict) -> str:
    """The model card as Markdown: what it is, how it was judged, what it may be trusted for."""
    m = card.get("metrics", {})
    t = card.get("threshold", {})
    data = card.get("training_data", {})
    model = card.get("model", {})
    git = card.get("git", {})
    where = {"out_of_writer": "leave-one-writer-out (corpus train + blind-dev)",
             "blind_dev_out_of_writer": "blind-dev, out of writer", "test": "corpus test split (held out by force)",
             "blind_test": "**blind-test (frozen, other writers)**"}
    lines = [
        f"# Model card: {card.get('name')}", "",
        f"plancheck {card.get('plancheck_version')} section model, trained {card.get('created')} from commit "
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
        f"- Language pipeline: `{card.get('pipeline', {}).get('name')}` (spaCy {card.get('pipeline', {}).get('spacy')}; "
        f"components {', '.join(card.get('pipeline', {}).get('components', []))})",
        f"- Training data: {data.get('sections')} graded sections by {len(data.get('writers', []))} writers "
        f"({data.get('corpus_train_sections')} from the corpus training split, {data.get('blind_dev_sections')} "
        f"blind-dev), {_fmt(data.get('insufficient_share'))} insufficient; corpus SHA-256 "
        f"`{str(data.get('corpus_sha256'))[:16]}...`",
        f"- Held out: corpus test split {data.get('test_sections')} sections; blind-test {data.get('blind_test_sections')} "
        f"sections, SHA-256 `{data.get('blind_test_sha256')}` (scored once per trained model, never used to tune)",
        f"- Artefact SHA-256: `{card.get('artefact_sha256')}`", "",
        "## Results (`insufficient` is the positive class)", "",
        "| model | data | sections | precision | recall | F1 | ROC-AUC | Brier |", "|---|---|---|---|---|---|---|---|",
    ]
    for key, label in where.items():
        if m.get(key):
            lines.append(_label_row("plancheck", label, m[key].get("label")))
    for name, b in card.get("baselines", {}).items():
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
    for title, extra in card.get("appendix", {}).items():
        lines += ["", f"## {title}", "", str(extra)]
    lines += ["", "## Limits", "",
              "Every training and test text is fictional, written for this project by eleven writers. The blind sets "
              "are other writers' work, in styles the corpus lacked, but they are not real plans: expect lower figures "
              "on real forces' plans, and treat flags as a first pass for a reviewer, never as a verdict.", "",
              "## Versions", ""]
    lines += [f"- {k} {v}" for k, v in card.get("libraries", {}).items()]
    lines += [f"- Python {card.get('python')}", ""]
    return "\n".join(lines)


# --- HTML report -----------------------------------------------------------------------------

_VERDICTS = {"needs_review": "Needs review", "sufficient": "Sufficient", None: "Could not be read"}
_SCORE_WORDS = {0: "missing", 1: "vague", 2: "specific"}

# Everything inline: the report is mailed and archived, so it must not fetch anything.
_CSS = """
body { font: 16px/1.5 Georgia, "Times New Roman", serif; color: #111; max-width: 60rem; margin: 2rem auto; padding: 0 1rem; }
h1, h2, h3, th, .meta, .verdict { font-family: "Helvetica Neue", Arial, sans-serif; }
h1 { margin-bottom: .2rem; }
.verdict { display: inline-block; padding: .3rem .8rem; font-size: 1.4rem; font-weight: bold; border: 3px solid; }
.verdict-needs_review { color: #8a1c00; background: #ffe3d6; }
.verdict-sufficient { color: #155724; background: #dff3e3; }
.verdict-error, .error { color: #721c24; background: #f8d7da; }
.error { border: 3px solid #721c24; padding: .8rem 1rem; margin: 1rem 0; }
.meta { display: grid; grid-template-columns: max-content 1fr; gap: .1rem 1rem; font-size: .9rem; }
.meta dt { font-weight: bold; } .meta dd { margin: 0; } code { font-size: .9em; }
table.grid { border-collapse: collapse; width: 100%; font-size: .85rem; }
.grid th, .grid td { border: 1px solid #555; padding: .25rem .35rem; text-align: center; }
.grid th[scope=row] { text-align: left; }
.s0 { background: #f4b6b0; } .s1 { background: #ffe08a; } .s2 { background: #b9e4c1; }
.grid td, .verdict, mark, .error { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
section.area { border-top: 2px solid #333; margin-top: 1.5rem; }
.text { white-space: pre-wrap; border-left: 3px solid #ccc; padding-left: .8rem; }
mark.vague { background: #ffd27f; } mark.specific { background: #c6ecd0; }
@media print {
  body { margin: 0; max-width: none; font-size: 11pt; }
  h2, h3, .section-head { break-after: avoid; page-break-after: avoid; break-inside: avoid; page-break-inside: avoid; }
  tr { break-inside: avoid; page-break-inside: avoid; }
}
"""


def _e(value) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def _pages(pages) -> str:
    """Page numbers as a reviewer cites them: "p. 4", "pp. 4-5" or "pp. 4, 7"."""
    nums = sorted({int(p) for p in pages or ()})
    if not nums:
        return ""
    if len(nums) == 1:
        return f"p. {nums[0]}"
    if nums[-1] - nums[0] == len(nums) - 1:
        return f"pp. {nums[0]}-{nums[-1]}"
    return "pp. " + ", ".join(map(str, nums))


def _highlight(text: str, evidence: dict, criteria: dict) -> tuple[str, list[tuple[str, str]]]:
    """Escaped ``text`` with evidence sentences in <mark>, and the sentences not found in it.

    Sentences are matched word by word across any whitespace, since extraction may have
    reflowed line breaks and spaces.
    """
    spans: dict[tuple[int, int], list[str]] = {}
    unfound: list[tuple[str, str]] = []
    for c in list(CRITERIA) + [k for k in evidence if k not in CRITERIA]:
        for sentence in evidence.get(c) or ():
            words = str(sentence).split()
            m = re.search(r"\s+".join(map(re.escape, words)), text) if words else None
            if m is None:
                unfound.append((c, str(sentence)))
            elif c not in spans.setdefault(m.span(), []):
                spans[m.span()].append(c)
    out, pos = [], 0
    for (start, end), names in sorted(spans.items()):
        if start < pos:  # overlaps a sentence already marked; its words are highlighted anyway
            continue
        kind = "specific" if criteria.get(names[0]) == 2 else "vague"
        out.append(_e(text[pos:start]))
        out.append(f'<mark class="{kind}" title="{_e(", ".join(names))}">{_e(text[start:end])}</mark>')
        pos = end
    out.append(_e(text[pos:]))
    return "".join(out), unfound


def _grid(areas: list[dict]) -> list[str]:
    head = "".join(f'<th scope="col">{_e(c)}</th>' for c in CRITERIA)
    rows = ['<table class="grid">', f'<thead><tr><th scope="col">area</th>{head}'
            '<th scope="col">p(insufficient)</th><th scope="col">flagged</th></tr></thead>', "<tbody>"]
    for a in areas:
        cells = []
        for c in CRITERIA:
            score = (a.get("criteria") or {}).get(c)
            word = _SCORE_WORDS.get(score)
            cells.append(f'<td class="s{score}">{_e(score)} {word}</td>' if word else "<td>-</td>")
        flag = "<td><strong>FLAGGED</strong></td>" if a.get("flagged") else "<td>no</td>"
        rows.append(f'<tr><th scope="row">{_e(AREA_NAMES.get(a.get("area"), a.get("area")))}</th>{"".join(cells)}'
                    f'<td>{_e(_fmt(a.get("p_insufficient")))}</td>{flag}</tr>')
    return rows + ["</tbody></table>"]


def _section(a: dict) -> list[str]:
    name = _e(AREA_NAMES.get(a.get("area"), a.get("area")))
    where = "; ".join(filter(None, [" / ".join(map(str, a.get("headings") or ())), _pages(a.get("pages"))]))
    text, unfound = _highlight(str(a.get("text") or ""), a.get("evidence") or {}, a.get("criteria") or {})
    reasons = [_e(r) for r in a.get("reasons") or ()]
    reasons += [f"{_e(c)} evidence (not located in the text): &#8220;{_e(s)}&#8221;" for c, s in unfound]
    p = _e(_fmt(a.get("p_insufficient")))
    body = [f'<ul class="reasons">{"".join(f"<li>{r}</li>" for r in reasons)}</ul>' if reasons else "",
            f'<div class="text">{text}</div>' if text else "<p><em>No text recorded.</em></p>"]
    if not a.get("flagged"):
        return ['<section class="area unflagged"><details>',
                f"<summary>{name} - not flagged (p = {p}){' - ' + _e(where) if where else ''}</summary>", *body,
                "</details></section>"]
    return ['<section class="area flagged"><div class="section-head">', f"<h3>{name}: flagged (p = {p})</h3>",
            f'<p class="where">{_e(where)}</p>' if where else "", "</div>", *body, "</section>"]


def render_html(record: dict) -> str:
    """One plan's scored record as a self-contained, print-friendly HTML5 page.

    All text from the record (path, title, headings, reasons, evidence, section text) is
    untrusted and escaped; the page loads no external assets and runs no scripts.

    Args:
        record: a document record from :func:`plancheck.score.document_record` or
            :func:`plancheck.score.error_record`.

    Returns:
        The HTML page as a string.
    """
    path = str(record.get("path") or "")
    name = re.split(r"[\\/]", path)[-1] or path
    title = record.get("title")
    failed = record.get("status") == "error"
    verdict = None if failed else record.get("verdict")
    label = _VERDICTS.get(verdict, str(verdict))
    sha = record.get("sha256")
    meta = [("File", f'<span title="{_e(path)}">{_e(name)}</span>'), ("Title", _e(title) if title else ""),
            ("Kind", _e(record.get("kind") or "")), ("Pages", _e(record.get("pages") or "")),
            ("Words", _e(record.get("words") or "")), ("Model", _e(record.get("model") or "none")),
            ("SHA-256", f'<code title="{_e(sha)}">{_e(sha[:12])}...</code>' if sha else "unknown")]
    if not failed:
        meta.append(("Highest p(insufficient)", _e(_fmt(record.get("p_insufficient")))))
    parts = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
             '<meta name="viewport" content="width=device-width, initial-scale=1">',
             f"<title>plancheck report: {_e(title or name)}</title>", f"<style>{_CSS}</style></head><body>",
             f"<header><h1>{_e(title or name)}</h1>",
             f'<p class="verdict verdict-{"error" if failed else _e(verdict)}">{_e(label)}</p>',
             '<dl class="meta">', *(f"<dt>{k}</dt><dd>{v}</dd>" for k, v in meta if v), "</dl></header>"]
    parts += [f"<p><strong>Warning:</strong> {_e(w)}</p>" for w in record.get("warnings") or ()]
    if failed:
        err = record.get("error") or {}
        parts += ['<div class="error" role="alert"><h2>The document could not be read</h2>',
                  f'<p><strong>Error code:</strong> <code>{_e(err.get("code"))}</code></p>',
                  f'<p>{_e(err.get("message"))}</p><p>No sections were assessed.</p></div>', "</body></html>"]
        return "\n".join(parts) + "\n"
    missing = record.get("missing_areas") or []
    parts.append("<h2>Required areas</h2>")
    if missing:
        parts += ['<p><strong>Not found in the plan</strong> (each missing area is a reason for review by itself):</p>',
                  '<ul class="missing">', *(f"<li>{_e(AREA_NAMES.get(k, k))} (<code>{_e(k)}</code>)</li>" for k in missing),
                  "</ul>"]
    else:
        parts.append("<p>All required areas were found.</p>")
    areas = record.get("areas") or []
    flagged = [a for a in areas if a.get("flagged")]
    parts += ["<h2>Scores by area and criterion</h2>",
              "<p>0 = missing, 1 = vague, 2 = specific. Sections at or above the model's threshold are flagged.</p>"]
    parts += _grid(areas) if areas else ["<p>No sections were found.</p>"]
    parts.append(f"<h2>Flagged sections ({len(flagged)} of {len(areas)})</h2>")
    for a in flagged:
        parts += _section(a)
    if len(flagged) < len(areas):
        parts.append("<h2>Other sections</h2>")
        parts += [line for a in areas if not a.get("flagged") for line in _section(a)]
    parts.append("</body></html>")
    return "\n".join(p for p in parts if p) + "\n"
