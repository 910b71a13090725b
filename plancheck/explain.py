"""Reasons a reviewer can act on, in agreement with the verdict.

The verdict of a section is its calibrated P(insufficient) against the model's threshold. The
criteria shown with it always agree with that verdict under the rubric's rule:

* a flagged section whose most likely scores would pass the rule has its least certain deciding
  criterion shown as ``1`` and named as *doubtful*, with the model's confidence;
* a section that is not flagged but whose most likely scores would fail the rule has the failing
  criteria it is most confident about shown as ``2`` (the record keeps each criterion's P(2)).

A criterion that one of the section's sentences states outright (a named owner with a role label,
a "by" deadline: spans.py) is shown as ``2`` with that sentence as its evidence, and is never the
doubtful one; a flag whose criteria then all pass says so instead of naming a criterion.

The reasons of a flag name the criteria that decide it: the core criteria (actions, owner,
timescales) that fail, or, when all three pass, the supporting criteria that leave fewer than two
specific. (Every criterion's score is still shown beside the reasons.) A "vague" reason quotes the
sentences that the criterion model, reading each sentence on its own, takes as vague on that
criterion (lexical.SectionModel.criterion_proba) and that mention the criterion at all (a time for
the timescales, someone who could act for the owner: spans.mentions; a line that opens with another
criterion's label, "- Achievable: ...", is about that one); a sentence it takes as silent on the
criterion, or as specific, is never quoted for it, nor is a question, a heading or a table row of
bare labels. When no sentence qualifies the
reason says what is missing instead of quoting.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from .rubric import CORE, CRITERIA, MIN_SUPPORTING, QUESTIONS, SUPPORTING, failing, label_from_scores
from .spans import mentions, spans

QUOTES_PER_REASON = 1
EVIDENCE_PER_CRITERION = 3
# A sentence is quoted as making a criterion vague only when, read alone, the criterion model gives
# "vague" at least this probability; otherwise the reason says what is missing instead.
QUOTE_CONFIDENCE = 0.7
# ... and gives "silent on the criterion" at most this probability: the sentence is about it.
SILENT_AT_MOST = 0.2
# ... and the sentence is about this criterion at least nearly as much as about any other (one
# minus "silent" is how much it is about a criterion): a date is not quoted as a vague action.
ABOUT_MARGIN = 0.1
# ... and it is vague on this criterion at least nearly as much as on any other: a row whose date is
# "TBC" is quoted for the timescales, not for the owner it names.
VAGUE_MARGIN = 0.05
_LETTERS = re.compile(r"[A-Za-z]")
# A question reported rather than asked ("You asked how we will ...") is no more a statement than a question.
_REPORTED_QUESTION = re.compile(r"^\W*(?:you|members?|the \w+|hmic|we were) asked (?:us )?(?:how|whether|what|who|when|why|if)\b", re.I)
# A sentence that opens on a past period and gives figures is the force's history ("In 2008/09 the force dealt
# with 6,820 incidents"): evidence for the assessment, never a vague action, owner or date.
_HISTORY = re.compile(r"^\W*(?:in|during|over|throughout) (?:the )?(?:(?:financial |calendar )?year )?(?:19|20)\d\d(?:/\d\d)?\b"
                      r"(?!.*\b(?:will|shall|by (?:\d|end|march|april|june|september|december))\b)", re.I)
# Cells that name a table's columns: a row holding two of them is a header row, not a statement.
_COLUMN_NAMES = frozenset((
    "action", "actions", "owner", "owners", "lead", "lead officer", "responsible", "deadline", "due", "due date",
    "date", "target date", "review date", "timescale", "timescales", "by when", "by whom", "target", "targets",
    "measure", "measures", "indicator", "indicators", "status", "rag", "ref", "baseline", "resources", "cost",
    "budget", "update", "progress", "milestone", "milestones", "risk", "risks", "rating", "mitigation", "objective",
    "objectives", "outcome", "outcomes", "gap", "current position", "standard"))


@dataclass(frozen=True)
class Explanation:
    """The criteria shown, the reasons of a flag and each criterion's evidence sentences."""

    criteria: dict[str, int]
    p_specific: dict[str, float]
    reasons: tuple[str, ...]
    evidence: dict[str, list[str]]


