"""The protective-service areas: keys, names, heading synonyms and vocabulary.

All area knowledge lives here. Keys are fixed (DOMAIN.md): the corpus, the outputs and the
tests use them. ``general`` is text that belongs to no area (foreword, governance, finance).
"""
from __future__ import annotations

import re
from dataclasses import dataclass

GENERAL = "general"


@dataclass(frozen=True)
class Area:
    key: str
    name: str
    # Regular expressions matched against a lower-cased heading. A match is strong evidence.
    headings: tuple[str, ...]
    # Body vocabulary: regular expressions (lower case) with a weight each.
    vocabulary: tuple[tuple[str, float], ...]


AREAS: tuple[Area, ...] = (
    Area(
        "serious_organised_crime",
        "Serious, organised and cross-border crime",
        (r"organi[sz]ed crime", r"organi[sz]ed (criminals?|gangs?|groups?)", r"\bdrugs?\b", r"\bgangs?\b",
         r"serious (and|&) organi[sz]ed", r"level (2|3|two|three)( (and|&|/) (3|three))? crim",
         r"cross[- ]border", r"\bocgs?\b", r"\brocu\b", r"criminal (networks|groups|enterprise)",
         r"drugs? (supply|markets?)", r"asset (recovery|confiscation)", r"serious crime and",
         r"organised criminality", r"proceeds of crime", r"\bsoc\b", r"disrupting (criminal|crime)"),
        ((r"organi[sz]ed crim\w*", 3), (r"\bocgs?\b", 3), (r"level (2|3|two|three)\b", 1.5),
         (r"\brocu\b", 2.5), (r"\bsoca\b", 2), (r"cross[- ]border", 2), (r"drugs?\b", 1),
         (r"\bpoca\b", 2.5), (r"proceeds of crime", 2.5), (r"asset (recovery|confiscation|denial)", 2.5),
         (r"financial investigat\w*", 1.5), (r"money laundering", 2), (r"\btsu\b", 1.5),
         (r"covert", 1), (r"firearms supply", 1), (r"trafficking", 1), (r"criminal (networks?|groups?|enterprises?)", 2),
         (r"\bnim\b", 0.3), (r"tasking", 0.3), (r"kingpin|principal nominals?|nominals?", 1),
         (r"confiscation", 1.5), (r"human trafficking", 1), (r"cash seizure", 1.5),
         (r"surveillance", 0.8), (r"intelligence", 0.3), (r"disrupt\w*", 0.8)),
    ),
    Area(
        "major_crime",
        "Major crime: homicide and other serious crime",
        (r"major crime", r"homicide", r"murder", r"\bmits?\b", r"major investigation", r"serious harm crime",
         r"kidnap", r"cold case", r"serious (violent )?crime investigation", r"investigating serious",
         r"\bmcu\b", r"\bmiu\b", r"\bsios?\b", r"\bholmes\b"),
        ((r"homicid\w*", 3), (r"murders?", 2.5), (r"major crime", 3), (r"\bmits?\b", 2.5),
         (r"major investigation", 3), (r"\bsios?\b", 2.5), (r"senior investigating officer", 2.5),
         (r"kidnap\w*", 2), (r"extortion", 1.5), (r"stranger rape", 2), (r"cold case", 2.5),
         (r"\bholmes\b", 2), (r"manslaughter", 2), (r"\bmirsap\b", 2), (r"murder investigation manual", 2),
         (r"forensic", 0.7), (r"suspicious deaths?", 2), (r"\bhomicide\b", 1), (r"review team", 0.8),
         (r"investigat\w+ capacity", 0.6), (r"attempted murder", 1.5), (r"family liaison", 1.5),
         (r"crime scene", 0.8), (r"undetected", 1)),
    ),
    Area(
        "critical_incidents",
        "Critical incident management",
        (r"critical incident", r"gold group", r"command (and|&) control", r"incident command",
         r"community impact", r"managing critical", r"\bcim\b", r"critical incidents?\b"),
        ((r"critical incidents?", 3.5), (r"gold group", 3), (r"\bgold\b", 1.2), (r"\bsilver\b", 1),
         (r"\bbronze\b", 1), (r"community impact( assessments?)?", 3), (r"\bipcc\b", 2),
         (r"independent advisory group", 2), (r"\biags?\b", 1.5), (r"community tension", 1.5),
         (r"command (training|cadre|structure)", 1.2), (r"loggists?", 1.5), (r"post[- ]incident", 1),
         (r"confidence of (the )?(community|public)", 1), (r"strategic commanders?", 1),
         (r"recovery phase", 0.5), (r"debrief\w*", 0.6), (r"reputation", 0.5)),
    ),
    Area(
        "civil_contingencies",
        "Civil contingencies and emergency planning",
        (r"civil contingenc", r"civil protection", r"emergency (planning|preparedness|response)", r"resilience",
         r"business continuity", r"major emergenc", r"\bcbrn", r"preparedness", r"major incident planning",
         r"\blrf\b", r"flood", r"pandemic", r"^ep\b", r"\bep/bc\b", r"emergenc(y|ies)", r"\bcbrn\b"),
        ((r"civil contingencies", 3.5), (r"civil protection", 3), (r"local resilience forum", 3), (r"\blrfs?\b", 3),
         (r"emergency plann\w*", 3), (r"business continuity", 2.5), (r"\bcbrn\w*", 2.5),
         (r"flood\w*", 2), (r"pandemic", 2.5), (r"influenza", 2), (r"category (1|one) responder", 2.5),
         (r"major incident plan", 2), (r"evacuation", 1.5), (r"casualty bureau", 2),
         (r"mass fatalit\w*", 2), (r"exercis\w*", 0.7), (r"community risk register", 2.5),
         (r"\bresilience\b", 1.2), (r"severe weather", 1.5), (r"\bcomah\b", 2), (r"humanitarian assistance", 1.5),
         (r"rest cent\w+", 1.5), (r"emergency services", 0.6), (r"contingency plans?", 1),
         (r"decontamination", 1.5)),
    ),
    Area(
        "public_order",
        "Public order (often with firearms)",
        (r"public order", r"firearms", r"armed (policing|response)", r"mutual aid", r"\bpsus?\b",
         r"protest", r"football", r"armed policing", r"^po\b", r"\bpolsa\b"),
        ((r"public order", 3.5), (r"\bpsus?\b", 3), (r"police support units?", 3), (r"mutual aid", 2.5),
         (r"protests?", 1.5), (r"football", 2), (r"firearms", 2), (r"\barvs?\b", 2.5),
         (r"armed (response|policing|officers?)", 2.5), (r"authorised firearms officers?", 2.5), (r"\bafos?\b", 2.5),
         (r"shield[- ]trained", 2), (r"level (1|2) (public order|trained)", 2), (r"disorder", 1.2),
         (r"spotters?", 1), (r"events?\b", 0.5), (r"crowd", 1), (r"\bpolsa\b", 1.5), (r"tactical advisers?", 1.2),
         (r"taser", 1.5), (r"less lethal", 1.5), (r"riot", 1.5), (r"demonstrations?", 1.2),
         (r"stewarding", 1), (r"\bnpoit\b|public order training", 1.5), (r"specialist firearms", 2)),
    ),
    Area(
        "roads_policing",
        "Strategic roads policing",
        # "road" alone is often a place ("the Ashfield Road incident"): only "roads" or "road" + what it is.
        (r"roads? policing", r"\broads\b", r"\broad (?:crime|network|users?|safety|deaths?|casualt\w*|traffic)",
         r"\banpr\b", r"motorway", r"road safety", r"traffic",
         r"denying criminals", r"highways?", r"collision"),
        ((r"roads? policing", 3.5), (r"\banpr\b", 3), (r"number plate recognition", 3), (r"motorways?", 2),
         (r"trunk roads?", 2.5), (r"collisions?", 2), (r"road safety", 2), (r"\broads?\b", 1),
         (r"\bm\d{1,2}\b", 1.5), (r"\ba\d{2,4}\b", 1), (r"vehicles?", 0.7), (r"drink[- ]driv\w*", 2),
         (r"speeding|speed enforcement", 1.5), (r"fatal (and serious|collisions?)", 2), (r"\bksi\b", 2.5),
         (r"killed or seriously injured", 2.5), (r"traffic", 1.5), (r"casualty reduction", 1.5),
         (r"interceptors?", 2), (r"uninsured", 1.5), (r"highways? agency", 2), (r"use of the roads", 3),
         (r"camera", 0.5), (r"road deaths?", 2)),
    ),
    Area(
        "vulnerable_people",
        "Protecting vulnerable people",
        (r"vulnerab", r"safeguard", r"public protection", r"domestic (abuse|violence)", r"child",
         r"missing (people|persons)", r"\bmappa\b", r"protecting (people|the vulnerable|children)",
         r"sexual offend", r"\bppu\b", r"dangerous offenders", r"\bpvp\b", r"^da\b", r"\bcaiu\b",
         r"\bmarac\b", r"\bvisor\b", r"honour[- ]based", r"forced marriage"),
        ((r"vulnerable (people|adults?|persons?|victims?)", 3), (r"safeguard\w*", 2.5), (r"domestic (abuse|violence)", 3),
         (r"\bmarac\w*", 2.5), (r"\bmappa\b", 3), (r"\bvisor\b", 3), (r"child(ren)? (abuse|protection)", 3),
         (r"\bcaiu\b", 3), (r"missing (persons?|people|children|from home)", 2.5), (r"\bppu\b", 2.5),
         (r"public protection", 2.5), (r"sex(ual)? offenders?", 2.5), (r"registered sex", 2),
         (r"\bidvas?\b", 2), (r"\blscbs?\b", 2.5), (r"safeguarding children board", 2.5),
         (r"honour[- ]based", 2), (r"forced marriage", 2), (r"\brso\b", 2), (r"\bdash\b", 1.5),
         (r"victims?\b", 0.5), (r"serious case reviews?", 2), (r"adult protection", 2), (r"violent offenders?", 1.5),
         (r"\bsarcs?\b", 1.5), (r"rape", 1), (r"children", 0.8), (r"elderly|older people", 1)),
    ),
    Area(
        "counter_terrorism",
        "Counter terrorism and domestic extremism",
        (r"counter[- ]terror", r"terroris", r"\bcontest\b", r"extremis", r"special branch", r"\bprevent\b",
         r"\bctu\b", r"\bctiu\b", r"national security", r"radicali", r"domestic extremism", r"^ct\b",
         r"\bct/de\b"),
        ((r"counter[- ]terror\w*", 3.5), (r"terror\w*", 2.5), (r"\bcontest\b", 3), (r"\bprevent\b", 1.5),
         (r"\bpursue\b", 1.2), (r"\bprotect\b", 0.3), (r"\bprepare\b", 0.3), (r"special branch", 3),
         (r"\bctiu\b|\bctu\b", 3), (r"extremis\w*", 2.5), (r"radicali[sz]\w*", 2.5), (r"ports? (policing|unit|officers?)", 2),
         (r"\bschedule 7\b", 2.5), (r"counter terrorism security advisers?|\bctsas?\b", 2.5),
         (r"crowded places", 2), (r"national security", 2), (r"vulnerable to violent", 1.5),
         (r"hostile reconnaissance", 2), (r"\bnctt\b|national co-ordinator", 1.5)),
    ),
)

