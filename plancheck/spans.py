"""Span detectors: sentences that state a named owner or a dated deadline outright, and cue words.

Patterns of high precision for the two core criteria whose evidence has a fixed shape:

* ``owner``: a role label and someone who can answer for the work ("Owner: DI Sarah Kemp", "Risk
  owner: ACC (Crime)", "Lead: Head of Public Protection", "led by Det Supt R. Holt", "Gold: ACC
  Specialist Operations"), a head of a department with a rank and a name, a rank and a name or a
  named post or unit that will do something concrete ("DCI Joanne Scott will lead", "Special Branch
  DI, Tony Marsh, will complete ...", "under Det Supt Mark Oyelaran the unit will ...", "The Emergency
  Planning Officer will publish ...", but not "the unit will be reviewed" or "will continue to ..."),
  or the post that leads or manages the work ("line managed by the Det Supt Special Branch");
* ``timescales``: a deadline word and a date ("by 31 March 2010", "Deadline: 30/06/10",
  "operational from 1 April 2009", "due Q3 2009/10").

A sentence that reports the past ("had been implemented by March 2009") or leaves the matter open
("Lead: Head of Crime (to be confirmed)") states neither. They find fewer sections than the
criterion models do (a named owner in about two in five, a deadline in one in two), but where they
fire the graders almost always scored the criterion specific: on blind-dev (where they were
written), owner 0.963 and timescales 0.976 of the 1,152 and 1,360 sections they fire on
(recall 0.59 and 0.81). A label with a unit alone ("Owner: Emergency Planning Unit") is taken as a
named owner, as the rubric reads ("an accountable role, person or unit"), though the graders scored
about two in five of those owners as vague. Bare years and table cells with a date were tried for timescales and left out: graders
scored a third to a half of those sections' timescales as vague. Explanations use the detectors so
that a reason never says a section lacks a named owner or a deadline that one of its sentences
states (explain.py). The verdict is the model's, but for one rule that reads the text: a section
that leaves its owner or timescales unsettled (``deferrals``) is flagged from a low P(insufficient)
(score.judge).

``mentions`` says which criteria a sentence is about at all, by cue words (a time, someone who could
act, a commitment verb ...); explain.py quotes a sentence as a criterion's vague evidence only when
it mentions that criterion.
"""
from __future__ import annotations

import re

_MONTH = (r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|Sep(?:t(?:ember)?)?|"
          r"Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)")
_RANK = (r"(?:(?:Det(?:ective)?\.?|D/)\s*)?(?:(?:Ch(?:ief)?\.?|Assistant|Deputy|Acting|Temporary|T/)\s*)*"
         r"(?:Supt|Superintendent|Insp(?:ector)?|Sgt|Sergeant|DCI|DSU|DCS|DI|DS|ACC|DCC)")
# Words are bounded in length (no English word in a plan is longer), so that a hostile run of
# letters costs linear time, not a scan to its end from every position.
_W = "{1,30}"
_NAME = rf"(?:[A-Z]\.\s?){{0,3}}[A-Z][a-z]{_W}(?:[-'][A-Z]?[a-z]{_W})?"
# Someone who can answer for the work: a rank and a name, a chief officer (with a portfolio), or a
# head or director of a named department.
_TITLE = (rf"(?:{_RANK}\.?\s+{_NAME}|(?:ACC|DCC|Chief Constable|Deputy Chief Constable|Assistant Chief Constable)"
          rf"(?:\s*\(?[A-Z][A-Za-z &]{_W}\)?)?|(?:Head|Director|Chair) of (?:the )?[A-Z][A-Za-z]{_W}"
          rf"(?: [A-Z][A-Za-z]{_W}){{0,6}})")
_LABEL = (r"(?:[Rr]isk [Oo]wner|[Aa]ction [Oo]wner|[Oo]wner|[Ll]ead(?: officer)?|[Ll]ed by|[Rr]esponsible(?: officer)?|"
          r"[Aa]ccountable(?: officer)?|SRO|[Pp]roject [Ss]ponsor|[Ss]ponsor|[Pp]roject [Mm]anager|[Cc]haired by|"
          r"Gold(?: [Cc]ommander)?|Silver(?: [Cc]ommander)?)")
