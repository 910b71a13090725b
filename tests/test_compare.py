"""Comparing plans: a resubmission against its earlier plan (compare), and text shared between
plans of different forces (overlap)."""
from __future__ import annotations

import json
import shutil

import pytest

from plancheck.cli import main
from plancheck.compare import compare_records, render_html, table_lines
from plancheck.record import Record
from plancheck.config import Config
from plancheck.errors import ConfigError
from plancheck.overlap import MAX_GAP, find_overlaps, force_of, split_sentences
from plancheck.rubric import CRITERIA

# --- overlap ---------------------------------------------------------------------------------

CI_COPY = ("Two critical incidents in 2008, the Caddon flats fire and a death following police contact in Yarlow Mead, "
           "showed that Gold groups were convened late and that no community impact assessment was completed within "
           "the first 24 hours.")


@pytest.fixture(scope="module")
def pair(examples):
    return find_overlaps([str(examples / "overlap" / "brindleford-2009.txt"),
                          str(examples / "overlap" / "osterfell-2009.txt")], Config())


def _sections(report, name):
    plan = next(p for p in report.plans if p.path.endswith(name))
    return {s.area: s for s in plan.sections}


def test_overlap_finds_the_copied_and_the_reworded_paragraphs(pair):
    assert [p.force for p in pair.plans] == ["Brindleford Police", "Osterfell Constabulary"]
    assert len(pair.passages) == 2
    copied, reworded = pair.passages
    # The critical incidents text was copied word for word, from page 2 of one plan to page 3 of the other.
    assert (copied.a.area, copied.a.pages, copied.b.area, copied.b.pages) == ("critical_incidents", (2,), "critical_incidents", (3,))
    assert copied.identical and copied.words == 103 and copied.sentences == 4
    assert copied.a.text == copied.b.text and copied.a.text.startswith(CI_COPY)
    # The civil contingencies paragraph was copied with the place names and a date changed.
    assert (reworded.a.area, reworded.a.pages, reworded.b.area, reworded.b.pages) == ("civil_contingencies", (2,), "civil_contingencies", (3,))
    assert not reworded.identical and 0.6 < reworded.similarity < 0.8
    assert reworded.words == 78 and reworded.sentences == 3
    assert "river flooding in Brindleford" in reworded.a.text and "coastal flooding in Osterfell" in reworded.b.text
    assert "pandemic" not in reworded.b.text  # Osterfell's own last sentence is not part of the passage


def test_overlap_share_of_each_section(pair):
    brindleford = _sections(pair, "brindleford-2009.txt")
    osterfell = _sections(pair, "osterfell-2009.txt")
    shared = {(name, area): (s.shared_words, s.words) for name, sections in
              (("b", brindleford), ("o", osterfell)) for area, s in sections.items() if s.shared_words}
    assert shared == {("b", "critical_incidents"): (103, 103), ("b", "civil_contingencies"): (78, 78),
                      ("o", "critical_incidents"): (103, 103), ("o", "civil_contingencies"): (78, 94)}
    assert osterfell["civil_contingencies"].shared_with == (pair.plans[0].path,)
    assert "83% of this section's words are shared" in osterfell["civil_contingencies"].reason
    assert osterfell["public_order"].reason is None and osterfell["public_order"].shared_with == ()


def test_overlap_min_words_sets_the_shortest_passage(examples):
    paths = [str(examples / "overlap" / "brindleford-2009.txt"), str(examples / "overlap" / "osterfell-2009.txt")]
    report = find_overlaps(paths, Config(), min_words=20)
    # Two public order sentences are close (same shape, other figures): 23 words, reported only at 20.
    assert [(p.a.area, p.words) for p in report.passages] == [("critical_incidents", 103), ("civil_contingencies", 78),
                                                                ("public_order", 23)]
    assert [p.a.area for p in find_overlaps(paths, Config(), min_words=79).passages] == ["critical_incidents"]
    with pytest.raises(ConfigError):
        find_overlaps(paths, Config(), min_words=0)


def test_overlap_never_reports_a_force_sharing_its_own_text(examples):
    same = [str(examples / "resubmission" / "quillmoor-2009.md"), str(examples / "resubmission" / "quillmoor-2010.md")]
    for how in ("text", "file"):
        report = find_overlaps(same, Config(), force_from=how)
        assert report.passages == () and {p.force for p in report.plans} == {"Quillmoor Constabulary" if how == "text" else "quillmoor"}


