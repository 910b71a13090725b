"""Word lists and phrase patterns for the rubric's features, grouped by what they signal.

Patterns are regular expressions over lower-cased text unless noted. They are data: the
feature functions in features.py decide what to do with them.
"""
from __future__ import annotations

# Hedges: wording that softens a commitment into an intention.
HEDGES = (
    r"seek(s|ing)? to", r"where (possible|practicable|appropriate|feasible)", r"as (appropriate|required|necessary)",
    r"explor(e|es|ing) (options|the|ways|opportunities|whether|how)", r"(will|to) (consider|explore|look at|look into)",
    r"\bconsider(ing)? (options|whether|how|the)\b", r"keep(s|ing)? (this |it |these )?under review",
    r"endeavour", r"\baim(s)? to\b", r"\baspir\w+", r"\bwhere resources (allow|permit)", r"\bif (funding|resources) (allow|permit|are)",
    r"\bmay\b", r"\bmight\b", r"\bcould\b", r"\bhope(s)? to\b", r"\bwould (like|wish) to\b", r"\bstrive\b",
    r"\bwork towards\b", r"\blook(s|ing)? to\b", r"\bin principle\b", r"\bwhere necessary\b", r"\bpotential(ly)?\b",
    r"\bopportunit(y|ies) (to|for)\b", r"\bcontinue to (develop|improve|enhance|strengthen|build)\b",
    r"\b(further|continued) development\b", r"\bscop(e|ing) (the|a|options|work)\b", r"\bin the longer term\b",
)

# Deferrals and negations: commitments that are postponed, unfunded or unowned.
DEFERRALS = (
    r"\byet to be\b", r"\bnot yet\b", r"\bto be (agreed|confirmed|determined|identified|appointed|decided|finalised|set|scoped|established|allocated)\b",
    r"\btbc\b", r"\btba\b", r"\btbd\b", r"\bongoing\b", r"\bon-going\b", r"\bin due course\b", r"\bat a later (date|stage)\b",
    r"\bno (additional|extra|new|dedicated|specific) (resources?|funding|budget|staff|posts?|money)\b",
    r"\b(has|have) not (yet )?been (identified|agreed|allocated|confirmed|set|appointed|funded)\b",
    r"\bwill be appointed\b", r"\bwill be identified\b", r"\bwill be (agreed|confirmed|set|determined) (later|in due course|once|when)\b",
    r"\bsubject to (funding|approval|the outcome|resources|agreement|budget)\b", r"\bonce (funding|resources|a budget)\b",
    r"\bwhen (funding|resources) (allow|become|permit|are)\b", r"\bawaiting\b", r"\bpending\b", r"\bdeferred\b",
    r"\bnot (been )?(funded|resourced|costed)\b", r"\bunfunded\b", r"\bno (firm )?(date|timescale|deadline)s?\b",
    r"\bno owner\b", r"\bunder discussion\b", r"\bnext (financial )?year\b(?! \d)", r"\bunclear\b", r"\bnot (been )?agreed\b",
    r"\bno decision\b", r"\bnot possible to\b", r"\bcannot (yet )?(commit|confirm|say)\b", r"\bremains? to be\b",
    r"\bunknown\b", r"\bn/?a\b(?=\s*\|)", r"\b(life|lifetime|duration|course) of (this|the) plan\b",
    r"\bas (\w+ ){1,4}(allows?|permits?)\b", r"\bonce (\w+ ){1,6}(is|are) (known|agreed|confirmed|available|clear)\b",
    r"\bwill be (set|fixed|confirmed|agreed) (once|when|after)\b",
)

# Vague stand-ins for an owner.
VAGUE_OWNERS = (
    r"\bthe force\b", r"\bpartners\b", r"\ball (staff|officers|bcus|departments)\b", r"\bthe (department|organisation|service|team|unit)\b",
    r"\brelevant (leads?|departments?|managers?|partners)\b", r"\bsenior (managers?|leaders?|officers)\b", r"\bmanagement\b",
    r"\bowner\b.{0,25}\b(appointed|identified|tbc|to be)\b", r"\blead\b.{0,25}\b(appointed|identified|tbc|to be)\b",
    r"\b(officer|lead|owner|manager|champion)\b.{0,12}\b(will|to) be (appointed|identified|nominated|confirmed)\b",
    r"\bcommand team\b", r"\bbcus?\b", r"\bthe (chief )?officer group\b",
)