_OWNER = [
    # "Owner: DI Sarah Kemp", "Risk owner: ACC (Crime)", "Lead: Head of Public Protection"
    re.compile(rf"\b{_LABEL}\b\s*[:\-\u2013,]?\s*(?:the\s+|is\s+|will be\s+)?{_TITLE}"),
    # "Head of Special Branch, DI Alan Hetherington"
    re.compile(rf"(?:Head|Director) of [A-Z][A-Za-z ]{{1,60}}?,?\s+{_RANK}\.?\s+{_NAME}"),
]
# "DCI Joanne Scott will lead ...", "Inspector Harjit Bains, the Prevent lead, will ..." (not in the past)
_OWNER_WILL = re.compile(rf"\b{_RANK}\.?,?\s+{_NAME}(?:\s+[A-Z][a-z]{_W})?,?\s+(?:\([^)]*\)\s+)?(?:will|is to|has been "
                         rf"appointed|has been asked to)\b")
# A named unit or post ("the Roads Policing Unit", "Emergency Planning Manager", "Force Intelligence
# Bureau"): capitalised words ending in a word for a unit or a post.
_UNIT = (rf"(?:[A-Z][A-Za-z&'\-]{_W} (?:(?:and|&|of|for) )?){{1,5}}(?:Unit|Department|Directorate|Team|Branch|Bureau|Office|"
         r"Officer|Manager|Co-?ordinator|Commander|Group|Command|Division|Hub|Cell|Squad|Desk|Section|Board|Forum|"
         rf"Partnership|Panel|Lead)\b")
# "Owner: Emergency Planning Unit", "Lead: Special Branch": a label and a named unit (DOMAIN.md: "an
# accountable role, person or unit")
_OWNER_UNIT = re.compile(rf"\b{_LABEL}\b\s*[:\-\u2013]\s*(?:the\s+)?(?:{_UNIT}|Special Branch)(?!\s*(?:and|&|/|,)\s*(?:partners|others))")
_ROLE = rf"(?:{_TITLE}|{_UNIT}|{_RANK}\.?\s+(?:[A-Z][A-Za-z]{_W}\s?){{1,3}})"
# ... that will do something concrete ("The Emergency Planning Officer will publish ...", "Det Ch Insp
# Moira Quentin is the owner"): not "will be reviewed" (the unit is what is acted on), nor "will
# continue / consider / explore / keep under review", where graders found the owner as vague as the
# action; or by whom the work is led or managed ("line managed by the Det Supt Special Branch").
_ROLE_WILL = re.compile(
    rf"(?:^|[^a-z] ?)(?:[Tt]he |[Oo]ur |[Aa] |[Aa]n )?{_ROLE},?\s+(?:\([^)]*\)\s+)?"
    rf"(?:will(?! be\b| continue\b| carry on\b| consider\b| seek\b| explore\b| look\b| take a view\b| aim\b| try\b|"
    rf" endeavour\b| keep\b| play\b| remain\b| support\b| work with\b| also\b)|is to|shall|owns|leads|"
    rf"is (?:the )?(?:owner|lead|responsible|accountable))\b")
_BY_ROLE = re.compile(rf"\b(?:(?:managed|owned|led|delivered|chaired|crewed|overseen|co-?ordinated|line[- ]managed) by "
                      rf"(?:the |our |a )?{_ROLE}|[Uu]nder (?:the (?:leadership|command|direction) of )?{_RANK}\.?\s+{_NAME})")
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
    if any(p.search(sentence) for p in _OWNER) or _OWNER_UNIT.search(sentence) or (not past and any(p.search(sentence) for p in (_OWNER_WILL, _ROLE_WILL,
                                                                                                  _BY_ROLE))):
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


# --- what a sentence is about ---------------------------------------------------------------------
# A sentence can be quoted as the evidence of a vague criterion only when it mentions something that
# criterion is about: a time for the timescales, someone who could act for the owner, a commitment
# verb for the actions. The criterion model, reading one sentence on its own, learned the section's
# label as much as the sentence's topic; these cues keep "Armed policing demand rose by 12%" from
# being quoted as vague timescales and "Owner to be confirmed." from standing for the dates.
_YEAR = r"\b(?:19|20)\d\d\b"


