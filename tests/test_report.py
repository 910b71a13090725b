"""Tests for the HTML report: content, highlighting, error records and escaping of plan text."""
from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

from plancheck.areas import AREA_NAMES
from plancheck.rubric import CRITERIA, QUESTIONS
from plancheck.record import Record
from plancheck.report import render_html as _render_record


def render_html(record: dict) -> str:
    """The report of a record given as written to JSON (read back through Record, as readers do)."""
    return _render_record(Record.from_dict(record))

HOSTILE = "<script>alert(1)</script>"
VAGUE = "An owner will be appointed in due course."
SPECIFIC = "The ROCU will complete 12 financial investigations by 31 March 2010."


def make_area(area: str = "serious_organised_crime", flagged: bool = True, **changes) -> dict:
    scores = dict(zip(CRITERIA, (2, 1, 2, 1, 0, 2, 1, 2)))
    record = {
        "area": area, "headings": ["3. Serious and organised crime"], "pages": [4, 5],
        "p_insufficient": 0.82 if flagged else 0.1, "threshold": 0.5, "flagged": flagged, "criteria": scores,
        "p_specific": dict(zip(CRITERIA, (0.93, 0.4, 0.88, 0.31, 0.05, 0.9, 0.35, 0.97))),
        "reasons": ["owner: vague - 'an owner will be appointed in due course.'",
                    "timescales: missing - no dates, deadlines or milestones for the actions found"],
        "evidence": {"owner": [VAGUE], "actions": [SPECIFIC]},
        # Line breaks and double spaces inside the sentences, as extraction leaves them.
        "text": "We face 14 OCGs.\nThe ROCU will complete 12 financial\ninvestigations by  31 March 2010. "
                "An owner will be\nappointed in due course.",
    }
    record.update(changes)
    return record


def make_record(areas: list[dict] | None = None, **changes) -> dict:
    areas = [make_area()] if areas is None else areas
    record = {
        "path": "/inbox/larkmere-2009.docx", "sha256": "ab" * 32, "status": "scored", "error": None,
        "verdict": "needs_review", "p_insufficient": max((a["p_insufficient"] for a in areas), default=None),
        "missing_areas": [], "areas": areas, "model": "plancheck-section-1.0", "kind": "docx",
        "pages": 12, "words": 4300, "title": "Larkmere Police Protective Services Plan", "warnings": [],
    }
    record.update(changes)
    return record


def error_record() -> dict:
    return {"path": "/inbox/locked.pdf", "sha256": None, "status": "error",
            "error": {"code": "encrypted", "message": "locked.pdf: the PDF is encrypted; supply an unlocked copy"},
            "verdict": None, "p_insufficient": None, "missing_areas": [], "areas": [], "model": "plancheck-section-1.0"}


class _GridRows(HTMLParser):
    """Collects the text of each cell of each body row of ``table.grid``."""

    def __init__(self):
        super().__init__()
        self.rows: list[list[str]] = []
        self._in_grid = self._in_body = False
        self._cell: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        if tag == "table" and ("class", "grid") in attrs:
            self._in_grid = True
        elif self._in_grid and tag == "tbody":
            self._in_body = True
        elif self._in_body and tag == "tr":
            self.rows.append([])
        elif self._in_body and tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self.rows[-1].append("".join(self._cell).strip())
            self._cell = None
        elif tag == "table":
            self._in_grid = self._in_body = False

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def grid_rows(page: str) -> list[list[str]]:
    parser = _GridRows()
    parser.feed(page)
    return parser.rows


def flagged_sections(page: str) -> list[str]:
    return re.findall(r'<section class="area flagged"[^>]*>.*?</section>', page, flags=re.S)


def print_css(page: str) -> str:
    """The rules of the page's ``@media print`` block."""
    block = page.split("@media print {", 1)[1]
    return block.split("\n}\n", 1)[0]


@pytest.mark.parametrize("verdict,label", [("needs_review", "Needs review"), ("sufficient", "Sufficient")])
def test_report_shows_verdict(verdict, label):
    page = render_html(make_record(verdict=verdict))
    assert f'class="verdict verdict-{verdict}">{label}</p>' in page


def test_report_header_shows_file_title_model_and_short_hash():
    page = render_html(make_record())
    header = page.split("</header>")[0]
    for expected in ("larkmere-2009.docx", "Larkmere Police Protective Services Plan", "plancheck-section-1.0",
                     "abababababab...", "4300"):
        assert expected in header
    assert "ab" * 32 + "</code>" not in header