PARAGRAPH_ONE = ("The Wendmere serious crime unit has mapped twelve organised crime groups across the county. "
                 "Seven of those groups import heroin through the freight terminal at Lowick Sands. "
                 "Detective Superintendent Ruth Allard will lead a new disruption team from April 2010.")
PARAGRAPH_TWO = ("Three financial investigators will join the team by the end of June 2010. "
                 "Restraint orders worth at least nine hundred thousand pounds are the target for the year. "
                 "Results are reported every month to the force tasking and coordinating group.")


def _plan(folder, name, force, body):
    path = folder / name
    path.write_text(f"# {force}: Protective Services Plan\n\nPrepared by {force} in 2009.\n\n"
                    f"## Serious and Organised Crime\n\n{body}\n\n## Major Crime\n\n"
                    f"{force} investigated {len(name)} homicides last year and will add officers to its major "
                    f"investigation team named after {name.split('-')[0]} by March 2010.\n", encoding="utf-8")
    return str(path)


def test_overlap_passage_bridges_an_inserted_sentence_and_skips_the_same_force(tmp_path):
    # Corvandale copies Wendmere's paragraphs, inserts a sentence of its own and rewords one sentence;
    # Wendmere's own resubmission repeats its first plan, which is never reported.
    reworded = PARAGRAPH_TWO.replace("by the end of June 2010", "by the end of September 2010")
    inserted = "Corvandale will also buy two surveillance vehicles for this work in the spring."
    first = _plan(tmp_path, "wendmere-2009.md", "Wendmere Constabulary", f"{PARAGRAPH_ONE}\n\n{PARAGRAPH_TWO}")
    second = _plan(tmp_path, "wendmere-2010.md", "Wendmere Constabulary", f"{PARAGRAPH_ONE}\n\n{PARAGRAPH_TWO}")
    copier = _plan(tmp_path, "corvandale-2009.md", "Corvandale Police", f"{PARAGRAPH_ONE}\n\n{inserted} {reworded}")
    report = find_overlaps([first, second, copier], Config())
    assert [p.force for p in report.plans] == ["Wendmere Constabulary", "Wendmere Constabulary", "Corvandale Police"]
    pairs = [(p.a.path, p.b.path) for p in report.passages]
    assert pairs == [(first, copier), (second, copier)]  # never (first, second): one force
    passage = report.passages[0]
    assert MAX_GAP >= 1 and passage.sentences == 6 and passage.a.area == passage.b.area == "serious_organised_crime"
    assert passage.words == len((PARAGRAPH_ONE + " " + PARAGRAPH_TWO).split())
    assert inserted in passage.b.text and inserted not in passage.a.text
    assert 0.8 < passage.similarity < 1.0
    copier_soc = next(s for s in report.plans[2].sections if s.area == "serious_organised_crime")
    assert copier_soc.shared_with == (first, second) and copier_soc.reason
    assert copier_soc.words - copier_soc.shared_words == len(inserted.split())


@pytest.mark.parametrize("text, name, expected", [
    ("OSTERFELL CONSTABULARY\nPrepared by Osterfell Constabulary. Mutual aid from Brindleford Police.", "x.txt",
     ("osterfell", "Osterfell Constabulary")),
    ("Thames Reach Police Service plan. Thames Reach Police Authority approved it. The Chief Police Officers agreed.",
     "plan.pdf", ("thames reach", "Thames Reach Police")),
    ("A plan that names no force at all.", "dunbarrow-police-2010-v2.docx", ("dunbarrow", "dunbarrow")),
])
def test_overlap_force_from_the_text_or_the_file_name(text, name, expected):
    assert force_of(text, name) == expected


def test_overlap_force_from_file_and_unknown_way():
    assert force_of("Brindleford Police", "osterfell_2009.txt", "file") == ("osterfell", "osterfell")
    with pytest.raises(ConfigError):
        force_of("", "x", "title")


def test_overlap_sentences_split_at_line_breaks_and_full_stops():
    text = "First sentence here. Second one, by 31 March 2010.\n| a | b |\nThird (e.g. with a stop) ends? Yes. £5 more."
    assert split_sentences(text) == ["First sentence here.", "Second one, by 31 March 2010.", "| a | b |",
                                     "Third (e.g. with a stop) ends?", "Yes.", "£5 more."]


