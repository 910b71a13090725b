"""Human-readable renderings: the model card in Markdown and the per-plan HTML report."""
from __future__ import annotations

import html
import re

from .areas import AREA_NAMES
from .corpus import CRITERIA


def _fmt(value) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.3f}"
    return str(value)


def render_card_markdown(card: dict) -> str:
    """The model card as Markdown: what it is, how it was judged, what it may be trusted for."""
    m = card.get("metrics", {})
    t = card.get("threshold", {})
    data = card.get("training_data", {})
    lines = [
        f"# Model card: {card.get('name')}",
        "",
        f"plancheck {card.get('plancheck_version')} section model, trained {card.get('created')} "
        f"from commit `{card.get('git_commit', 'unknown')[:12]}`.",
        "",
        "## What it does",
        "",
        "Scores each protective-service section of a plan on the eight rubric criteria (0/1/2) and gives a "
        "calibrated probability that the section is `insufficient`; sections at or above the threshold are "
        "flagged for a reviewer, with reasons and evidence sentences.",
        "",
        f"- Combination: `{card.get('model', {}).get('mode')}` ({card.get('model', {}).get('mode_chosen_by')})",
        f"- Threshold: **{_fmt(t.get('value'))}**, rule: {t.get('rule')} (out-of-fold precision "
        f"{_fmt(t.get('oof_precision'))}, recall {_fmt(t.get('oof_recall'))})",
        f"- Language pipeline: `{card.get('pipeline', {}).get('name')}` (spaCy {card.get('pipeline', {}).get('spacy')}; "
        f"components {', '.join(card.get('pipeline', {}).get('components', []))})",
        f"- Training data: {data.get('sections')} graded sections ({data.get('train_sections')} train from "
        f"{data.get('train_forces')} forces, {data.get('test_sections')} test from {data.get('test_forces')} forces), "
        f"{_fmt(data.get('insufficient_share'))} insufficient; data SHA-256 `{str(data.get('sha256'))[:16]}...`",
        f"- Artefact SHA-256: `{card.get('artefact_sha256')}`",
        "",
        "## Results (`insufficient` is the positive class)",
        "",
        "| model | split | precision | recall | F1 | ROC-AUC | Brier |",
        "|---|---|---|---|---|---|---|",
    ]
    for split in ("cv", "test"):
        r = m.get(split, {})
        label = "cross-validated (out-of-fold, grouped by force)" if split == "cv" else "held-out test split"
        lines.append(f"| plancheck | {label} | {_fmt(r.get('precision'))} | {_fmt(r.get('recall'))} | {_fmt(r.get('f1'))} "
                     f"| {_fmt(r.get('roc_auc'))} | {_fmt(r.get('brier'))} |")
    for name, b in m.get("baselines", {}).items():
        r = b.get("test", {})
        lines.append(f"| baseline: {name} | held-out test split | {_fmt(r.get('precision'))} | {_fmt(r.get('recall'))} "
                     f"| {_fmt(r.get('f1'))} | {_fmt(r.get('roc_auc'))} | {_fmt(r.get('brier'))} |")
    cm = m.get("test", {}).get("confusion_matrix")
    if cm:
        lines += ["", f"Test confusion matrix (rows true sufficient/insufficient, columns predicted): `{cm}`"]
    for title, key in (("Per criterion (test split)", "test_per_criterion"), ("Per criterion (cross-validated)", "cv_per_criterion")):
        lines += ["", f"## {title}", "", "| criterion | accuracy | macro F1 | F1 of 'specific' (2) |", "|---|---|---|---|"]
        for c in CRITERIA:
            r = m.get(key, {}).get(c, {})
            lines.append(f"| {c} | {_fmt(r.get('accuracy'))} | {_fmt(r.get('macro_f1'))} | {_fmt(r.get('score2_f1'))} |")
    for title, key in (("Per area (test split)", "test_per_area"), ("Per hard-case tag (test split)", "test_per_tag"),
                       ("Per hard-case tag (cross-validated)", "cv_per_tag")):
        lines += ["", f"## {title}", "", "| group | sections | insufficient | accuracy | recall |", "|---|---|---|---|---|"]
        for k, r in m.get(key, {}).items():
            lines.append(f"| {k} | {r['n']} | {r['insufficient']} | {_fmt(r['accuracy'])} | {_fmt(r['recall'])} |")
    lines += ["", "## Limits", "",
              "The corpus is fictional and written for this project; the test split is held out by force but is still "
              "the same writers' work. Expect lower figures on plans written elsewhere, and treat flags as a first "
              "pass for a reviewer, never as a verdict.", "",
              "## Versions", ""]
    lines += [f"- {k} {v}" for k, v in card.get("libraries", {}).items()]
    lines += [f"- Python {card.get('python')}", f"- Features: {len(card.get('features', {}).get('names', []))} columns, "
              f"registry {card.get('features', {}).get('registry')}", ""]
    return "\n".join(lines)