def test_report_grid_has_one_row_per_area_with_scores():
    areas = [make_area(), make_area("counter_terrorism", flagged=False, criteria=dict.fromkeys(CRITERIA, 2))]
    rows = grid_rows(render_html(make_record(areas)))
    assert len(rows) == 2
    assert rows[0][0] == AREA_NAMES["serious_organised_crime"]
    assert rows[0][1:9] == ["2 specific (0.93)", "1 vague (0.40)", "2 specific (0.88)", "1 vague (0.31)",
                            "0 missing (0.05)", "2 specific (0.90)", "1 vague (0.35)", "2 specific (0.97)"]
    assert rows[0][9:] == ["0.820", "FLAGGED"]
    assert [cell.split(" (")[0] for cell in rows[1][1:9]] == ["2 specific"] * 8
    assert rows[1][9:] == ["0.100", "no"]


def test_report_grid_cells_coloured_by_score():
    page = render_html(make_record())
    assert '<td class="s0">0 missing <small>(0.05)</small></td>' in page
    assert '<td class="s1">1 vague <small>(0.40)</small></td>' in page
    assert '<td class="s2">2 specific <small>(0.93)</small></td>' in page
    assert "print-color-adjust: exact" in page and "@media print" in page


def test_report_marks_evidence_in_flagged_section_text():
    [section] = flagged_sections(render_html(make_record()))
    assert re.search(r'<mark class="vague" title="owner">An owner will be\nappointed in due course\.</mark>', section)
    assert re.search(r'<mark class="specific" title="actions">The ROCU will complete 12 financial\n'
                     r'investigations by  31 March 2010\.</mark>', section)
    assert "pp. 4-5" in section
    assert "<li>timescales: missing - no dates, deadlines or milestones for the actions found</li>" in section


def test_report_lists_evidence_not_found_in_text_under_reasons():
    area = make_area(evidence={"measures": ["Performance will be monitored."]})
    [section] = flagged_sections(render_html(make_record([area])))
    reasons = section.split('<ul class="reasons">')[1].split("</ul>")[0]
    assert "Performance will be monitored." in reasons
    assert "<mark" not in section


def test_report_collapses_unflagged_sections():
    page = render_html(make_record([make_area(flagged=False)], verdict="sufficient"))
    assert flagged_sections(page) == []
    assert re.search(r'<section class="area unflagged"[^>]*><details>\s*<summary>', page)


def test_report_lists_missing_areas():
    page = render_html(make_record(missing_areas=["serious_organised_crime", "civil_contingencies"]))
    missing = page.split('<ul class="missing">')[1].split("</ul>")[0]
    assert AREA_NAMES["serious_organised_crime"] in missing
    assert "<code>civil_contingencies</code>" in missing


def test_report_says_all_areas_found_when_none_missing():
    page = render_html(make_record())
    assert "All required areas were found." in page
    assert '<ul class="missing">' not in page


def test_report_error_record_shows_code_and_message_only():
    page = render_html(error_record())
    assert "Could not be read" in page
    assert "<code>encrypted</code>" in page
    assert "locked.pdf: the PDF is encrypted; supply an unlocked copy" in page
    for misleading in ('class="grid"', "Required areas", "Flagged sections", "All required areas were found"):
        assert misleading not in page


@pytest.mark.parametrize("where", ["text", "headings", "reasons", "evidence", "title", "path"])
def test_report_escapes_hostile_text(where):
    area = make_area()
    record = make_record([area])
    if where == "text":
        area["text"] += " " + HOSTILE
    elif where == "headings":
        area["headings"] = [HOSTILE]
    elif where == "reasons":
        area["reasons"] = [f"owner: vague - '{HOSTILE}'"]
    elif where == "evidence":
        area["evidence"] = {"owner": [HOSTILE]}
    else:
        record[where] = HOSTILE
    page = render_html(record)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<script" not in page.lower()


def test_report_escapes_hostile_evidence_inside_mark():
    area = make_area(text=f"Intro. {HOSTILE} More.", evidence={"owner": [HOSTILE]})
    page = render_html(make_record([area]))
    assert '<mark class="vague" title="owner">&lt;script&gt;alert(1)&lt;/script&gt;</mark>' in page
    assert "<script" not in page.lower()


def test_report_escapes_hostile_error_message():
    record = error_record()
    record["error"] = {"code": HOSTILE, "message": HOSTILE}
    page = render_html(record)
    assert page.count("&lt;script&gt;alert(1)&lt;/script&gt;") == 2
    assert "<script" not in page.lower()


@pytest.mark.parametrize("record", [make_record(missing_areas=["counter_terrorism"]), error_record()],
                         ids=["scored", "error"])
