"""Reasons a reviewer can act on, in agreement with the verdict.

The verdict of a section is its calibrated P(insufficient) against the model's threshold. The
criteria shown with it always agree with that verdict under the rubric's rule:

* a flagged section whose most likely scores would pass the rule has its least certain deciding
  criterion shown as ``1`` and named as *doubtful*, with the model's confidence;
* a section that is not flagged but whose most likely scores would fail the rule has the failing
  criteria it is most confident about shown as ``2`` (the record keeps each criterion's P(2)).

Each reason names a criterion that fails the rule and quotes the sentences the criterion model
itself holds responsible (lexical.SectionModel.sentence_support): for a vague criterion, the
sentences that pull it most towards "vague"; never a question, a heading, or a sentence that
pulls the other way.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from .rubric import CORE, CRITERIA, MIN_SUPPORTING, QUESTIONS, SUPPORTING, failing, label_from_scores

QUOTES_PER_REASON = 2
EVIDENCE_PER_CRITERION = 3
_LETTERS = re.compile(r"[A-Za-z]")


@dataclass(frozen=True)
class Explanation:
    """The criteria shown, the reasons of a flag and each criterion's evidence sentences."""

    criteria: dict[str, int]
    p_specific: dict[str, float]
    reasons: tuple[str, ...]
    evidence: dict[str, list[str]]


def quotable(sentence: str) -> bool:
    """A sentence worth quoting: not a question, not a heading or a bare label, not a table header."""
    s = sentence.strip()
    if not s or s.endswith("?") or len(_LETTERS.findall(s)) < 12:
        return False
    words = s.split()
    if len(words) < 5 and not s.endswith((".", ";", ":")) and "|" not in s:
        return False  # a heading or a label
    if "|" in s and not any(ch.isdigit() for ch in s) and len(words) <= 12:
        return False  # a table's header row
    return True


def _quote(sentence: str, limit: int = 160) -> str:
    s = " ".join(sentence.split())
    return "'" + (s if len(s) <= limit else s[: limit - 3].rstrip() + "...") + "'"


def agree(scores: dict[str, int], p2: dict[str, float], flagged: bool) -> tuple[dict[str, int], set[str], set[str]]:
    """Scores that agree with the verdict, and the criteria lowered (doubtful) or raised to get there."""
    scores = dict(scores)
    lowered: set[str] = set()
    raised: set[str] = set()
    passes = label_from_scores(scores) == "sufficient"
    if flagged and passes:
        # Lowering any core criterion fails the rule; a supporting one only when exactly two are met.
        met_support = [c for c in SUPPORTING if scores[c] == 2]
        candidates = list(CORE) + (met_support if len(met_support) == MIN_SUPPORTING else [])
        weakest = min(candidates, key=lambda c: p2[c])
        scores[weakest] = 1
        lowered.add(weakest)
    elif not flagged and not passes:
        for c in CORE:
            if scores[c] < 2:
                scores[c] = 2
                raised.add(c)
        for c in sorted((c for c in SUPPORTING if scores[c] < 2), key=lambda c: -p2[c]):
            if sum(scores[s] == 2 for s in SUPPORTING) >= MIN_SUPPORTING:
                break
            scores[c] = 2
            raised.add(c)
    return scores, lowered, raised


def explain(probs: np.ndarray, p_insufficient: float, threshold: float, sentences: list[str],
            support: np.ndarray) -> Explanation:
    """Explain one section.

    Args:
        probs: (8, 3) P(score = 0, 1, 2) per criterion, rubric order.
        p_insufficient: the calibrated probability; ``threshold``: the model's flag threshold.
        sentences: the section's sentences; ``support``: (n_sentences, 8) from sentence_support.
    """
    flagged = p_insufficient >= threshold
    raw = {c: int(np.argmax(probs[j])) for j, c in enumerate(CRITERIA)}
    p2 = {c: round(float(probs[j][2]), 4) for j, c in enumerate(CRITERIA)}
    scores, lowered, raised = agree(raw, p2, flagged)
    ok = [quotable(s) for s in sentences]
    evidence: dict[str, list[str]] = {}
    vague_quotes: dict[str, list[str]] = {}
    for j, c in enumerate(CRITERIA):
        col = support[:, j] if len(sentences) else np.zeros(0)
        specific = [i for i in np.argsort(-col) if col[i] > 0 and ok[i]]
        vague = [i for i in np.argsort(col) if col[i] < 0 and ok[i]]
        vague_quotes[c] = [sentences[i] for i in vague[:QUOTES_PER_REASON]]
        chosen = specific if scores[c] == 2 else (vague if scores[c] == 1 else [])
        evidence[c] = [" ".join(sentences[i].split()) for i in chosen[:EVIDENCE_PER_CRITERION]]
    reasons: list[str] = []
    if flagged:
        for c in failing(scores):
            if c in lowered:
                quote = "; ".join(_quote(s) for s in vague_quotes[c])
                reasons.append(f"{c}: doubtful - the model is only {p2[c]:.0%} sure of a specific {QUESTIONS[c]}"
                               + (f"; weakest: {quote}" if quote else ""))
            elif scores[c] == 0:
                reasons.append(f"{c}: missing - no {QUESTIONS[c]} found")
            else:
                quote = "; ".join(_quote(s) for s in vague_quotes[c])
                reasons.append(f"{c}: vague - {quote}" if quote else f"{c}: vague - no specific {QUESTIONS[c]} found")
    for c in raised:
        evidence.setdefault(c, [])
    return Explanation(scores, p2, tuple(reasons), evidence)