# Accountable roles, ranks and units (specific owners).
ROLES = (
    r"\bchief constable\b", r"\bdeputy chief constable\b", r"\bdcc\b", r"\bacc\b", r"\bassistant chief constable\b",
    r"\bassistant chief officer\b", r"\baco\b", r"\b(det(ective)?\.? )?(ch(ief)?\.? )?supt\b", r"\b(det(ective)? )?(chief )?superintendent\b",
    r"\bd/?ch\.? ?supt\b", r"\bdsu\b", r"\bdci\b", r"\bdi\b", r"\bds\b", r"\bdetective (chief )?inspector\b", r"\b(chief )?inspector\b",
    r"\bc/?insp\b", r"\bch\.? ?insp\b", r"\bsergeant\b", r"\bhead of [a-z]+( [a-z]+)?\b", r"\b[a-z]+ (manager|lead|co-?ordinator|director|commander)\b",
    r"\bsio\b", r"\bbcu commander\b", r"\bdirector of [a-z]+\b", r"\bpolice authority\b", r"\bportfolio holder\b", r"\bprogramme manager\b",
    r"\bproject (manager|board|lead)\b", r"\bemergency planning (manager|officer|unit)\b", r"\bforce (lead|firearms|public order) \w+\b",
)

# Action verbs that make a commitment concrete.
ACTION_VERBS = (
    "recruit", "appoint", "train", "establish", "implement", "deliver", "introduce", "purchase", "procure", "buy",
    "install", "deploy", "create", "launch", "second", "roll", "open", "complete", "publish", "commission", "extend",
    "expand", "increase", "reduce", "replace", "upgrade", "build", "set", "run", "hold", "test", "exercise",
    "restructure", "merge", "form", "fund", "equip", "accredit", "review", "audit", "produce", "develop", "agree",
    "sign", "embed", "relocate", "double", "add", "provide", "move", "map", "convene", "hire", "staff", "commence",
    "begin", "start", "mandate", "transfer", "design", "conduct", "undertake", "issue", "update", "refresh",
)
VAGUE_ACTION_VERBS = ("consider", "explore", "examine", "look", "seek", "continue", "strive", "endeavour", "aspire",
                      "investigate", "assess", "scope", "monitor", "support", "encourage", "promote", "enhance",
                      "strengthen", "improve", "maintain", "ensure", "work")

# Future and commitment markers (also for the blank-pipeline fallback, which has no tagger).
FUTURE = (r"\bwill\b", r"\bshall\b", r"\b(is|are) to be\b", r"\bplan(s|ned)? to\b", r"\bintend(s)? to\b",
          r"\bcommit(s|ted)? to\b", r"\bgoing to\b", r"\bby (the )?end of\b", r"\bfrom (april|may|june|july|january|february|march|august|september|october|november|december)\b")
PAST = (r"\b(was|were|had|has been|have been)\b", r"\blast year\b", r"\bduring (19|20)\d\d", r"\bin (19|20)\d\d/\d\d\b",
        r"\bpreviously\b", r"\bto date\b", r"\bsince (19|20)\d\d\b")

# Timescales: deadlines and milestones.
DATES = (
    r"\b\d{1,2}/\d{1,2}/(20)?\d\d\b", r"\b\d{1,2}(st|nd|rd|th)? (jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]* (20)?\d\d\b",
    r"\b(jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]* (20)\d\d\b", r"\bq[1-4]\b", r"\b(first|second|third|fourth|1st|2nd|3rd|4th) quarter\b",
    r"\b20\d\d/\d\d\b", r"\b20\d\d\b", r"\b(spring|summer|autumn|winter) 20\d\d\b", r"\bend of (20\d\d|march|the year|q[1-4])\b",
    r"\bwithin \d+ (weeks|months|days)\b", r"\bby (week|month) \d+\b",
    r"\b(jan|feb|mar|apr|jun|jul|aug|sep|sept|oct|nov|dec) \d\d\b",
)
DEADLINE_CUES = (r"\bby\b", r"\bbefore\b", r"\bno later than\b", r"\bdeadline\b", r"\bfrom\b", r"\bcompleted? (by|in)\b",
                 r"\bmilestone\b", r"\btarget date\b", r"\bstarting\b", r"\bduring\b", r"\buntil\b")