AREA_KEYS: tuple[str, ...] = tuple(a.key for a in AREAS)
ALL_KEYS: tuple[str, ...] = AREA_KEYS + (GENERAL,)
REQUIRED_AREAS: tuple[str, ...] = AREA_KEYS[:7]
AREA_NAMES: dict[str, str] = {a.key: a.name for a in AREAS} | {GENERAL: "General (not graded)"}

# Headings that name text which is not about any one area.
GENERAL_HEADINGS: tuple[str, ...] = (
    r"foreword", r"introduction", r"preface", r"executive summary", r"summary", r"context", r"background",
    r"governance", r"finance", r"budget", r"funding", r"conclusion", r"glossary", r"appendix", r"annex",
    r"contents", r"purpose", r"scope", r"overview", r"next steps", r"accountability", r"resourcing",
    r"performance management", r"strategic assessment", r"our approach", r"about this", r"monitoring",
    r"abbreviations", r"sign[- ]off", r"distribution", r"document control", r"version",
)

_HEADING_RES = {a.key: [re.compile(p) for p in a.headings] for a in AREAS}
_VOCAB_RES = {a.key: [(re.compile(p), w) for p, w in a.vocabulary] for a in AREAS}
_GENERAL_RES = [re.compile(r"^(\d+(\.\d+)*\.?\s*)?(" + p + r")\b") for p in GENERAL_HEADINGS]


