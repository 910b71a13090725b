"""Span detectors: sentences that state a named owner or a dated deadline outright.

Two patterns of high precision, for the two core criteria whose evidence has a fixed shape:

* ``owner``: a role label followed by a rank and a name ("Owner: DI Sarah Kemp", "led by Det
  Supt R. Holt", "Lead: Ch Insp Ellis");
* ``timescales``: "by" and a date ("by 31 March 2010", "by the end of June 2011", "by 30/09/09")
  in a sentence that does not report the past ("had been implemented by March 2009").

They read one sentence at a time and find far fewer sentences than the criterion models (about one
section in eight for owners, two in five for deadlines), but when they fire the graders almost
always scored the criterion specific: on the corpus's training split and the blind-dev writers
w1-w5, w8 and w9 (946 sections, where the patterns were written), owner 0.974 and timescales 0.952;
on writers w10-w12 (300 sections, never read while writing them), 1.000 and 0.993. Explanations
use them so that a reason never says a section lacks a named owner or a deadline that one of its
sentences states (explain.py); the verdict is the model's alone.
"""
from __future__ import annotations

import re

_MONTH = (r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|Sep(?:t(?:ember)?)?|"
          r"Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)")
_RANK = (r"(?:(?:Det(?:ective)?\.?|D/)\s*)?(?:(?:Ch(?:ief)?\.?|Assistant|Deputy|Acting|Temporary|T/)\s*)*"
         r"(?:Supt|Superintendent|Insp(?:ector)?|Sgt|Sergeant|DCI|DSU|DCS|DI|DS|ACC|DCC)")
_NAME = r"(?:[A-Z]\.\s?)*[A-Z][a-z]+(?:[-'][A-Z]?[a-z]+)?"
_OWNER = re.compile(rf"\b(?:[Oo]wner|[Ll]ead(?: officer)?|[Ll]ed by|[Rr]esponsible(?: officer)?|[Aa]ccountable|SRO|"
                    rf"[Ss]ponsor)\b\s*[:\-\u2013]?\s*(?:the\s+)?{_RANK}\.?\s+{_NAME}")
_DEADLINE = re.compile(rf"\bby\s+(?:the\s+end\s+of\s+)?(?:\d{{1,2}}(?:st|nd|rd|th)?\s+)?{_MONTH}\s+(?:19|20)\d\d\b"
                       rf"|\bby\s+\d{{1,2}}/\d{{1,2}}/(?:19|20)?\d\d\b")
_PAST = re.compile(r"\b(?:had|have|has) been\b|\bwas\b|\bwere\b|\bdid\b|\bachieved\b|\bcompleted in\b", re.I)

DETECTORS = ("owner", "timescales")


def stated(sentence: str) -> set[str]:
    """The criteria (``owner``, ``timescales``) that ``sentence`` states outright."""
    found = set()
    if _OWNER.search(sentence):
        found.add("owner")
    if _DEADLINE.search(sentence) and not _PAST.search(sentence):
        found.add("timescales")
    return found


def spans(sentences: list[str]) -> dict[str, list[int]]:
    """For each detector, the indices of the sentences that state it (empty lists when none do)."""
    out: dict[str, list[int]] = {c: [] for c in DETECTORS}
    for i, sentence in enumerate(sentences):
        for c in stated(sentence):
            out[c].append(i)
    return out
