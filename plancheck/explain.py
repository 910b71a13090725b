"""Reasons a reviewer can act on: which criteria are missing or vague, quoting the evidence."""
from __future__ import annotations

from .rubric import CORE, CRITERIA, QUESTIONS as CRITERION_QUESTIONS, SUPPORTING
from .features import FEATURES



def criterion_evidence(evidence: dict[str, list[str]], criterion: str, polarity: str) -> list[str]:
    """Evidence sentences of the features that bear on ``criterion`` with ``polarity``."""
    out: list[str] = []
    for name, feat in FEATURES.items():
        if feat.criterion == criterion and feat.polarity == polarity:
            for sentence in evidence.get(name, []):
                if sentence not in out:
                    out.append(sentence)
    if criterion == "timescales" and polarity == "vague":
        for sentence in evidence.get("commitment.deferred", []):
            if sentence not in out and any(w in sentence.lower() for w in ("ongoing", "tbc", "due course", "timescale")):
                out.append(sentence)
    if polarity == "vague":
        # Deferrals and hedges say most about what is missing: quote them first.
        telling = set(evidence.get("commitment.deferred", [])) | set(evidence.get("actions.hedged", []))
        out.sort(key=lambda sentence: sentence not in telling)
    return out


def _quote(sentence: str, limit: int = 140) -> str:
    s = " ".join(sentence.split())
    return "'" + (s if len(s) <= limit else s[: limit - 3].rstrip() + "...") + "'"


def explain(criteria: dict[str, int], p2: dict[str, float], evidence: dict[str, list[str]],
            flagged: bool) -> tuple[list[str], dict[str, list[str]]]:
    """Reasons a reviewer can act on, and the evidence sentences per criterion.

    A criterion scored 0 is "missing"; 1 is "vague" with the sentences that make it so. A flag
    always names at least one criterion: when every score is 2, the least certain ones.
    """
    reasons: list[str] = []
    shown: dict[str, list[str]] = {}
    for c in CRITERIA:
        specific = criterion_evidence(evidence, c, "specific")
        vague = criterion_evidence(evidence, c, "vague")
        shown[c] = (specific if criteria[c] == 2 else vague or specific)[:3]
        if criteria[c] == 0:
            reasons.append(f"{c}: missing - no {CRITERION_QUESTIONS[c]} found")
        elif criteria[c] == 1:
            quote = "; ".join(_quote(s) for s in (vague or specific)[:2])
            reasons.append(f"{c}: vague - {quote}" if quote else f"{c}: vague - no specific {CRITERION_QUESTIONS[c]}")
    if flagged and not any(criteria[c] < 2 for c in CORE):
        core_weak = sorted(CORE, key=lambda c: p2[c])[:1]
        for c in core_weak:
            reasons.insert(0, f"{c}: uncertain - only {p2[c]:.0%} likely to give a specific {CRITERION_QUESTIONS[c]}")
    if flagged and not reasons:
        reasons.append("overall: the section reads like the insufficient plans in the corpus; check it in full")
    # Core criteria first: they decide the label.
    order = {c: i for i, c in enumerate(CORE + SUPPORTING)}
    reasons.sort(key=lambda r: order.get(r.split(":")[0], -1))
    return reasons, shown