def test_overlap_cli_json_exit_codes(examples, tmp_path, capsys):
    folder = examples / "overlap"
    assert main(["overlap", str(folder), "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert set(data) == {"min_words", "similarity", "force_from", "plans", "passages"}
    assert [(p["a"]["force"], p["b"]["force"], p["words"]) for p in data["passages"]] == [
        ("Brindleford Police", "Osterfell Constabulary", 103), ("Brindleford Police", "Osterfell Constabulary", 78)]
    (tmp_path / "empty.txt").write_bytes(b"")
    assert main(["overlap", str(folder), str(tmp_path / "empty.txt")]) == 1
    captured = capsys.readouterr()
    assert "ERROR empty" in captured.out and "2 passage(s)" in captured.out
    assert "1 of 3 file(s) could not be read" in captured.err
    assert main(["overlap", str(folder), "--format", "xml"]) == 2
    assert main(["overlap", str(folder), "--min-words", "0"]) == 2
    assert main(["overlap", str(folder), "--force-from", "title"]) == 2


def test_score_shared_marks_each_section_with_the_plans_it_repeats(examples, tmp_path, capsys, monkeypatch):
    out = tmp_path / "scores.jsonl"
    assert main(["score", str(examples / "overlap"), str(examples / "resubmission"), "--shared", "-q",
                 "-o", str(out)]) == 0
    records = {r.path.rsplit("/", 1)[-1]: r for r in
               (Record.from_dict(json.loads(line)) for line in out.read_text(encoding="utf-8").splitlines())}
    assert set(records) == {"brindleford-2009.txt", "osterfell-2009.txt", "quillmoor-2009.md", "quillmoor-2010.md"}
    shares = {(name, a.area): (a.shared, tuple(p.rsplit("/", 1)[-1] for p in a.shared_with))
              for name, r in records.items() for a in r.areas if a.shared}
    # The same sections and shares as `plancheck overlap` finds; a force's own resubmission is not another force.
    assert shares == {("brindleford-2009.txt", "critical_incidents"): (1.0, ("osterfell-2009.txt",)),
                      ("brindleford-2009.txt", "civil_contingencies"): (1.0, ("osterfell-2009.txt",)),
                      ("osterfell-2009.txt", "critical_incidents"): (1.0, ("brindleford-2009.txt",)),
                      ("osterfell-2009.txt", "civil_contingencies"): (0.83, ("brindleford-2009.txt",))}
    osterfell = records["osterfell-2009.txt"]
    copied = osterfell.area("civil_contingencies")
    assert copied.mostly_shared and copied.needs_review and not copied.flagged  # the text itself is detailed
    assert copied.reasons[0].startswith("shared text: 83% of this section's words are shared with plans of other "
                                        "forces (brindleford-2009.txt)")
    assert "civil_contingencies" in osterfell.flagged_areas and osterfell.needs_review
    own = osterfell.area("public_order")
    assert own.shared == 0.0 and own.shared_with == () and not own.mostly_shared
    assert all(a.shared in (None, 0.0) for name in ("quillmoor-2009.md", "quillmoor-2010.md")
               for a in records[name].areas)
    # The table says which sections are copies, and why.
    assert main(["score", str(examples / "overlap"), "--shared", "-q"]) == 0
    table = capsys.readouterr().out
    assert "[COPY] civil_contingencies" in table and "shared with plans of other forces" in table
    # Without --shared nothing is compared and nothing is marked.
    assert main(["score", str(examples / "overlap"), "-q", "-f", "jsonl"]) == 0
    plain = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert all("shared" not in a for r in plain for a in r["areas"])
    # A fault in the comparison costs no record: they are written without shared_with, and the user is told.
    import plancheck.overlap

    def broken(records, *args, **kwargs):
        raise MemoryError("no room")

    monkeypatch.setattr(plancheck.overlap, "mark_shared", broken)
    assert main(["score", str(examples / "overlap"), "--shared", "-q", "-f", "jsonl"]) == 0
    captured = capsys.readouterr()
    assert len(captured.out.splitlines()) == 2 and "could not be compared (MemoryError: no room)" in captured.err
    # A batch is compared as a whole: --shared cannot resume half of one.
    assert main(["score", str(examples / "overlap"), "--shared", "--resume", "-o", str(out)]) == 2


# --- compare: records built by hand ----------------------------------------------------------

def _area(area, scores, flagged, text, evidence=None, p=None):
    return {"area": area, "headings": [area.replace("_", " ").title()], "pages": [1],
            "p_insufficient": p if p is not None else (0.9 if flagged else 0.05), "flagged": flagged,
            "criteria": dict(zip(CRITERIA, map(int, scores))), "reasons": [f"owner: vague - {area}"] if flagged else [],
            "evidence": evidence or {}, "text": text}


def _record(path, areas, missing):
    flagged = any(a["flagged"] for a in areas)
    return Record.from_dict({"path": path, "sha256": "0" * 64, "status": "scored", "error": None,
            "verdict": "needs_review" if flagged or missing else "sufficient",
            "p_insufficient": max(a["p_insufficient"] for a in areas), "missing_areas": missing, "areas": areas,
            "model": "test-model", "title": "Plan <b>&"})


VAGUE = "We will seek to improve where resources allow."
OWNER = "DCI Alun Brack will lead the team from 1 April 2010."
FUNDED = "The team of 8 officers is funded with GBP 300,000 a year."


@pytest.fixture
def hand_comparison():
    old = _record("old.md", [
        _area("serious_organised_crime", "11111111", True, f"{VAGUE} Progress will be monitored.",
              {"owner": [VAGUE], "actions": [VAGUE]}),
        _area("major_crime", "22222222", False, f"{OWNER} {FUNDED}", {"owner": [OWNER]}),
        _area("critical_incidents", "11011011", True, "Critical incidents are a priority. A review is planned."),
        _area("public_order", "22222212", False, f"Supt Cole will re-equip 6 units by 30 November 2009. {FUNDED}",
              {"resources": [FUNDED]}),
        _area("counter_terrorism", "22222222", False, "DCI Brack will add 4 ports officers by December 2009."),
    ], ["civil_contingencies", "roads_policing", "vulnerable_people"])
    new = _record("new.md", [
        _area("serious_organised_crime", "22222212", False, f"{OWNER} {FUNDED} Progress will be monitored.",
              {"owner": [OWNER], "actions": [OWNER], "resources": [FUNDED]}, p=0.02),
        _area("major_crime", "22222222", False, f"{OWNER} {FUNDED}", {"owner": [OWNER]}),
        _area("critical_incidents", "11111011", True, "Critical incidents are a priority. A review has begun."),
        _area("public_order", "22221010", True, "Public order is broadly satisfactory. <script>alert(1)</script>",
              {"resources": ["Public order is broadly satisfactory."]}),
        _area("civil_contingencies", "22222222", False, "Supt Greaves will rewrite the plan by 30 April 2010."),
    ], ["roads_policing", "vulnerable_people"])
    return compare_records(old, new)


def test_compare_area_statuses(hand_comparison):
    statuses = {a.area: a.status for a in hand_comparison.areas}
    assert statuses == {"serious_organised_crime": "closed", "major_crime": "still_sufficient",
                        "critical_incidents": "still_open", "civil_contingencies": "newly_present",
                        "public_order": "regressed", "roads_policing": "still_missing",
                        "vulnerable_people": "still_missing", "counter_terrorism": "newly_missing"}
    assert [a.area for a in hand_comparison.areas][:3] == ["serious_organised_crime", "major_crime", "critical_incidents"]
    assert hand_comparison.counts == {"closed": 1, "still_open": 1, "regressed": 1, "newly_missing": 1,
                                      "newly_present": 1, "still_missing": 2, "still_sufficient": 1}
    soc = hand_comparison.area("serious_organised_crime")
    assert (soc.p_before, soc.p_after, soc.label_before, soc.label_after) == (0.9, 0.02, "insufficient", "sufficient")
    ct = hand_comparison.area("counter_terrorism")
    assert (ct.label_before, ct.label_after, ct.p_after) == ("sufficient", "missing", None)


def test_compare_criteria_and_the_sentences_behind_each_change(hand_comparison):
    soc = hand_comparison.area("serious_organised_crime")
    owner = soc.criterion("owner")
    assert (owner.before, owner.after, owner.status) == (1, 2, "closed")
    assert owner.added == [OWNER] and owner.removed == [VAGUE]
    assert soc.criterion("measures").status == "still_open" and soc.criterion("assessment").status == "closed"
    assert soc.added == (OWNER, FUNDED) and soc.removed == (VAGUE,)  # "Progress will be monitored." was kept
    po = hand_comparison.area("public_order")
    assert [(c.criterion, c.before, c.after, c.status) for c in po.criteria if c.changed] == [
        ("timescales", 2, 1, "regressed"), ("resources", 2, 0, "regressed"), ("collaboration", 2, 0, "regressed")]
    assert po.criterion("resources").removed == [FUNDED]
    assert po.criterion("measures").status == "still_open"
    mc = hand_comparison.area("major_crime")
    assert mc.added == mc.removed == () and [e.change for e in mc.criterion("owner").evidence_after] == ["kept"]
    cc = hand_comparison.area("civil_contingencies")
    assert cc.criterion("owner").status is None and cc.added == ("Supt Greaves will rewrite the plan by 30 April 2010.",)
    ci = hand_comparison.area("critical_incidents")
    assert ci.added == ("A review has begun.",) and ci.removed == ("A review is planned.",)


def test_compare_json_table_and_html(hand_comparison):
    data = json.loads(json.dumps(hand_comparison.to_dict()))
    soc = data["areas"][0]
    assert soc["status"] == "closed" and soc["criteria"]["owner"] == {
        "before": 1, "after": 2, "status": "closed", "changed": True, "added": [OWNER], "removed": [VAGUE],
        "evidence_before": [{"sentence": VAGUE, "change": "removed"}],
        "evidence_after": [{"sentence": OWNER, "change": "added"}]}
    table = "\n".join(table_lines(hand_comparison))
    assert "serious_organised_crime  CLOSED" in table and f"+ '{OWNER}'" in table and f"- '{VAGUE}'" in table
    assert "1 closed, 1 still open, 1 regressed, 1 newly missing, 1 newly present, 2 still missing" in table
    page = render_html(hand_comparison)
    assert "<script" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "Plan &lt;b&gt;&amp;" in page
    assert "src=" not in page and "http" not in page and "@import" not in page  # nothing fetched
    assert f'<ins class="added">{OWNER}</ins>' in page and f'<del class="removed">{VAGUE}</del>' in page


# --- compare: the example resubmission, scored by the bundled model --------------------------

@pytest.fixture(scope="module")
def resubmission(examples):
    from plancheck.compare import compare_paths

    folder = examples / "resubmission"
    return compare_paths(folder / "quillmoor-2009.md", folder / "quillmoor-2010.md", Config())


def test_compare_example_resubmission(resubmission):
    statuses = {a.area: a.status for a in resubmission.areas}
    assert statuses == {"serious_organised_crime": "closed", "major_crime": "still_sufficient",
                        "critical_incidents": "still_open", "civil_contingencies": "newly_present",
                        "public_order": "regressed", "roads_policing": "closed", "vulnerable_people": "closed",
                        "counter_terrorism": "newly_missing"}
    assert resubmission.old["missing_areas"] == ["civil_contingencies"] and resubmission.new["missing_areas"] == []
    major = resubmission.area("major_crime")
    assert major.removed == ("A cold case review team of 1 DS and 3 DCs will start on 1 October 2009 and review the 7 "
                             "undetected homicides since 1995.",)
    assert major.added == ("The cold case review team of 1 DS and 3 DCs started on 1 October 2009 and has reviewed 2 "
                           "of the 7 undetected homicides since 1995; the remaining 5 will be reviewed by 30 September 2010.",)
    soc = resubmission.area("serious_organised_crime")
    assert soc.p_before > soc.p_after and soc.criterion("owner").status == "closed"
    assert soc.criterion("owner").added and all(e.change == "added" for e in soc.criterion("owner").evidence_after)
    regressed = resubmission.area("public_order")
    assert any(c.status == "regressed" and c.removed for c in regressed.criteria)


def test_compare_cli_formats_and_exit_codes(examples, tmp_path, capsys):
    folder = examples / "resubmission"
    old, new = str(folder / "quillmoor-2009.md"), str(folder / "quillmoor-2010.md")
    assert main(["compare", old, new, "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert {a["area"]: a["status"] for a in data["areas"]}["civil_contingencies"] == "newly_present"
    page = tmp_path / "compare.html"
    assert main(["compare", old, new, "--format", "html", "-o", str(page)]) == 0
    assert page.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert main(["compare", old, new, "--format", "xml"]) == 2
    shutil.copy(old, tmp_path / "copy.md")
    (tmp_path / "empty.md").write_bytes(b"")
    assert main(["compare", str(tmp_path / "copy.md"), str(tmp_path / "empty.md")]) == 1
    assert "empty.md: is empty" in capsys.readouterr().err