# Resources: staff, money and capability.
MONEY = (r"£\s?\d", r"\bgbp\s?\d", r"\b\d[\d,.]*\s?(k|m|million|thousand)?\s?pounds\b", r"\b\d[\d,.]*\s?(k|m)\b(?=.*(fund|budget|cost|grant))")
STAFF = (r"\b\d+(\.\d+)?\s+(additional |extra |new |dedicated |full[- ]time |more )?(fte|posts?|officers?|staff|detectives?|dcs?|dss?|pcs?|analysts?|investigators?|"
         r"sergeants?|inspectors?|constables?|specialists?|advisers?|advisors?|researchers?|technicians?|members of staff|psus?|teams?|vehicles?|cameras?|units?|idvas?|posts)\b",
         r"\b(one|two|three|four|five|six|seven|eight|nine|ten|twelve|fifteen|twenty) (additional |extra |new |dedicated |full[- ]time )?(fte|posts?|officers?|staff|detectives?|"
         r"analysts?|investigators?|sergeants?|inspectors?|constables?|specialists?|advisers?|technicians?|psus?|teams?|vehicles?|cameras?|idvas?)\b",
         r"\bfte\b")
FUNDING = (r"\bfunded (by|from|through)\b", r"\bbudget of\b", r"\bgrant\b", r"\bprecept\b", r"\bcapital\b", r"\brevenue\b", r"\breserve\b",
           r"\bring-?fenced\b", r"\ballocated\b", r"\bcosted at\b", r"\bcost of\b")
VAGUE_RESOURCES = (r"\bwithin existing (resources|budgets?|establishment|staffing)\b", r"\bexisting resources\b", r"\bresources? (are|is|will be) (to be )?identified\b",
                   r"\bresources to be\b", r"\bno (additional|extra|new) (resources?|funding|budget|staff|posts?)\b", r"\bsubject to funding\b",
                   r"\b(funding|resourcing) (has|is) (not|yet)\b", r"\bcost neutral\b", r"\bwhen funding\b", r"\bresource implications\b")

# Measures: indicators, targets and monitoring.
MEASURES = (r"\bkpis?\b", r"\bindicators?\b", r"\btargets?\b", r"\bmeasured (by|through|against)\b", r"\bbaseline\b", r"\b\d+(\.\d+)? ?(%|per ?cent)\b",
            r"\breported (monthly|quarterly|weekly|annually|every|each|to)\b", r"\b(monthly|quarterly|weekly|six-monthly|annual) (to|report|reports|review|meeting)\b",
            r"\bperformance (board|meeting|framework|group|committee|regime)\b", r"\bdashboard\b", r"\b(reduce|increase|raise|cut) [a-z ]{0,40}(by|to|from) \d",
            r"\bsuccess (will be|is) measured\b", r"\bevaluat(e|ed|ion) (by|in|at)\b", r"\bscorecard\b", r"\brag\b", r"\bsurvey\b", r"\bcompliance (with|rate)\b")
VAGUE_MEASURES = (r"\bperformance will be monitored\b", r"\b(will be|be) monitored\b", r"\bkept under review\b", r"\bmonitored (closely|regularly|as appropriate)\b",
                  r"\bregular(ly)? review(ed)?\b", r"\bmeasures? (are|is|will be) (being )?developed\b", r"\bappropriate (measures|indicators)\b", r"\bsuccess criteria (are|will be|to be)\b")

# Collaboration: named regional, national and partner arrangements.
PARTNERS = (r"\brocu\b", r"\bsoca\b", r"\blrf\b", r"\blocal resilience forum\b", r"\bmappa\b", r"\bmarac\b", r"\bvisor\b", r"\bregional\b", r"\bnational\b", r"\bcps\b",
            r"\bneighbouring forces?\b", r"\bcollaborat\w+\b", r"\bmemorandum of understanding\b", r"\bmou\b", r"\bsection 23\b", r"\bjoint\b", r"\bmutual aid\b",
            r"\b(local|county|district|unitary) (authority|authorities|council)\b", r"\bhighways agency\b", r"\bnpia\b", r"\bacpo\b", r"\bhmrc\b",
            r"\bukba\b|\bborder agency\b", r"\bfire (and rescue )?service\b", r"\bambulance\b", r"\bnhs\b|\bprimary care trust\b|\bpct\b", r"\blscbs?\b",
            r"\bprobation\b", r"\bctu\b|\bctiu\b", r"\b[a-z]+ (constabulary|police)\b", r"\bconsortium\b", r"\bpartnership (agreement|board|with)\b",
            r"\bshared service\b", r"\bagreement with\b", r"\bco-?located\b")
