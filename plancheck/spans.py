"""Span detectors: sentences that state a named owner or a dated deadline outright.

Patterns of high precision for the two core criteria whose evidence has a fixed shape:

* ``owner``: a role label and someone who can answer for the work ("Owner: DI Sarah Kemp", "Risk
  owner: ACC (Crime)", "Lead: Head of Public Protection", "led by Det Supt R. Holt", "Gold: ACC
  Specialist Operations"), a head of a
  department with a rank and a name, or a rank and a name that will do something ("DCI Joanne
  Scott will lead");
* ``timescales``: a deadline word and a date ("by 31 March 2010", "Deadline: 30/06/10",
  "operational from 1 April 2009", "due Q3 2009/10").

A sentence that reports the past ("had been implemented by March 2009") or leaves the matter open
("Lead: Head of Crime (to be confirmed)") states neither. They find fewer sections than the
criterion models do (a named owner in about one in four, a deadline in one in two), but where they
fire the graders almost always scored the criterion specific: on the training pool where they were
written (the corpus's training split and blind-dev, 1,446 sections), owner 0.976 and timescales
0.962. An earlier, narrower version (labelled owners with a rank and a name; "by" deadlines) scored
1.000 and 0.993 on three writers it was not written on. Explanations use them so that a reason never
says a section lacks a named owner or a deadline that one of its sentences states (explain.py); the
verdict is the model's alone.
"""
from __future__ import annotations

import re

_MONTH = (r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|Sep(?:t(?:ember)?)?|"
          r"Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)")
_RANK = (r"(?:(?:Det(?:ective)?\.?|D/)\s*)?(?:(?:Ch(?:ief)?\.?|Assistant|Deputy|Acting|Temporary|T/)\s*)*"
         r"(?:Supt|Superintendent|Insp(?:ector)?|Sgt|Sergeant|DCI|DSU|DCS|DI|DS|ACC|DCC)")
_NAME = r"(?:[A-Z]\.\s?)*[A-Z][a-z]+(?:[-'][A-Z]?[a-z]+)?"
# Someone who can answer for the work: a rank and a name, a chief officer (with a portfolio), or a
# head or director of a named department.
_TITLE = (rf"(?:{_RANK}\.?\s+{_NAME}|(?:ACC|DCC|Chief Constable|Deputy Chief Constable|Assistant Chief Constable)"
          rf"(?:\s*\(?[A-Z][A-Za-z &]+\)?)?|(?:Head|Director|Chair) of (?:the )?[A-Z][A-Za-z]+(?: [A-Z][A-Za-z]+)*)")
_LABEL = (r"(?:[Rr]isk [Oo]wner|[Aa]ction [Oo]wner|[Oo]wner|[Ll]ead(?: officer)?|[Ll]ed by|[Rr]esponsible(?: officer)?|"
          r"[Aa]ccountable(?: officer)?|SRO|[Pp]roject [Ss]ponsor|[Ss]ponsor|[Pp]roject [Mm]anager|[Cc]haired by|"
          r"Gold(?: [Cc]ommander)?|Silver(?: [Cc]ommander)?)")
_OWNER = [
    # "Owner: DI Sarah Kemp", "Risk owner: ACC (Crime)", "Lead: Head of Public Protection"
    re.compile(rf"\b{_LABEL}\b\s*[:\-\u2013,]?\s*(?:the\s+|is\s+|will be\s+)?{_TITLE}"),
    # "Head of Special Branch, DI Alan Hetherington"
    re.compile(rf"(?:Head|Director) of [A-Z][A-Za-z ]+?,?\s+{_RANK}\.?\s+{_NAME}"),
]
# "DCI Joanne Scott will lead ...", "Inspector Harjit Bains, the Prevent lead, will ..." (not in the past)
_OWNER_WILL = re.compile(rf"\b{_RANK}\.?\s+{_NAME}(?:\s+[A-Z][a-z]+)?,?\s+(?:\([^)]*\)\s+)?(?:will|is to|has been "
                         rf"appointed|has been asked to)\b")
_DATE = (rf"(?:(?:\d{{1,2}}(?:st|nd|rd|th)?\s+)?{_MONTH}\s+(?:19|20)\d\d|\d{{1,2}}/\d{{1,2}}/(?:19|20)?\d\d|"
         rf"Q[1-4]\s+(?:19|20)\d\d(?:/\d\d)?)")
# "by 31 March 2010", "Deadline: 30/06/10", "operational from 1 April 2009", "due Q3 2009/10"
_DEADLINE = re.compile(rf"\b(?:by|before|no later than|due|deadline|target date|completed? by|from|until|operational from|"
                       rf"in place by)\b\s*:?\s*(?:the\s+end\s+of\s+)?{_DATE}", re.I)
_PAST = re.compile(r"\b(?:had|have|has) been\b|\bwas\b|\bwere\b|\bdid\b|\bachieved\b|\bcompleted in\b|\bsince\b|"
                   r"\blast year\b", re.I)
_UNSETTLED = re.compile(r"\bto be (?:confirmed|appointed|agreed|decided)\b|\bTBC\b|\bTBA\b|\binterim\b", re.I)

DETECTORS = ("owner", "timescales")


def stated(sentence: str) -> set[str]:
    """The criteria (``owner``, ``timescales``) that ``sentence`` states outright."""
    found = set()
    if _UNSETTLED.search(sentence):
        return found
    past = bool(_PAST.search(sentence))
    if any(p.search(sentence) for p in _OWNER) or (_OWNER_WILL.search(sentence) and not past):
        found.add("owner")
    if _DEADLINE.search(sentence) and not past:
        found.add("timescales")
    return found


def spans(sentences: list[str]) -> dict[str, list[int]]:
    """For each detector, the indices of the sentences that state it (empty lists when none do)."""
    out: dict[str, list[int]] = {c: [] for c in DETECTORS}
    for i, sentence in enumerate(sentences):
        for c in stated(sentence):
            out[c].append(i)
    return out