def _history(sentence: str) -> bool:
    """A sentence that opens on a past year and goes on to give figures (``_HISTORY``)."""
    m = _HISTORY.match(sentence)
    return bool(m) and any(ch.isdigit() for ch in sentence[m.end():])


def quotable(sentence: str) -> bool:
    """A sentence worth quoting: not a question, not a heading or a bare label, not a table header."""
    s = sentence.strip()
    if not s or s.endswith("?") or len(_LETTERS.findall(s)) < 12 or _REPORTED_QUESTION.match(s):
        return False
    words = s.split()
    if len(words) < 5 and not s.endswith((".", ";", ":")) and "|" not in s:
        return False  # a heading or a label
    if (len(words) <= 12 and not s.endswith((".", ";", ":", ")", "!")) and "|" not in s
            and not re.match(r"[-*\u2022\u25aa\u2013]|\(?\w{1,3}[.)]\s", s)):
        return False  # a heading line ("Public order and firearms - performance 2006/07 to 2008/09")
    if len(words) <= 6 and s.endswith(":"):
        return False  # a lead-in ("Westmarch Police will:")
    cells = [c.split() for c in s.strip("|").split("|")] if "|" in s else []
    if cells and ((not any(ch.isdigit() for ch in s) and len(words) <= 12) or all(len(c) <= 2 for c in cells)
                  or sum(" ".join(c).lower() in _COLUMN_NAMES for c in cells) >= 2):
        return False  # a table's header row ("| Measure | 2008/09 | 2009/10 (to Dec) | Target |"), or bare labels
    return True


def _distinct(sentences: list[str]) -> list[str]:
    seen: set[str] = set()
    out = []
    for s in sentences:
        key = " ".join(s.lower().split())
        if key not in seen:
            seen.add(key)
            out.append(s)
    return out


def _quote(sentence: str, limit: int = 160) -> str:
    s = " ".join(sentence.split())
    return "'" + (s if len(s) <= limit else s[: limit - 3].rstrip() + "...") + "'"


def agree(scores: dict[str, int], p2: dict[str, float], flagged: bool,
          stated: frozenset[str] = frozenset()) -> tuple[dict[str, int], set[str], set[str]]:
    """Scores that agree with the verdict, and the criteria lowered (doubtful) or raised to get there.

    ``stated``: criteria a sentence states outright (spans.py); they are never lowered. When every
    criterion that could be lowered is stated, nothing is, and the flag's reason says so.
    """
    scores = dict(scores)
    lowered: set[str] = set()
    raised: set[str] = set()
    passes = label_from_scores(scores) == "sufficient"
    if flagged and passes:
        # Lowering any core criterion fails the rule; a supporting one only when exactly two are met.
        met_support = [c for c in SUPPORTING if scores[c] == 2]
        candidates = [c for c in list(CORE) + (met_support if len(met_support) == MIN_SUPPORTING else [])
                      if c not in stated]
        if candidates:
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


def deciding(scores: dict[str, int]) -> list[str]:
    """The failing criteria that decide a flag: the core ones, else the supporting shortfall."""
    core = [c for c in CORE if scores[c] < 2]
    return core if core else failing(scores)