def _cue(words: str, *, also: str = "") -> re.Pattern:
    """A case-blind pattern for whole ``words`` (an alternation), or for the pattern ``also``."""
    return re.compile((also + "|" if also else "") + rf"\b(?:{words})\b", re.I)


_ABOUT = {
    "assessment": _cue(r"assess\w*|threat\w*|risks?|gaps?|demand|problem profile|analys[ie]s|concerns?|weakness\w*|"
                       r"shortfall\w*|vulnerab\w*|capacity|capabilit\w*|incidents?|offences?|crimes?|rose|fell|"
                       r"increas\w*|decreas\w*|harm", also=r"\d"),
    "objectives": _cue(r"objectives?|aims?|goals?|priorit\w*|purpose|outcomes?|ambitions?|intend\w*|want\w*|seeks?|"
                       r"to (?:reduce|increase|improve|ensure|deliver|achieve|maintain|raise|cut|protect|prevent|tackle|"
                       r"build)"),
    "actions": _cue(r"will|shall|would|should|must|plan(?:s|ned)?|intend\w*|aims?|propos\w*|seek\w*|consider\w*|"
                    r"explor\w*|review\w*|develop\w*|improv\w*|continu\w*|looking|look at|work(?:ing)? (?:with|on|towards)|"
                    r"actions?|recommend\w*|needs? to|is being|are being|being (?:taken|developed|considered|prepared|"
                    r"progressed)|establish\w*|introduc\w*|implement(?:s|ed|ing)?|deliver\w*|refresh\w*|creat\w*|"
                    r"train\w*|appoint\w*|undertake\w*|progress\w*|embed\w*|strengthen\w*|address\w*"),
    "owner": _cue(rf"owners?|lead(?:s|ing)?|led|responsib\w*|accountab\w*|sponsor\w*|chair\w*|head|director\w*|"
                  rf"manager|officers?|commanders?|team|unit|department|branch|bureau|group|board|force|partners?|"
                  rf"appointed|nominated|TBC|TBA|to be confirmed|we|I|us|our|someone|whoever|{_RANK}|Chief Constable|"
                  rf"Superintendent|Inspector|Sergeant|BCUs?|PPU|CID|SIOs?"),
    "timescales": _cue(rf"{_MONTH}|Q[1-4]|quarters?|timescales?|timetables?|timeframes?|time frames?|deadlines?|"
                       rf"dates?|dated|milestones?|ongoing|due course|soon|shortly|later|future|next|coming|this year|"
                       rf"(?:weeks?|months?|years?) (?:ahead|time)|within \w+ (?:weeks|months|years)|once|until|pending|"
                       rf"when|after|in time|over time|in the new year|yet to be|to follow|"
                       rf"to be (?:set|agreed|fixed|determined)|phased?|stages?|by the end",
                       also=rf"{_YEAR}|\|\s*(?:TBC|TBA|to be confirmed|-)\s*\|"),
    "resources": _cue(r"GBP|resourc\w*|budgets?|fund\w*|costs?|money|posts?|staff\w*|officers?|FTEs?|capacity|"
                      r"capabilit\w*|equipment|invest\w*|additional|existing|analysts?|investigators?|specialists?|"
                      r"\d+k|vehicles?|cameras?|teams?", also="[\u00a3$]"),
    "measures": _cue(r"monitor\w*|measur\w*|indicators?|KPIs?|targets?|performance|reviewed|report\w*|boards?|"
                     r"committees?|scrutin\w*|audit\w*|evaluat\w*|success\w*|outcomes?|quarterly|monthly|annual\w*|"
                     r"progress|track\w*|compliance|rates?|baseline", also="%"),
    "collaboration": _cue(r"partner\w*|regional|region|national\w*|joint\w*|collaborat\w*|neighbour\w*|forces|"
                          r"agenc\w*|local authorit\w*|council\w*|multi-agency|shared|together|with|MAPPA|MARAC|LRF|"
                          r"LSCBs?|SOCA|ACPO|NPIA|HMRC|CPS|CDRPs?|CTU|CTIU|RIU|ROCU|NHS|Highways Agency|fire|ambulance"),
}


