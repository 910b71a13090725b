"""A registry of named, documented features over one parsed section.

Each feature is a pure function of a spaCy ``Doc`` that returns the sentences it found as
evidence; the registry derives stable numeric columns (``<name>.count``, ``<name>.per_100_words``,
``<name>.any``). Features read the rubric: who owns the work, by when, with what, measured how,
and whether those are commitments or history, hedges or deferrals. A few scalar features
(length, share of past-tense statistics) stand beside them.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Callable

from spacy.tokens import Doc, Span

from . import lexicon as lx

REGISTRY_VERSION = "5"


def _compile(patterns) -> re.Pattern:
    return re.compile("|".join(f"(?:{p})" for p in patterns))


_R = {name: _compile(getattr(lx, name)) for name in (
    "HEDGES", "DEFERRALS", "VAGUE_OWNERS", "ROLES", "FUTURE", "PAST", "DATES", "DEADLINE_CUES", "MONEY", "STAFF",
    "FUNDING", "VAGUE_RESOURCES", "MEASURES", "VAGUE_MEASURES", "PARTNERS", "VAGUE_COLLAB", "ASSESSMENT",
    "VAGUE_ASSESSMENT", "OBJECTIVES", "VAGUE_OBJECTIVES")}
_ACTION = re.compile(r"\b(" + "|".join(lx.ACTION_VERBS) + r")(s|es|ed|d|ing)?\b")
_VAGUE_ACTION = re.compile(r"\b(" + "|".join(lx.VAGUE_ACTION_VERBS) + r")(s|es|ed|d|ing)?\b")
_TO_ACTION = re.compile(r"\bto (" + "|".join(lx.ACTION_VERBS) + r")\b")
_NUMBER = re.compile(r"\d")
_WE = {"we", "i", "it", "they", "this", "these", "force", "partners", "agencies", "everyone", "all", "service"}


@dataclass(frozen=True)
class Unit:
    """What the features need to know about one sentence or table row."""

    span: Span
    low: str
    row: bool          # a table row ("a | b | c")
    future: bool       # commits to something ahead
    past: bool         # reports what happened
    hedge: bool
    deferral: bool
    subject_role: bool  # the subject of a commitment is a named role, person or unit
    subject_vague: bool  # ... or "we", "the force", "partners"
    numbers: bool       # a figure (digits or a cardinal number word, from the tagger)
    proper: bool        # a proper-noun phrase (names of people, places, bodies)
    ents: frozenset[str]  # labels of the domain entities in it (ROLE, DEADLINE, MONEY, STAFF ...)


def _units(doc: Doc) -> list[Unit]:
    cached = doc.user_data.get("plancheck_units")
    if cached is not None:
        return cached
    has_tags = doc.has_annotation("TAG")
    has_dep = doc.has_annotation("DEP")
    # Entity labels by sentence start, from one pass over doc.ents (sent.ents rescans per sentence).
    ent_labels: dict[int, set[str]] = {}
    for ent in doc.ents:
        sent = ent.sent
        if ent.end <= sent.end:  # as sent.ents: only entities wholly inside the sentence
            ent_labels.setdefault(sent.start, set()).add(ent.label_)
    # One pass over the tokens; sentences then read slices of these lists.
    all_tags = [t.tag_ for t in doc] if has_tags else []
    all_lower = [t.lower_ for t in doc] if has_tags else []
    all_alpha = [t.is_alpha for t in doc] if has_tags else []
    doc.user_data["plancheck_alpha_words"] = sum(all_alpha) if has_tags else sum(1 for t in doc if t.is_alpha)
    units: list[Unit] = []
    for sent in doc.sents:
        text = sent.text.strip()
        if not text or not any(c.isalpha() for c in text):
            continue
        low = text.lower()
        row = text.count("|") >= 2
        future = bool(_R["FUTURE"].search(low))
        past = bool(_R["PAST"].search(low))
        subject_role = subject_vague = False
        if has_tags:
            tags = all_tags[sent.start:sent.end]
            md = any(tag == "MD" and word in ("will", "shall", "'ll")
                     for tag, word in zip(tags, all_lower[sent.start:sent.end]))
            future = future or md
            first = next((i for i in range(sent.start, sent.end) if all_alpha[i]), None)
            # Imperative items ("Recruit 4 DCs ...") in lists and tables are commitments.
            if first is not None and all_tags[first] == "VB":
                future = True
            root = sent.root
            past = (past or root.tag_ == "VBD") and not (md or root.tag_ in ("VB", "VBP", "VBZ") and future)
            if has_dep and (md or future):
                for tok in sent:
                    if tok.dep_ in ("nsubj", "nsubjpass", "agent") and tok.head.pos_ in ("VERB", "AUX"):
                        phrase = " ".join(t.lower_ for t in tok.subtree)
                        if tok.lower_ in _WE or _R["VAGUE_OWNERS"].search(phrase):
                            subject_vague = True
                        elif _R["ROLES"].search(phrase) or tok.tag_ in ("NNP", "NNPS") \
                                or any(t.ent_type_ == "ROLE" for t in tok.subtree):
                            subject_role = True
        else:
            tags = ()
            first_word = re.match(r"[a-z]+", low)
            if first_word and first_word.group(0) in lx.ACTION_VERBS:
                future = True
        if row:
            future = future or bool(_ACTION.match(low.lstrip("|- ")))
        # "Supt Operations to train 18 commanders by 30 Nov 09": an infinitive owned and dated.
        if not future and _TO_ACTION.search(low) and (_R["ROLES"].search(low) or _R["DATES"].search(low)):
            future = True
        hedge = bool(_R["HEDGES"].search(low))
        deferral = bool(_R["DEFERRALS"].search(low))
        numbers = bool(_NUMBER.search(low)) or "CD" in tags
        proper = "NNP" in tags or "NNPS" in tags
        units.append(Unit(sent, low, row, future and not (past and not row and not _R["FUTURE"].search(low) and not has_tags),
                          past and not future, hedge, deferral, subject_role, subject_vague, numbers, proper,
                          frozenset(ent_labels.get(sent.start, ()))))
    doc.user_data["plancheck_units"] = units
    return units


# --- the registry ----------------------------------------------------------------------------

@dataclass(frozen=True)
class Feature:
    name: str
    criterion: str      # the rubric criterion it bears on, or "style"
    polarity: str       # "specific" (detail present) or "vague" (detail faked, hedged or deferred)
    doc: str
    version: int
    func: Callable[[Doc], list[Span]]


FEATURES: dict[str, Feature] = {}


def feature(name: str, *, criterion: str, polarity: str, doc: str, version: int = 1):
    """Register ``func`` as the feature ``name``; ``doc`` is what a reviewer reads."""
    def wrap(func: Callable[[Doc], list[Span]]):
        FEATURES[name] = Feature(name, criterion, polarity, doc, version, func)
        return func
    return wrap


def _where(doc: Doc, test: Callable[[Unit], bool]) -> list[Span]:
    return [u.span for u in _units(doc) if test(u)]


def _has(key: str, u: Unit) -> bool:
    return bool(_R[key].search(u.low))


# assessment
@feature("assessment.evidenced", criterion="assessment", polarity="specific",
         doc="States the force's own threat, risk, gap or demand with figures or a named assessment.", version=2)
def assessment_evidenced(doc: Doc) -> list[Span]:
    return _where(doc, lambda u: _has("ASSESSMENT", u) and (u.numbers or "strategic assessment" in u.low))


@feature("assessment.vague", criterion="assessment", polarity="vague",
         doc="Names a threat or challenge only in general terms ('remains a threat').")
def assessment_vague(doc: Doc) -> list[Span]:
    return _where(doc, lambda u: _has("VAGUE_ASSESSMENT", u) or (_has("ASSESSMENT", u) and not _NUMBER.search(u.low) and not u.future))


# objectives
@feature("objectives.specific", criterion="objectives", polarity="specific",
         doc="States an intended outcome with a figure or date ('reduce ... by 10% by March 2010').")
def objectives_specific(doc: Doc) -> list[Span]:
    return _where(doc, lambda u: _has("OBJECTIVES", u) and bool(_NUMBER.search(u.low)) and not u.past)


@feature("objectives.vague", criterion="objectives", polarity="vague",
         doc="States an aim without a measurable outcome ('improve our response').")
def objectives_vague(doc: Doc) -> list[Span]:
    return _where(doc, lambda u: _has("VAGUE_OBJECTIVES", u) or (_has("OBJECTIVES", u) and not _NUMBER.search(u.low)))


# actions
@feature("actions.committed", criterion="actions", polarity="specific",
         doc="Commits to a concrete action ('will recruit', 'Establish a ...'), not hedged or deferred.", version=2)
def actions_committed(doc: Doc) -> list[Span]:
    return _where(doc, lambda u: u.future and bool(_ACTION.search(u.low)) and not u.hedge and not u.deferral)


@feature("actions.hedged", criterion="actions", polarity="vague",
         doc="An intention rather than a commitment: 'seek to', 'explore', 'consider', 'where possible'.")
def actions_hedged(doc: Doc) -> list[Span]:
    return _where(doc, lambda u: u.hedge or (u.future and bool(_VAGUE_ACTION.search(u.low)) and not _ACTION.search(u.low)))


@feature("actions.past", criterion="actions", polarity="vague",
         doc="Reports what was done rather than what will be done (history, not a plan).")
def actions_past(doc: Doc) -> list[Span]:
    return _where(doc, lambda u: u.past and not u.future)


@feature("commitment.deferred", criterion="actions", polarity="vague",
         doc="A commitment postponed, unowned or unfunded: 'yet to be agreed', 'TBC', 'ongoing', 'an owner will be appointed'.", version=2)
def commitment_deferred(doc: Doc) -> list[Span]:
    return _where(doc, lambda u: u.deferral)


# owner
@feature("owner.named", criterion="owner", polarity="specific",
         doc="Names an accountable role, person or unit ('Det Supt Head of PPU', 'the Emergency Planning Manager').", version=3)
def owner_named(doc: Doc) -> list[Span]:
    return _where(doc, lambda u: (_has("ROLES", u) or "ROLE" in u.ents) and (u.future or u.row or "lead" in u.low
                                                                                or "responsib" in u.low or "accountab" in u.low)
                  and not re.search(r"(owner|lead)\b.{0,25}\b(appointed|identified|tbc|to be)", u.low))


@feature("owner.subject", criterion="owner", polarity="specific",
         doc="The subject of a commitment is a named role, person or unit (from the dependency parse).", version=3)
def owner_subject(doc: Doc) -> list[Span]:
    return _where(doc, lambda u: u.subject_role)


@feature("owner.vague", criterion="owner", polarity="vague",
         doc="Gives the work to 'the force', 'partners' or 'we', or leaves the owner to be appointed.", version=2)
def owner_vague(doc: Doc) -> list[Span]:
    return _where(doc, lambda u: u.subject_vague or (_has("VAGUE_OWNERS", u) and (u.future or u.row or u.deferral)))


# timescales
@feature("timescales.deadline", criterion="timescales", polarity="specific",
         doc="Gives a date, deadline or milestone for a commitment ('by 31 March 2010', 'Q3 2009/10').", version=2)
def timescales_deadline(doc: Doc) -> list[Span]:
    return _where(doc, lambda u: (_has("DATES", u) or bool(u.ents & {"DEADLINE", "FIN_YEAR"})) and (u.future or u.row)
                  and not u.past
                  and not (u.deferral and not _has("DATES", u)))


@feature("timescales.past_only", criterion="timescales", polarity="vague",
         doc="Dates that describe the past ('in 2007/08 we ...'), not deadlines ahead.", version=2)
def timescales_past(doc: Doc) -> list[Span]:
    return _where(doc, lambda u: _has("DATES", u) and u.past)


@feature("timescales.open", criterion="timescales", polarity="vague",
         doc="Open-ended timing: 'ongoing', 'in due course', 'TBC', 'timescales yet to be agreed'.", version=2)
def timescales_open(doc: Doc) -> list[Span]:
    return _where(doc, lambda u: bool(re.search(r"\bongoing\b|\bon-going\b|in due course|\btbc\b|\btba\b|timescales?|at a later|"
                                                r"no (firm )?(date|deadline)|next year|over time|longer term|"
                                                r"(life|lifetime|duration|course) of (this|the) plan|"
                                                r"will be (set|fixed|confirmed|agreed) (once|when|after)", u.low))
                  and not _has("DATES", u))


# resources
@feature("resources.quantified", criterion="resources", polarity="specific",
         doc="Quantifies staff, money or capability committed ('6 additional DCs', 'GBP 340,000 from reserves').", version=3)
def resources_quantified(doc: Doc) -> list[Span]:
    return _where(doc, lambda u: (_has("MONEY", u) or _has("STAFF", u) or _has("FUNDING", u) or bool(u.ents & {"MONEY", "STAFF"}))
                  and not u.past and not _has("VAGUE_RESOURCES", u))


@feature("resources.vague", criterion="resources", polarity="vague",
         doc="Resources not committed: 'within existing resources', 'to be identified', 'no additional funding'.")
def resources_vague(doc: Doc) -> list[Span]:
    return _where(doc, lambda u: _has("VAGUE_RESOURCES", u))


# measures
@feature("measures.defined", criterion="measures", polarity="specific",
         doc="Says how success is measured: indicators, targets, baselines, a review body and frequency.", version=2)
def measures_defined(doc: Doc) -> list[Span]:
    return _where(doc, lambda u: (_has("MEASURES", u) or {"FREQUENCY", "BODY"} <= u.ents) and not (u.past and not u.future and not _has("VAGUE_MEASURES", u) and "%" in u.low)
                  and not _has("VAGUE_MEASURES", u))


@feature("measures.vague", criterion="measures", polarity="vague",
         doc="Monitoring promised without saying how: 'performance will be monitored'.")
def measures_vague(doc: Doc) -> list[Span]:
    return _where(doc, lambda u: _has("VAGUE_MEASURES", u))


# collaboration
@feature("collaboration.named", criterion="collaboration", polarity="specific",
         doc="Names regional, national or partner arrangements (ROCU, LRF, MAPPA, a neighbouring force).")
def collaboration_named(doc: Doc) -> list[Span]:
    return _where(doc, lambda u: _has("PARTNERS", u))


@feature("collaboration.vague", criterion="collaboration", polarity="vague",
         doc="Partnership in general terms only: 'we work closely with partners'.")
def collaboration_vague(doc: Doc) -> list[Span]:
    return _where(doc, lambda u: _has("VAGUE_COLLAB", u) and not _has("PARTNERS", u))


# style: history and statistics without a plan
@feature("style.past_statistics", criterion="style", polarity="vague",
         doc="Figures reported in the past tense: statistics that can make a section look detailed.")
def past_statistics(doc: Doc) -> list[Span]:
    return _where(doc, lambda u: u.past and bool(_NUMBER.search(u.low)) and not u.future)


@feature("style.commitments", criterion="style", polarity="specific",
         doc="Sentences or rows that commit to the future (will, shall, imperative action items).", version=2)
def commitments(doc: Doc) -> list[Span]:
    return _where(doc, lambda u: u.future)


def feature_names() -> list[str]:
    """Stable column names, in order."""
    cols = []
    for name in FEATURES:
        cols += [f"{name}.count", f"{name}.per_100_words", f"{name}.share"]
    return cols + ["length.log_words", "length.units", "style.row_share", "style.future_share", "style.past_share",
                   "style.hedge_share", "style.deferral_share"]


def featurise(doc: Doc) -> tuple[list[float], dict[str, list[str]]]:
    """The feature row of a section and the evidence sentences of each feature."""
    units = _units(doc)
    n_units = max(len(units), 1)
    words = max(doc.user_data["plancheck_alpha_words"], 1)
    row: list[float] = []
    evidence: dict[str, list[str]] = {}
    for name, feat in FEATURES.items():
        spans = feat.func(doc)
        evidence[name] = [" ".join(s.text.split()) for s in spans]
        row += [float(len(spans)), 100.0 * len(spans) / words, len(spans) / n_units]
    row += [math.log1p(words), float(len(units)), sum(u.row for u in units) / n_units,
            sum(u.future for u in units) / n_units, sum(u.past for u in units) / n_units,
            sum(u.hedge for u in units) / n_units, sum(u.deferral for u in units) / n_units]
    return row, evidence


@lru_cache(maxsize=1)
def registry_signature() -> dict[str, int]:
    """Feature names and versions: what a model card records and loading checks."""
    return {name: f.version for name, f in FEATURES.items()} | {"registry": int(REGISTRY_VERSION)}
