"""The command line: formats, record fields, exit codes, help with examples."""
from __future__ import annotations

import csv
import json
import shutil

import pytest

from plancheck.cli import app, main
from plancheck.record import Record

RECORD_FIELDS = {"path", "sha256", "status", "error", "verdict", "p_insufficient", "missing_areas", "areas", "model"}
AREA_FIELDS = {"area", "headings", "pages", "p_insufficient", "flagged", "criteria", "reasons", "evidence"}


@pytest.fixture
def batch(tmp_path, examples):
    folder = tmp_path / "batch"
    (folder / "sub").mkdir(parents=True)
    shutil.copy(examples / "hollowfield-2009.pdf", folder)
    shutil.copy(examples / "larkmere-2009.docx", folder / "sub")
    return folder


def test_cli_score_jsonl_records_and_exit_0(batch, tmp_path, capsys):
    out = tmp_path / "out.jsonl"
    assert main(["score", str(batch), "--format", "jsonl", "--output", str(out), "--jobs", "2", "-q"]) == 0
    records = [json.loads(l) for l in out.read_text().splitlines()]
    assert len(records) == 2
    for r in records:
        assert RECORD_FIELDS <= set(r) and r["status"] == "scored" and r["error"] is None
        assert r["verdict"] in ("needs_review", "sufficient") and r["model"]
        for a in r["areas"]:
            assert AREA_FIELDS <= set(a) and "text" not in a