VAGUE_COLLAB = (r"\bwork(s|ing)? closely with (our )?partners\b", r"\bwith (our |key |relevant )?partners\b", r"\bpartnership working\b",
                r"\bother agencies\b", r"\bmulti-agency approach\b", r"\bpartners as appropriate\b", r"\bstakeholders\b")

# Assessment: the force's own threat, risk, harm and gaps.
ASSESSMENT = (r"\bthreat\b", r"\brisks?\b", r"\bharm\b", r"\bgaps?\b", r"\bstrategic assessment\b", r"\bassess(ed|ment)\b", r"\bcapability\b", r"\bcapacity\b",
              r"\bdemand\b", r"\bvulnerabilit(y|ies)\b", r"\bshortfall\b", r"\bweakness(es)?\b", r"\bidentified\b", r"\bprofile\b", r"\bhigh need\b",
              r"\bthreshold standards?\b", r"\bbacklog\b", r"\bincreas(e|ed|ing) (in|of)\b", r"\brose\b|\bfell\b|\bdoubled\b")
VAGUE_ASSESSMENT = (r"\bremains? a (significant |key |real )?(threat|challenge|priority|risk)\b", r"\bcontinues? to (be|present|pose) a\b",
                    r"\bchallenging (environment|times|context)\b", r"\bever-?changing\b", r"\bcomplex (and|landscape)\b")

# Objectives: intended outcomes.
OBJECTIVES = (r"\bobjectives?\b", r"\boutcomes?\b", r"\bto (reduce|increase|achieve|ensure|meet|raise|cut|double|halve|deliver|provide|bring|improve) [^.]{0,60}\d",
              r"\baims?\b", r"\bgoals?\b", r"\bby (march|april|the end of) (20)?\d\d", r"\bcompliance with\b", r"\bmeet (the )?(acpo )?threshold\b",
              r"\btarget\b", r"\bsuccess (means|will be|looks like)\b", r"\bintended\b", r"\bso that\b", r"\bin order to\b")
VAGUE_OBJECTIVES = (r"\bimprove (our|the) (response|service|performance|capability)\b", r"\b(better|improved|enhanced|effective|robust) (service|response|outcomes|approach)\b",
                    r"\bcontinue to improve\b", r"\bbest possible\b", r"\bhigh[- ]quality\b", r"\bfit for purpose\b", r"\bworld[- ]class\b", r"\bexcellent\b")

# Domain entities for spaCy's EntityRuler (token patterns): ranks and roles, units, financial
# years, quarters and deadlines, money, staff counts, reporting bodies and frequencies.
_MONTH = {"TEXT": {"REGEX": r"^(?i:jan(uary)?|feb(ruary)?|mar(ch)?|apr(il)?|may|june?|july?|aug(ust)?|sept?(ember)?|oct(ober)?|nov(ember)?|dec(ember)?)$"}}
_RANK = {"LOWER": {"IN": ["acc", "dcc", "aco", "supt", "superintendent", "dci", "di", "ds", "insp", "inspector", "sergeant",
                          "sio", "constable", "ch", "chief", "det", "detective", "d/supt", "c/insp", "dsu"]}}
_STAFF_NOUN = {"LOWER": {"REGEX": r"^(fte|posts?|officers?|staff|detectives?|dcs?|dss?|pcs?|analysts?|investigators?|sergeants?|"
                                  r"inspectors?|constables?|advisers?|advisors?|technicians?|psus?|idvas?|afos?|arvs?|specialists?)$"}}