def explain(probs: np.ndarray, p_insufficient: float, threshold: float, sentences: list[str],
            sentence_probs: np.ndarray, deferred: dict[str, list[str]] | None = None,
            model_p: float | None = None) -> Explanation:
    """Explain one section.

    Args:
        probs: (8, 3) P(score = 0, 1, 2) per criterion for the section, rubric order.
        p_insufficient: the verdict's probability (score.judge); ``threshold``: the flag threshold.
        sentences: the section's sentences; ``sentence_probs``: (n_sentences, 8, 3), each
            sentence read on its own (SectionModel.criterion_proba).
        deferred: the core criteria the section leaves unsettled, with the lines that do
            (spans.deferrals); such a criterion is shown as vague and quoted as "not settled".
        model_p: the model's own P(insufficient), when the verdict raised it (score.judge).
    """
    flagged = p_insufficient >= threshold
    deferred = {c: lines for c, lines in (deferred or {}).items() if lines}
    raw = {c: int(np.argmax(probs[j])) for j, c in enumerate(CRITERIA)}
    p2 = {c: round(float(probs[j][2]), 4) for j, c in enumerate(CRITERIA)}
    # A named owner or a dated deadline stated outright is shown as met whatever the model read,
    # unless another line leaves it unsettled ("Owner: TBC").
    ok = [quotable(s) for s in sentences]
    stated_in = {c: [i for i in found if ok[i]] for c, found in spans(sentences).items()}
    stated = frozenset(c for c, found in stated_in.items() if found and c not in deferred)
    for c in stated:
        raw[c] = 2
    if flagged:
        for c in deferred:
            raw[c] = min(raw[c], 1)
    scores, lowered, _ = agree(raw, p2, flagged, stated)
    about_cues = [mentions(s) if quote else set() for s, quote in zip(sentences, ok)]  # only quotable ones matter
    a = CRITERIA.index("assessment")
    evidence_of_assessment = [sentence_probs[i, a, 2] >= 0.5 or _history(s) for i, s in enumerate(sentences)]
    evidence: dict[str, list[str]] = {}
    vague_quotes: dict[str, list[str]] = {}
    about = 1 - sentence_probs[:, :, 0] if len(sentences) else np.zeros((0, len(CRITERIA)))
    most_about = about.max(axis=1) if len(sentences) else np.zeros(0)
    most_vague = sentence_probs[:, :, 1].max(axis=1) if len(sentences) else np.zeros(0)
    for j, c in enumerate(CRITERIA):
        sp = sentence_probs[:, j, :] if len(sentences) else np.zeros((0, 3))
        # Vague on this criterion, clearly about it (not silent on it), and, for anything but the
        # assessment, not a statement of the force's own evidence (last year's figures are history,
        # not a vague plan).
        vague = [i for i in np.argsort(-sp[:, 1]) if ok[i] and c in about_cues[i] and sp[i, 1] > max(sp[i, 0], sp[i, 2])
                 and sp[i, 0] < SILENT_AT_MOST and (c == "assessment" or not evidence_of_assessment[i])
                 and about[i, j] >= most_about[i] - ABOUT_MARGIN and sp[i, 1] >= most_vague[i] - VAGUE_MARGIN]
        specific = [i for i in np.argsort(-sp[:, 2]) if ok[i] and sp[i, 2] > max(sp[i, 0], sp[i, 1])]
        vague_quotes[c] = _distinct([sentences[i] for i in vague if sp[i, 1] >= QUOTE_CONFIDENCE])[:QUOTES_PER_REASON]
        if c in stated:
            specific = stated_in[c] + [i for i in specific if i not in stated_in[c]]
        chosen = specific if scores[c] == 2 else (vague if scores[c] == 1 else [])
        evidence[c] = [" ".join(sentences[i].split()) for i in chosen[:EVIDENCE_PER_CRITERION]]
        if c in deferred and scores[c] < 2:
            evidence[c] = _distinct([" ".join(x.split()) for x in deferred[c]] + evidence[c])[:EVIDENCE_PER_CRITERION]
    reasons: list[str] = []
    if flagged and label_from_scores(scores) == "sufficient":
        # Nothing left to doubt: the sentences state what the rule asks, yet the model flags the text.
        reasons.append(f"flagged by the model (p = {p_insufficient:.2f}, threshold {threshold:.2f}) although "
                       f"every criterion the rule needs is stated: read it for what the criteria miss")
    elif flagged:
        raised = model_p is not None and model_p < threshold
        for c in deciding(scores):
            quote = "; ".join(_quote(s) for s in vague_quotes[c])
            if c in deferred:
                reasons.append(f"{c}: not settled - {_quote(deferred[c][0])}"
                               + (f" (flagged for this: the model alone gave p = {model_p:.2f})" if raised else ""))
                raised = False
            elif c in lowered:
                reasons.append(f"{c}: doubtful - the model is only {p2[c]:.0%} sure of a specific {QUESTIONS[c]}"
                               + (f"; weakest: {quote}" if quote else ""))
            elif quote and scores[c] == 1:
                reasons.append(f"{c}: vague - {quote}")
            else:
                # Absent or vague without a sentence to show: say what is missing, not which of the two.
                reasons.append(f"{c}: not specific - no {QUESTIONS[c]} found")
    return Explanation(scores, p2, tuple(reasons), evidence)