def heading_areas(heading: str) -> list[str]:
    """Areas a heading names, in the order they appear in it (may be several, may be none)."""
    text = heading.lower()
    found: list[tuple[int, str]] = []
    for key, patterns in _HEADING_RES.items():
        positions = [m.start() for p in patterns for m in [p.search(text)] if m]
        if positions:
            found.append((min(positions), key))
    return [key for _, key in sorted(found)]


def is_general_heading(heading: str) -> bool:
    """Whether a heading names non-area material (foreword, governance, finance ...)."""
    text = heading.lower().strip()
    return any(p.search(text) for p in _GENERAL_RES)


def vocabulary_scores(text: str) -> dict[str, float]:
    """Weighted counts of each area's vocabulary in ``text``."""
    low = text.lower()
    return {key: sum(w * len(p.findall(low)) for p, w in patterns) for key, patterns in _VOCAB_RES.items()}


def best_area(text: str, *, minimum: float = 3.0, margin: float = 1.3) -> str:
    """The area whose vocabulary dominates ``text``, or ``general`` when none clearly does."""
    scores = vocabulary_scores(text)
    ranked = sorted(scores.items(), key=lambda kv: kv[1], reverse=True)
    (top, s1), (_, s2) = ranked[0], ranked[1]
    if s1 < minimum or s1 < margin * s2:
        return GENERAL
    return top