ENTITY_PATTERNS: tuple[dict, ...] = (
    # ROLE: an accountable rank or role ("Det Supt", "Head of Public Protection", "Emergency Planning Manager")
    {"label": "ROLE", "pattern": [_RANK, {"LOWER": {"IN": ["supt", "superintendent", "inspector", "insp", "constable", "officer"]}, "OP": "?"}]},
    {"label": "ROLE", "pattern": [{"LOWER": "head"}, {"LOWER": "of"}, {"IS_TITLE": True, "OP": "+"}]},
    {"label": "ROLE", "pattern": [{"IS_TITLE": True, "OP": "+"}, {"LOWER": {"IN": ["manager", "lead", "coordinator", "co-ordinator",
                                                                                   "commander", "director", "adviser", "advisor"]}}]},
    {"label": "ROLE", "pattern": [{"LOWER": {"IN": ["assistant", "deputy"]}, "OP": "?"}, {"LOWER": "chief"}, {"LOWER": {"IN": ["constable", "officer"]}}]},
    # UNIT: named police units
    {"label": "UNIT", "pattern": [{"LOWER": {"IN": ["rocu", "mit", "caiu", "ppu", "tsu", "ctu", "ctiu", "rpu", "socu", "fib", "psd"]}}]},
    # FIN_YEAR: 2009/10, 2009-10
    {"label": "FIN_YEAR", "pattern": [{"TEXT": {"REGEX": r"^20\d\d[/-]\d\d$"}}]},
    # DEADLINE: "by 31 March 2010", "by end of Q3", "by Q3", "from April 2009", "31/03/2010"
    {"label": "DEADLINE", "pattern": [{"LOWER": {"IN": ["by", "before", "from", "until"]}}, {"LOWER": {"IN": ["the", "end"]}, "OP": "*"},
                                      {"LOWER": "of", "OP": "?"}, {"TEXT": {"REGEX": r"^\d{1,2}(st|nd|rd|th)?$"}, "OP": "?"}, _MONTH,
                                      {"TEXT": {"REGEX": r"^(20)?\d\d$"}, "OP": "?"}]},
    {"label": "DEADLINE", "pattern": [{"LOWER": {"IN": ["by", "before", "from", "in", "during"]}}, {"LOWER": {"IN": ["the", "end"]}, "OP": "*"},
                                      {"LOWER": "of", "OP": "?"}, {"LOWER": {"REGEX": r"^q[1-4]$"}}]},
    {"label": "DEADLINE", "pattern": [{"TEXT": {"REGEX": r"^\d{1,2}/\d{1,2}/(20)?\d\d$"}}]},
    {"label": "DEADLINE", "pattern": [{"TEXT": {"REGEX": r"^\d{1,2}(st|nd|rd|th)?$"}}, _MONTH, {"TEXT": {"REGEX": r"^(20)?\d\d$"}}]},
    # MONEY: £340,000 / GBP 340,000 / 340,000 pounds / £1.2 million
    {"label": "MONEY", "pattern": [{"TEXT": {"IN": ["£", "GBP"]}}, {"LIKE_NUM": True}, {"LOWER": {"IN": ["million", "m", "k"]}, "OP": "?"}]},
    {"label": "MONEY", "pattern": [{"TEXT": {"REGEX": r"^£\d[\d,.]*[km]?$"}}]},
    {"label": "MONEY", "pattern": [{"LIKE_NUM": True}, {"LOWER": {"IN": ["million", "thousand"]}, "OP": "?"}, {"LOWER": "pounds"}]},
    # STAFF: "4 DCs", "six additional financial investigators", "2 FTE analysts"
    {"label": "STAFF", "pattern": [{"LIKE_NUM": True}, {"LOWER": {"IN": ["additional", "extra", "new", "dedicated", "more", "full-time", "fte"]}, "OP": "*"},
                                   {"IS_ALPHA": True, "OP": "?"}, _STAFF_NOUN]},
    # BODY: reporting bodies and partnerships
    {"label": "BODY", "pattern": [{"IS_TITLE": True, "OP": "*"}, {"LOWER": {"IN": ["board", "group", "committee", "forum", "authority", "partnership", "panel"]}}]},
    {"label": "BODY", "pattern": [{"LOWER": {"IN": ["lrf", "mappa", "marac", "soca", "npia", "acpo", "hmic", "ipcc", "cps", "lscb", "t&cg"]}}]},
    # FREQUENCY: how often something is reported or reviewed
    {"label": "FREQUENCY", "pattern": [{"LOWER": {"IN": ["monthly", "quarterly", "weekly", "annually", "fortnightly", "six-monthly", "bi-monthly"]}}]},
    {"label": "FREQUENCY", "pattern": [{"LOWER": {"IN": ["every", "each"]}}, {"LOWER": {"IN": ["month", "quarter", "week", "year"]}}]},
)