def test_cli_score_failure_is_a_record_and_exit_1(batch, tmp_path, capsys):
    (batch / "broken.pdf").write_bytes(b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF")
    (batch / "empty.txt").write_bytes(b"")
    assert main(["score", str(batch), "--format", "json", "-q"]) == 1
    records = json.loads(capsys.readouterr().out)
    assert len(records) == 4
    errors = {r["path"].rsplit("/", 1)[1]: r["error"]["code"] for r in records if r["status"] == "error"}
    assert errors == {"broken.pdf": "unreadable", "empty.txt": "empty"}
    assert all(r["verdict"] is None for r in records if r["status"] == "error")


def test_cli_score_csv_and_table(batch, capsys):
    assert main(["score", str(batch), "--format", "csv", "-q"]) == 0
    rows = list(csv.DictReader(capsys.readouterr().out.splitlines()))
    assert len(rows) == 2 and {"path", "sha256", "status", "verdict", "p_insufficient", "missing_areas"} <= set(rows[0])
    assert main(["score", str(batch / "sub" / "larkmere-2009.docx")]) == 0
    table = capsys.readouterr().out
    assert "NEEDS REVIEW" in table and "[FLAG]" in table and "- owner:" in table


def test_cli_usage_errors_exit_2(batch, capsys):
    assert main(["score", str(batch), "--format", "xml"]) == 2
    assert main(["score", str(batch), "--resume"]) == 2
    assert main(["no-such-verb"]) == 2


def test_cli_segment_json_shape(examples, capsys):
    assert main(["segment", str(examples / "stourholme-2009.txt"), "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert set(data) == {"path", "sections", "missing_areas"}
    assert data["missing_areas"] == ["civil_contingencies", "roads_policing"]
    assert {"area", "heading", "pages", "text"} <= set(data["sections"][0])


def test_cli_score_sections(tmp_path, capsys):
    src = tmp_path / "sections.jsonl"
    src.write_text("\n".join(json.dumps(x) for x in [
        {"id": "a", "text": "We will seek to improve our response where possible. Timescales are yet to be agreed."},
        {"id": "b", "area": "major_crime", "text": "Det Supt Head of Crime will recruit 6 DCs for the MIT by 31 March "
         "2010, funded with GBP 240,000 from the precept. Success is measured by the detection rate, reported "
         "quarterly to the Force Performance Board. The regional MIT collaboration with Brackenshire starts in April."},
    ]) + "\n")
    assert main(["score-sections", str(src)]) == 0
    out = [json.loads(l) for l in capsys.readouterr().out.splitlines()]
    assert [o["id"] for o in out] == ["a", "b"]
    assert {"id", "area", "p_insufficient", "flagged", "criteria", "reasons"} <= set(out[0])
    assert out[0]["flagged"] and not out[1]["flagged"]
    assert out[1]["area"] == "major_crime"


def test_cli_report_writes_self_contained_html(examples, tmp_path, capsys):
    out = tmp_path / "r.html"
    assert main(["report", str(examples / "larkmere-2009.docx"), "-o", str(out)]) == 0
    page = out.read_text()
    assert "<mark" in page and "http://" not in page and "https://" not in page


def test_cli_models_info_features(capsys):
    assert main(["models"]) == 0
    assert "*" in capsys.readouterr().out
    assert main(["info"]) == 0
    assert "Threshold" in capsys.readouterr().out
    assert main(["features"]) == 0
    out = capsys.readouterr().out
    assert "timescales\n" in out and "specific:" in out and "vague:" in out


def test_cli_every_verb_has_help_with_an_example():
    import typer

    group = typer.main.get_command(app)
    assert len(group.commands) >= 12
    for name, command in group.commands.items():
        assert "Example: plancheck" in (command.help or ""), name


def test_cli_score_never_reads_its_own_output(batch):
    out = batch / "scores.jsonl"
    assert main(["score", str(batch), "-f", "jsonl", "-o", str(out), "-q"]) == 0
    assert main(["score", str(batch), "-f", "jsonl", "-o", str(out), "--resume", "-q"]) == 0
    paths = [json.loads(line)["path"] for line in out.read_text().splitlines()]
    assert len(paths) == 2 and str(out) not in paths


# --- without the model: the command line's own behaviour, with the scoring stubbed ---------------

def _record(path, status="scored", flagged=True):
    """A record shaped as `score` writes it, with one area."""
    if status != "scored":
        return {"path": path, "sha256": None, "status": "error", "verdict": None, "p_insufficient": None,
                "error": {"code": "not_a_file", "message": f"{path}: cannot be opened (No such file or directory)"},
                "missing_areas": [], "areas": [], "model": "stub-1"}
    criteria = {c: 2 for c in ("assessment", "objectives", "actions", "owner", "timescales", "resources",
                               "measures", "collaboration")}
    criteria["owner"] = 1
    area = {"area": "major_crime", "headings": ["2. Major crime"], "pages": [1], "p_insufficient": 0.91,
            "flagged": flagged, "criteria": criteria, "reasons": ["owner: vague - 'a lead will be appointed'"],
            "evidence": {"owner": ["a lead will be appointed"]}, "text": "the section's text"}
    import hashlib
    from pathlib import Path

    sha256 = hashlib.sha256(Path(path).read_bytes()).hexdigest()
    return {"path": path, "sha256": sha256, "status": "scored", "error": None, "verdict": "needs_review",
            "p_insufficient": 0.91, "missing_areas": ["roads_policing"], "areas": [area], "model": "stub-1"}


@pytest.fixture
def stub_scoring(monkeypatch):
    """Score without a model: every readable path gives a fixed record, a missing one an error record."""
    import os

    import plancheck.cli

    def stream(paths, config, model):
        for p in paths:
            yield Record.from_dict(_record(p, "scored" if os.path.exists(p) else "error"))

    monkeypatch.setattr(plancheck.cli, "_score_stream", stream)
    return stream


def test_cli_version(capsys):
    from plancheck import __version__

    assert main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"plancheck {__version__}"


def test_cli_help_names_arguments_without_python_types(capsys):
    assert main(["score", "--help"]) == 0
    out = capsys.readouterr().out
    assert "<list[str]>" not in out and "PATH..." in out


@pytest.mark.parametrize("name,check", [
    ("out.csv", lambda text: next(csv.DictReader(text.splitlines()))["major_crime.owner"] == "1"),
    ("out.jsonl", lambda text: json.loads(text.splitlines()[0])["areas"][0]["criteria"]["owner"] == 1),
    ("out.json", lambda text: json.loads(text)[0]["verdict"] == "needs_review"),
    ("out.txt", lambda text: "NEEDS REVIEW" in text),
])
def test_cli_output_format_follows_the_file_extension(batch, tmp_path, stub_scoring, name, check):
    out = tmp_path / name
    assert main(["score", str(batch), "-o", str(out), "-q"]) == 0
    assert check(out.read_text())


@pytest.mark.parametrize("args,message", [
    (["-f", "table", "-o", "out.csv"], "--format table does not match --output out.csv"),
    (["-f", "jsonl", "-o", "out.json"], "use --format json"),
    (["-o", "out.dat"], "cannot tell the format"),
    (["-f", "xml"], "expected one of"),
])
def test_cli_output_format_that_contradicts_the_file_is_refused(batch, tmp_path, stub_scoring, capsys, monkeypatch,
                                                                  args, message):
    monkeypatch.chdir(tmp_path)
    assert main(["score", str(batch), *args, "-q"]) == 2
    assert message in capsys.readouterr().err
    assert not list(tmp_path.glob("out.*"))


def test_cli_csv_has_criterion_scores_and_reasons(batch, stub_scoring, capsys):
    assert main(["score", str(batch), "-f", "csv", "-q"]) == 0
    rows = list(csv.DictReader(capsys.readouterr().out.splitlines()))
    assert len(rows) == 2
    row = rows[0]
    assert row["major_crime.owner"] == "1" and row["major_crime.timescales"] == "2"
    assert row["major_crime.flagged"] == "yes" and row["major_crime.p_insufficient"] == "0.910"
    assert row["major_crime.reasons"] == "owner: vague - 'a lead will be appointed'"
    assert row["roads_policing.owner"] == ""  # an area the plan lacks: empty, not missing


def test_cli_csv_resume_appends_rows_without_a_second_header(batch, tmp_path, stub_scoring):
    out = tmp_path / "scores.csv"
    assert main(["score", str(batch / "hollowfield-2009.pdf"), "-o", str(out), "-q"]) == 0
    assert main(["score", str(batch), "-o", str(out), "--resume", "-q"]) == 0
    rows = list(csv.DictReader(out.read_text().splitlines()))
    assert sorted(r["path"].rsplit("/", 1)[1] for r in rows) == ["hollowfield-2009.pdf", "larkmere-2009.docx"]


def test_cli_csv_resume_refuses_a_file_with_other_columns(batch, tmp_path, stub_scoring, capsys):
    out = tmp_path / "scores.csv"
    out.write_text("path,sha256,status\nx.pdf,abc,scored\n")
    assert main(["score", str(batch), "-o", str(out), "--resume", "-q"]) == 1
    assert "other columns" in capsys.readouterr().err
    assert out.read_text() == "path,sha256,status\nx.pdf,abc,scored\n"


@pytest.mark.parametrize("args", [["--jobs", "0"], ["--timeout", "0"]])
def test_cli_bad_setting_from_a_flag_is_a_usage_error(batch, stub_scoring, args):
    assert main(["score", str(batch), *args]) == 2


def test_cli_unknown_setting_in_the_config_file_is_a_usage_error(batch, tmp_path, stub_scoring, capsys):
    config = tmp_path / "plancheck.toml"
    config.write_text("[plancheck]\ntimout = 30\n")
    assert main(["score", str(batch), "--config", str(config)]) == 2
    assert "unknown setting(s) ['timout']" in capsys.readouterr().err


def test_cli_score_missing_file_says_so(tmp_path, stub_scoring, capsys):
    missing = tmp_path / "missing.pdf"
    assert main(["score", str(missing), "-f", "jsonl", "-o", str(tmp_path / "o.jsonl")]) == 1
    err = capsys.readouterr().err
    assert f"{missing}: no such file or folder" in err
    assert "not_a_file" in err and "1 of 1 file(s) could not be scored" in err


def test_cli_score_empty_folder_says_so(tmp_path, stub_scoring, capsys):
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / ".hidden").write_text("x")
    assert main(["score", str(empty)]) == 1
    err = capsys.readouterr().err
    assert f"{empty}: holds no files to score" in err and "nothing to score" in err


@pytest.mark.parametrize("make", [lambda p: None, lambda p: p.mkdir()])
def test_cli_report_of_a_missing_file_writes_no_report(tmp_path, stub_scoring, capsys, make):
    plan = tmp_path / "nope.pdf"
    make(plan)
    out = tmp_path / "nope.html"
    assert main(["report", str(plan), "-o", str(out)]) == 1
    assert not out.exists() and "no report written" in capsys.readouterr().err


def test_cli_demo_exits_like_score(tmp_path, stub_scoring, monkeypatch, capsys):
    import shutil as _shutil

    import plancheck.card

    folder = tmp_path / "examples"
    folder.mkdir()
    (folder / "plan.txt").write_text("a plan")
    (folder / "broken.pdf").symlink_to(tmp_path / "gone.pdf")  # a dangling link: an error record
    monkeypatch.setattr(plancheck.card, "current_name", lambda directory: "stub-1")
    monkeypatch.setattr(_shutil, "which", lambda name: None)  # plancheck is not on PATH
    assert main(["score", str(folder), "-q"]) == 1
    capsys.readouterr()
    assert main(["demo", str(folder)]) == 1
    captured = capsys.readouterr()
    assert "1 of 2 file(s) could not be scored" in captured.err
    assert "Try: plancheck report" not in captured.out and "bin/plancheck report" in captured.out


@pytest.mark.parametrize("area", ["finance", "Major Crime", 7])
def test_cli_score_sections_refuses_an_unknown_area(tmp_path, capsys, area):
    src = tmp_path / "sections.jsonl"
    src.write_text(json.dumps({"id": "a", "text": "Some text."}) + "\n"
                   + json.dumps({"id": "b", "area": area, "text": "Other text."}) + "\n")
    out = tmp_path / "judged.jsonl"
    assert main(["score-sections", str(src), "-o", str(out)]) == 1
    assert f"{src} line 2: unknown area {area!r}" in capsys.readouterr().err
    assert not out.exists()


def test_cli_score_sections_names_a_line_that_is_not_utf8(tmp_path, capsys):
    src = tmp_path / "sections.jsonl"
    src.write_bytes(b'{"id": "a", "text": "ok"}\n{"id": "b", "text": "caf\xe9"}\n')
    assert main(["score-sections", str(src)]) == 1
    assert f"{src} line 2: not UTF-8" in capsys.readouterr().err


def test_cli_grade_shows_the_changes_and_replace_keeps_history(tmp_path, root, examples, capsys):
    import shutil as _shutil

    corpus = tmp_path / "corpus"
    (corpus / "documents").mkdir(parents=True)
    _shutil.copy(root / "corpus" / "split.csv", corpus)
    lines = (root / "corpus" / "labels.csv").read_text().splitlines(keepends=True)
    (corpus / "labels.csv").write_text(lines[0])
    grades = tmp_path / "g.csv"
    header = "area,assessment,objectives,actions,owner,timescales,resources,measures,collaboration\n"
    grades.write_text(header + "major_crime,2,2,2,1,2,2,2,2\n")
    args = ["grade", str(examples / "stourholme-2009.txt"), "--grades", str(grades), "--grader", "J Smith",
            "--force-name", "Stourholme Constabulary", "--corpus", str(corpus)]
    assert main(args) == 0
    assert "major_crime: graded insufficient" in capsys.readouterr().err
    grades.write_text(header + "major_crime,2,2,2,2,2,2,2,2\n")
    assert main(args) == 1
    assert f"{grades} line 2: duplicate grade: major_crime of stourholme-2009.txt is already graded" in capsys.readouterr().err
    assert main(args + ["--replace"]) == 0
    err = capsys.readouterr().err
    assert "major_crime: replaces the grade of" in err and "owner 1 -> 2" in err
    assert "labels-history.csv" in err and (corpus / "labels-history.csv").is_file()