# A line that opens with a criterion's label is about that criterion alone, whatever words follow:
# "- Achievable: to be considered as part of the 2009/10 budget setting process." is about resources,
# not the actions or the dates; "Timescale: ongoing." is about the dates.
_LABELS = {
    "assessment": r"gap|threat|risk|information|current position|position|context|background|problem|issue|finding",
    "objectives": r"objective|aim|intent|outcome sought|outcome|purpose|goal|relevant",
    "actions": r"actions?|method|specific|what we will do|next steps?|activity|activities|recommendation",
    "owner": r"owner|lead|lead officer|responsible(?: officer)?|accountable(?: officer)?|sponsor|who",
    "timescales": r"timescales?|time-bound|timebound|time bound|deadline|target date|due|date|when|by when|"
                  r"implementation date|milestones?|timing",
    "resources": r"resources?|achievable|budget|cost|funding|staffing",
    "measures": r"measurable|measures?|indicators?|kpis?|targets?|monitoring|success measures?|how we will know|"
                r"performance",
    "collaboration": r"partners?|partnership|collaboration|joint working",
}
_LABEL_PATTERNS = {c: re.compile(labels) for c, labels in _LABELS.items()}
_LABEL_START = re.compile(r"^\s*(?:[-*\u2022\u25aa\u2013]\s*|\(?\w{1,4}[.)]\s+)?(?P<label>[A-Za-z][A-Za-z /-]{1,30}?)\s*:")


def labelled(sentence: str) -> str | None:
    """The criterion whose label opens ``sentence`` ("Owner: ...", "- Measurable: ..."), if any."""
    m = _LABEL_START.match(sentence)
    if not m:
        return None
    label = m.group("label").strip().lower()
    for c, pattern in _LABEL_PATTERNS.items():
        if pattern.fullmatch(label):
            return c
    return None


def mentions(sentence: str) -> set[str]:
    """The criteria that ``sentence`` says something about, by their cue words (not whether it meets them).

    A sentence that opens with a criterion's label is about that criterion alone.
    """
    c = labelled(sentence)
    if c is not None:
        return {c}
    return {c for c, cue in _ABOUT.items() if cue.search(sentence)}


# --- what a section leaves unsettled ------------------------------------------------------------
# A core criterion stated as not yet settled: "Owner: to be confirmed following restructure", "Due:
# TBC", "timings yet to be agreed", "ongoing". By the rubric such an owner or timescale scores 1 and
# the section is insufficient however specific the rest is; the section model, weighing every word,
# passes a few of those near misses (scoring.judge flags them).
_DEFERRED = re.compile(r"\b(?:to|will) be (?:confirmed|appointed|agreed|decided|identified|determined|allocated|set|nominated)\b|"
                       r"\bTB[CAD]\b|\bongoing\b|\bin due course\b|\byet to be\b|\bnot yet (?:agreed|decided|set|known)\b",
                       re.I)
_NAMED_IN_ROW = re.compile(rf"\|\s*(?:{_TITLE}|{_UNIT}|{_RANK}\.?\s+{_NAME})\s*\|")
_PIECES = re.compile(r"(?<=[.!?])\s+(?=[A-Z(\"'])|\n+")


def deferrals(text: str) -> dict[str, list[str]]:
    """The core criteria (``owner``, ``timescales``) that lines or sentences of ``text`` leave unsettled,
    each with those lines or sentences (empty when none do)."""
    out: dict[str, list[str]] = {}
    for piece in _PIECES.split(text):
        piece = piece.strip()
        if not piece or not _DEFERRED.search(piece):
            continue
        label = labelled(piece)
        # What the line is about, its deferring words aside ("TBC" alone names no one and no date);
        # "ongoing" and "in due course" speak of time only.
        about = {label} if label else mentions(_DEFERRED.sub(" ", piece))
        if all(m.lower() in ("ongoing", "in due course") for m in _DEFERRED.findall(piece)):
            about &= {"timescales"}
        if not label and "owner" in about and _NAMED_IN_ROW.search(piece):
            about.discard("owner")  # "Extend ANPR | Head of Roads Policing | TBC": the date is what is open
        if not label and "timescales" in about and re.search(_DATE, piece):
            about.discard("timescales")
        for c in sorted(about & {"owner", "timescales"}):
            out.setdefault(c, []).append(piece)
    return out
