"""The rubric: the eight criteria, the 0/1/2 scale, the label rule and the hard-case tags.

This module is the one owner of the rubric. Scoring, explanations, the corpus, grading and
evaluation all read it from here (see ``corpus/RUBRIC.md`` for the worked examples).
"""
from __future__ import annotations

from typing import Mapping

CRITERIA = ("assessment", "objectives", "actions", "owner", "timescales", "resources", "measures", "collaboration")
# Sufficient needs every core criterion at 2 and at least MIN_SUPPORTING of the supporting ones.
CORE = ("actions", "owner", "timescales")
SUPPORTING = ("assessment", "objectives", "resources", "measures", "collaboration")
MIN_SUPPORTING = 2
SCORES = {0: "absent", 1: "vague", 2: "specific"}
LABELS = ("sufficient", "insufficient")
# Kinds of hard case a grader may tag a section with (DOMAIN.md, "What makes it hard").
TAGS = ("vague_fluent", "jargon_vague", "past_figures", "deferred", "one_specific", "tidy_table_vague", "short_specific",
        "terse_table", "informal", "rag_slipped", "heading_indirect", "split_area", "merged_heading", "no_headings")

# What each criterion asks for, in a reviewer's words.
QUESTIONS = {
    "assessment": "evidenced statement of the force's own threat, risk or gap",
    "objectives": "specific intended outcome",
    "actions": "concrete committed action",
    "owner": "named accountable role, person or unit",
    "timescales": "date, deadline or milestone for the actions",
    "resources": "committed staff, money or capability",
    "measures": "indicator, target, or named review body and frequency",
    "collaboration": "named regional, national or partner arrangement",
}


def label_from_scores(scores: Mapping[str, int]) -> str:
    """The rubric's rule: sufficient iff actions, owner and timescales score 2 and at least two
    of assessment, objectives, resources, measures and collaboration score 2."""
    core = all(scores[c] == 2 for c in CORE)
    support = sum(scores[c] == 2 for c in SUPPORTING)
    return "sufficient" if core and support >= MIN_SUPPORTING else "insufficient"


def failing(scores: Mapping[str, int]) -> list[str]:
    """The criteria that stop a section passing the rule, core ones first (empty when it passes).

    Every core criterion under 2 fails it; when fewer than two supporting criteria score 2, every
    supporting criterion under 2 is listed (any two of them would be enough to pass).
    """
    out = [c for c in CORE if scores[c] < 2]
    if sum(scores[c] == 2 for c in SUPPORTING) < MIN_SUPPORTING:
        out += [c for c in SUPPORTING if scores[c] < 2]
    return out
