"""The command line: formats, record fields, exit codes, help with examples."""
from __future__ import annotations

import csv
import json
import shutil

import pytest

from plancheck.cli import app, main

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
    assert "timescales.deadline" in capsys.readouterr().out


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