def test_report_is_self_contained(record):
    page = render_html(record)
    assert page.startswith("<!DOCTYPE html>")
    for external in ("http://", "https://", "<link", "<script", "src=", "@import", "url("):
        assert external not in page.lower()


def test_report_tags_each_highlight_with_its_criterion_and_score():
    [section] = flagged_sections(render_html(make_record()))
    assert re.search(r'appointed in due course\.</mark><sup class="tag">\[owner: vague\]</sup>', section)
    assert re.search(r'31 March 2010\.</mark><sup class="tag">\[actions: specific\]</sup>', section)


def test_report_tags_a_sentence_behind_several_criteria_with_each_grouped_by_score():
    area = make_area(evidence={"objectives": [VAGUE], "owner": [VAGUE], "timescales": [VAGUE], "actions": [VAGUE]})
    [section] = flagged_sections(render_html(make_record([area])))
    assert '<sup class="tag">[objectives, owner: vague; actions: specific; timescales: missing]</sup>' in section
    assert '<mark class="vague" title="objectives, actions, owner, timescales">' in section


def test_report_legend_explains_highlights_and_prints():
    page = render_html(make_record())
    legend = page.split('<div class="legend"', 1)[1].split("</div>", 1)[0]
    assert '<mark class="vague">' in legend and '<mark class="specific">' in legend
    assert "[owner: vague]" in legend
    for criterion, question in QUESTIONS.items():
        assert f"<dt>{criterion}</dt>" in legend and question.split("'")[0] in legend
    # Nothing hides the legend or the tags on paper, and vague and specific differ without colour.
    printed = print_css(page)
    assert "legend" not in printed and "tag" not in printed and "mark" not in printed
    assert re.search(r"mark\.vague \{[^}]*dashed", page) and re.search(r"mark\.specific \{[^}]*solid", page)


def test_report_has_no_legend_without_highlights():
    area = make_area(evidence={})
    assert 'class="legend"' not in render_html(make_record([area]))


def test_report_grid_rows_link_to_their_sections():
    areas = [make_area(), make_area("counter_terrorism", flagged=False), make_area("counter_terrorism", flagged=False)]
    page = render_html(make_record(areas))
    links = re.findall(r'<th scope="row"><a href="#([^"]+)">', page)
    ids = re.findall(r'<section class="area [a-z]+" id="([^"]+)">', page)
    assert len(links) == 3 and len(set(links)) == 3
    assert sorted(links) == sorted(ids)
    assert links[0] == "area-serious_organised_crime"
    assert page.count('<a href="#grid">') == 3 and '<h2 id="grid">' in page


def test_report_shows_threshold():
    page = render_html(make_record([make_area(), make_area("counter_terrorism", flagged=False)]))
    header = page.split("</header>")[0]
    assert "<dt>Flag threshold</dt><dd>0.500</dd>" in header
    assert "at or above the model's threshold, <strong>0.500</strong>" in page
    assert "flagged (p = 0.820, at or above the threshold 0.500)" in page
    assert "not flagged (p = 0.100, below the threshold 0.500)" in page


def test_report_without_threshold_or_p_specific_still_renders():
    area = make_area()
    del area["threshold"], area["p_specific"]
    page = render_html(make_record([area]))
    assert "Flag threshold" not in page and "flagged (p = 0.820)" in page
    assert grid_rows(page)[0][1] == "2 specific"


@pytest.mark.parametrize("changes,force", [
    ({}, "Larkmere Police"),
    ({"title": "STOURHOLME CONSTABULARY - PROTECTIVE SERVICES PLAN"}, "Stourholme Constabulary"),
    ({"title": "Protective Services Plan", "force": "Hollowfield Constabulary"}, "Hollowfield Constabulary"),
])
def test_report_names_the_force(changes, force):
    header = render_html(make_record(**changes)).split("</header>")[0]
    assert f'<p class="force">Force: <strong>{force}</strong></p>' in header


def test_report_names_no_force_when_none_is_known():
    page = render_html(make_record(title="Protective Services Plan 2009-2011"))
    assert 'class="force"' not in page


@pytest.mark.parametrize("code,advice", [
    ("no_text", "What to do: Run OCR on the file"),
    ("encrypted", "What to do: Ask the force for a copy without a password"),
    ("unsupported_type", "What to do: Save the plan as .docx or PDF and resubmit it."),
    ("timeout", "What to do: Try once more"),
    ("something_new", "What to do: Fix what the message above says, then resubmit the file."),
])
def test_report_error_record_says_what_to_do(code, advice):
    record = error_record()
    record["error"]["code"] = code
    page = render_html(record)
    assert f'<p class="advice">{advice}' in page
