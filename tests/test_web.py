"""The workbench's routes: national picture, plan pages, grading, models, uploads, and its safety
(CSRF, path traversal, token, Host check, size limits, error pages). No model is needed: records
are made by hand (tests/webdata.py)."""
from __future__ import annotations

import csv
import io
import json
import os
import re
import shutil
import warnings
from pathlib import Path

import pytest

import webdata
from plancheck.cli import main
from plancheck.config import Config
from plancheck.record import Record
from plancheck.rubric import CRITERIA
from plancheck.web import is_loopback
from plancheck.web.app import create_app
from plancheck.web.batches import REVIEWS_FILE
from plancheck.web.learning import kappa, queue
from plancheck.web.security import CSRF_COOKIE

with warnings.catch_warnings():
    # Starlette announces a future move of its test client; the client itself is unchanged.
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

BASE = "http://127.0.0.1:8765"


def read_csv(path: Path) -> list[dict]:
    return list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))))


def client_for(app, **kw) -> TestClient:
    return TestClient(app, base_url=kw.pop("base_url", BASE), raise_server_exceptions=False, **kw)


@pytest.fixture
def client(served) -> TestClient:
    app = create_app([served["scores"].parent, served["triaged"]], corpus=served["corpus"],
                     config=Config(model_dir=str(served["tmp"] / "models")))
    return client_for(app)


def csrf_of(client: TestClient, url: str = "/") -> str:
    page = client.get(url)
    assert page.status_code == 200
    token = re.search(r'name="csrf" value="([^"]+)"', page.text)
    return token.group(1) if token else client.cookies.get(CSRF_COOKIE)


def plan_links(html: str) -> dict[str, str]:
    """Force name -> plan page link, from the matrix."""
    return {m.group(2): m.group(1) for m in re.finditer(r'<th scope="row"><a class="force" href="(/plan/[^"]+)">([^<]+)</a>', html)}


def stourholme(client: TestClient) -> str:
    return plan_links(client.get("/").text)["Stourholme"]


# -- the national picture ------------------------------------------------------------------------

def test_web_national_matrix_states_and_headline(client):
    page = client.get("/")
    assert page.status_code == 200
    html = page.text
    assert set(plan_links(html)) == {"Ashvale", "Brenford", "Corrin", "Dunmere", "Stourholme"}
    # Brenford's roads policing: flagged, with p and failing criteria in the text and on hover.
    cell = re.search(r'<td class="cell st-flagged" data-area="roads_policing"[^>]*title="([^"]+)">(.*?)</td>', html)
    assert cell and "p(insufficient) 0.55" in cell.group(1) and "owner" in cell.group(1)
    assert "flagged p=0.55: actions, owner, timescales" in cell.group(2)
    assert html.count('data-state="missing"') == 4  # Corrin 2, Stourholme 2
    assert html.count('data-state="unreadable"') == 7  # Dunmere: every area
    assert 'id="plans-share">25%' in html  # 1 of 4 plans read is sufficient
    assert "of required or present areas sufficient: 21 of 28" in html
    assert 'aria-label="owner ' in html  # a bar per criterion


@pytest.mark.parametrize("query, forces", [
    ("verdict=sufficient", {"Ashvale"}),
    ("verdict=unreadable", {"Dunmere"}),
    ("area=roads_policing&state=missing", {"Corrin", "Stourholme"}),
    ("area=roads_policing&state=flagged", {"Brenford"}),
    ("state=flagged", {"Brenford", "Stourholme"}),
])
def test_web_national_filters(client, query, forces):
    page = client.get(f"/?{query}")
    assert page.status_code == 200
    assert set(plan_links(page.text)) == forces


def test_web_national_area_filter_shows_one_column(client):
    html = client.get("/?area=major_crime").text
    assert set(re.findall(r'<td class="cell [^"]+" data-area="([^"]+)"', html)) == {"major_crime"}


def test_web_national_sort(client):
    html = client.get("/?sort=p&dir=desc").text
    assert list(plan_links(html)) == ["Stourholme", "Brenford", "Ashvale", "Corrin", "Dunmere"]
    html = client.get("/?sort=force&dir=desc").text
    assert list(plan_links(html))[0] == "Stourholme"


def test_web_national_batch_filter(client):
    html = client.get("/").text
    batches = re.findall(r'<option value="([0-9a-f]{10})"', html)
    assert len(batches) == 2
    counts = sorted(len(plan_links(client.get(f"/?batch={b}").text)) for b in batches)
    assert counts == [1, 4]


def test_web_national_csv_export(client):
    response = client.get("/national.csv?verdict=needs_review")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert {r["force"] for r in rows} == {"Brenford", "Corrin", "Stourholme"}
    roads = next(r for r in rows if r["force"] == "Brenford" and r["area"] == "roads_policing")
    assert roads["state"] == "flagged" and roads["p_insufficient"] == "0.550" and "owner" in roads["failing_criteria"]


def test_web_summary_cli_html_and_csv(served, tmp_path, capsys):
    out = tmp_path / "national.html"
    assert main(["summary", str(served["scores"]), "-o", str(out)]) == 0
    html = out.read_text(encoding="utf-8")
    assert "<script>" in html and "<style>" in html and 'href="/static' not in html  # self-contained
    assert "flagged p=0.55" in html and "Dunmere" in html and "data-standalone" in html
    assert main(["summary", str(served["scores"]), "--format", "csv"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert len(rows) == 4 * 7 and {r["state"] for r in rows} == {"sufficient", "flagged", "missing", "unreadable"}


def test_web_summary_cli_refuses_a_file_without_records(tmp_path, capsys):
    empty = tmp_path / "nothing.jsonl"
    empty.write_text("not json\n", encoding="utf-8")
    assert main(["summary", str(empty), "-o", str(tmp_path / "x.html")]) == 1
    assert "no scored plans found" in capsys.readouterr().err


def test_web_national_1000_plans(tmp_path):
    webdata.write_scores(tmp_path / "big" / "scores.jsonl", webdata.many_records(1000))
    client = client_for(create_app([tmp_path / "big"]))
    html = client.get("/").text
    assert html.count('<tr data-verdict=') == 1000


# -- a plan --------------------------------------------------------------------------------------

def test_web_plan_page_sections_evidence_and_links(client):
    page = client.get(stourholme(client))
    assert page.status_code == 200
    html = page.text
    assert "Threshold</dt><dd>0.400" in html and 'href="/models/plancheck-test"' in html
    assert re.search(r'<mark class="m-(specific|vague|absent)" title="owner: [a-z]+">', html)
    assert '<sup class="tag">owner</sup>' in html
    assert 'id="s-major_crime"' in html and 'href="#s-critical_incidents">next' in html
    assert "civil_contingencies" in html  # missing areas listed
    original = re.search(r'<a href="(/files/\d+/[^"]+)">the original file</a>', html).group(1)
    served_file = client.get(original)
    assert served_file.status_code == 200 and "LEVEL 2 AND 3 CRIMINALITY" in served_file.text
    assert served_file.headers["content-security-policy"].startswith("sandbox")


def test_web_plan_page_of_an_unreadable_plan(client):
    html = client.get(plan_links(client.get("/").text)["Dunmere"]).text
    assert "The plan could not be read" in html and "no_text" in html


def test_web_unknown_plan_is_404(client):
    assert client.get("/plan/0000000000/000000000000").status_code == 404


# -- review and grade ----------------------------------------------------------------------------

def grade_form(csrf: str, area: str, scores, note: str = "", reviewer: str = "J Smith", force: str = "Stourholme") -> dict:
    return {"csrf": csrf, "area": area, **dict(zip(CRITERIA, map(str, scores))), "note": note, "reviewer": reviewer,
            "force": force}


def test_web_review_saves_versions_and_grades_the_corpus(client, served):
    url = stourholme(client)
    csrf = csrf_of(client, url)
    first = client.post(url + "/review", data=grade_form(csrf, "major_crime", (2,) * 8, "all there"),
                        follow_redirects=False)
    assert first.status_code == 303
    page = client.get(first.headers["location"]).text
    assert "Saved version 1 of the major_crime grade by J Smith: sufficient" in page
    assert "owner 0 -&gt; 2" in page  # what changed from the model
    labels = read_csv(served["corpus"] / "labels.csv")
    assert [(r["document"], r["area"], r["label"], r["grader"]) for r in labels] == [
        ("stourholme-2009.txt", "major_crime", "sufficient", "J Smith")]
    assert (served["corpus"] / "documents" / "stourholme-2009.txt").is_file()

    second = client.post(url + "/review", data=grade_form(csrf, "major_crime", (2, 2, 2, 2, 1, 2, 2, 2), "no date",
                                                          reviewer="A Other"), follow_redirects=False)
    assert second.status_code == 303
    page = client.get(url).text
    assert "Version 2," in page and "from version 1: timescales 2 -&gt; 1, label sufficient -&gt; insufficient" in page
    lines = [json.loads(x) for x in (served["triaged"] / REVIEWS_FILE).read_text().splitlines()]
    assert [(r["version"], r["reviewer"], r["label"]) for r in lines] == [
        (1, "J Smith", "sufficient"), (2, "A Other", "insufficient")]  # appended, never overwritten
    assert all(r["time"] for r in lines)
    assert lines[1]["corpus"]["status"] in ("replaced", "kept")
    labels = read_csv(served["corpus"] / "labels.csv")
    if lines[1]["corpus"]["status"] == "replaced":
        assert [(r["label"], r["grader"]) for r in labels] == [("insufficient", "A Other")]
        history = read_csv(served["corpus"] / "labels-history.csv")
        assert [(r["label"], r["grader"]) for r in history] == [("sufficient", "J Smith")]
    else:
        assert len(labels) == 1  # the corpus could not take the correction; the review file has it


def test_web_review_refuses_invalid_scores(client, served):
    url = stourholme(client)
    csrf = csrf_of(client, url)
    form = grade_form(csrf, "major_crime", (2, 2, 3, 2, 2, 2, 2, 2))
    response = client.post(url + "/review", data=form)
    assert response.status_code == 400
    assert "actions must be 0, 1 or 2" in response.text
    assert not (served["triaged"] / REVIEWS_FILE).exists()
    assert len((served["corpus"] / "labels.csv").read_text().splitlines()) == 1


def test_web_review_needs_a_reviewer(client, served):
    url = stourholme(client)
    response = client.post(url + "/review", data=grade_form(csrf_of(client, url), "major_crime", (2,) * 8, reviewer=" "))
    assert response.status_code == 400 and "reviewer" in response.text
    assert not (served["triaged"] / REVIEWS_FILE).exists()


def test_web_review_without_the_original_is_kept_in_the_review_file(client, served):
    url = plan_links(client.get("/").text)["Brenford"]  # a score file whose plans are not served
    response = client.post(url + "/review", data=grade_form(csrf_of(client, url), "roads_policing", (2,) * 8,
                                                            force="Brenford"), follow_redirects=True)
    assert response.status_code == 200
    assert "kept in plancheck-reviews.jsonl only" in response.text
    assert (served["scores"].parent / REVIEWS_FILE).is_file()


# -- what to grade next, agreement ---------------------------------------------------------------

def test_web_queue_orders_by_uncertainty_and_drops_reviewed(client):
    html = client.get("/next").text
    rows = re.findall(r'<tr><td>(\d+)</td><td>([^<]+)</td>', html)
    assert rows[0][1] == "Brenford"  # p 0.55 against threshold 0.40: the closest
    url = stourholme(client)
    before = html.count(">Stourholme<")
    client.post(url + "/review", data=grade_form(csrf_of(client, url), "major_crime", (1,) * 8))
    assert client.get("/next").text.count(">Stourholme<") == before - 1


def test_web_queue_function_prefers_uncertain_criteria():
    plans_dir = webdata.record("a.txt", [webdata.assessment("major_crime", webdata.GOOD, p=0.3),
                                         webdata.assessment("public_order", webdata.GOOD, p=0.3)])
    plans_dir["areas"][1]["p_specific"]["owner"] = 0.5
    from plancheck.web.batches import Batch, Plan

    plan = Plan(Batch("b", Path("/"), Path("/x.jsonl"), "scores"), "k", Record.from_dict(plans_dir), None, None, "A")
    items = queue([plan], set())
    assert [i.section.area for i in items] == ["public_order", "major_crime"]
    assert items[0].uncertain[0] == ("owner", 0.5)


def test_web_queue_brings_forward_what_the_blind_sets_show_to_be_weak():
    from types import SimpleNamespace

    from plancheck.web.batches import Batch, Plan
    from plancheck.web.learning import Weakness, layout_of

    table = "| action | owner | date |\n| a | DI Smith | May 2009 |\n| b | DCI Jones | June 2009 |\n"
    prose = " ".join(["The force will appoint a lead officer and report progress to the board each quarter."] * 6)
    assert [layout_of(t) for t in (table, prose, "- one\n- two\n- three", "Short entry: DI Smith by May.")] == [
        "table", "prose", "list", "short"]
    card = SimpleNamespace(name="m-1", metrics={"blind_dev_out_of_writer": {
        "criteria": {"owner": {"accuracy": 0.7}, "timescales": {"accuracy": 0.9}},
        "per_style": {"terse_table": {"n": 10, "accuracy": 0.6}, "tidy_prose": {"n": 30, "accuracy": 1.0},
                      "scorecard_rag": {"n": 10, "accuracy": 1.0}}}})
    weakness = Weakness.from_card(card)
    assert weakness.criteria == {"owner": 0.3, "timescales": 0.1}
    assert weakness.layouts == {"table": 0.2, "prose": 0.0}  # terse_table and scorecard_rag are both tables
    data = webdata.record("a.txt", [webdata.assessment("major_crime", webdata.GOOD, p=0.3),
                                    webdata.assessment("public_order", webdata.GOOD, p=0.3)])
    data["areas"][0]["text"], data["areas"][1]["text"] = prose, table
    plan = Plan(Batch("b", Path("/"), Path("/x.jsonl"), "scores"), "k", Record.from_dict(data), None, None, "A")
    plain = queue([plan], set())
    assert plain[0].priority == plain[1].priority and all(not i.weak for i in plain)  # equal without the card
    weighed = queue([plan], set(), weakness=weakness)
    assert [i.section.area for i in weighed] == ["public_order", "major_crime"]  # the table comes first
    assert weighed[0].weak == ("table layout: 20% of blind-dev labels wrong",)
    assert weighed[0].priority == pytest.approx(plain[0].priority - 0.25 * 0.2)


@pytest.mark.parametrize("pairs, expected", [
    ([(1, 1), (2, 2), (0, 0)], 1.0),
    ([(1, 2), (2, 1)], -1.0),
    ([(2, 2), (2, 2)], 1.0),
    ([(0, 0), (0, 1), (1, 0), (1, 1)], 0.0),
    ([], None),
])
def test_web_kappa(pairs, expected):
    assert kappa(pairs) == (pytest.approx(expected) if expected is not None else None)


def test_web_agreement_page(client):
    url = stourholme(client)
    csrf = csrf_of(client, url)
    client.post(url + "/review", data=grade_form(csrf, "major_crime", (1, 1, 1, 0, 1, 0, 0, 1), reviewer="A"))
    client.post(url + "/review", data=grade_form(csrf, "major_crime", (2,) * 8, reviewer="B"))
    client.post(url + "/review", data=grade_form(csrf, "public_order", (2,) * 8, reviewer="A"))
    html = client.get("/agreement").text
    assert "2 section(s) reviewed by 2 reviewer(s)" in html
    assert "<strong>sufficient / insufficient</strong>" in html  # B's latest major_crime grade against the model
    assert "A / B" in html  # the two reviewers of major_crime differ


# -- models --------------------------------------------------------------------------------------

def test_web_models_page_without_models(client):
    html = client.get("/models").text
    assert "No models yet" in html


def test_web_promote_unknown_model_says_why(client):
    csrf = csrf_of(client, "/models")
    response = client.post("/models/promote", data={"csrf": csrf, "name": "no-such-model"}, follow_redirects=True)
    assert response.status_code == 200 and "no-such-model was not promoted" in response.text
    response = client.post("/models/rollback", data={"csrf": csrf}, follow_redirects=True)
    assert "Nothing was rolled back" in response.text


def test_web_model_card_page(tmp_path, served):
    from plancheck.card import _card_checksum

    models = tmp_path / "models"
    models.mkdir()
    card = {"name": "plancheck-9", "created": "2026-12-01", "threshold": {"value": 0.4, "rule": "r"},
            "metrics": {"test": {"label": {"f1": 0.9, "recall": 0.95, "roc_auc": 0.97}, "criteria": {"macro_f1": 0.8}}},
            "libraries": {},
            "promotion": {"why": "f1 0.900 < 0.945"}, "artefact": "plancheck-9.npz"}
    card["card_sha256"] = _card_checksum(card)
    (models / "plancheck-9.card.json").write_text(json.dumps(card), encoding="utf-8")
    client = client_for(create_app([served["scores"]], config=Config(model_dir=str(models))))
    listing = client.get("/models").text
    assert "plancheck-9" in listing and "f1 0.900 &lt; 0.945" in listing and "0.900" in listing
    page = client.get("/models/plancheck-9")
    assert page.status_code == 200 and "<h1>Model card: plancheck-9</h1>" in page.text
    assert client.get("/models/..%2F..%2Fetc%2Fpasswd").status_code in (400, 404)


# -- upload --------------------------------------------------------------------------------------

class FakeScorer:
    """Stands in for a loaded model: scores any file as one sufficient section."""

    name = "plancheck-fake"

    def score_path(self, path: str) -> Record:
        rec = webdata.record(path, [webdata.assessment("major_crime", text=Path(path).read_text())])
        rec["worker_pid"] = os.getpid()
        return Record.from_dict(rec)


def upload_client(served, **config) -> TestClient:
    app = create_app([served["tmp"] / "up"], config=Config(model_dir=str(served["tmp"] / "models"), **config),
                     scorer_loader=FakeScorer)
    return client_for(app)


def test_web_upload_scores_in_a_worker(served):
    (served["tmp"] / "up").mkdir()
    client = upload_client(served)
    csrf = csrf_of(client, "/upload")
    response = client.post("/upload", data={"csrf": csrf},
                           files={"plan": ("../../Evil Plan.txt", b"Major crime\n\nThe MIT will grow.\n", "text/plain")})
    assert response.status_code == 200 and "was uploaded and scored: sufficient" in response.text
    stored = served["tmp"] / "up" / "uploads" / "Evil Plan.txt"
    assert stored.is_file()  # the name's folders were dropped
    record = json.loads(Path(f"{stored}.json").read_text())
    assert record["worker_pid"] != os.getpid()  # scored in the isolated worker


@pytest.mark.parametrize("name, data, message", [
    ("plan.exe", b"MZ...", "plancheck reads"),
    ("plan.pdf", b"not a pdf at all", "is not a .pdf file"),
    ("plan.txt", b"", "the file is empty"),
    ("plan.txt", b"\xff\xfe\xfa bad", "is not UTF-8 text"),
])
def test_web_upload_refuses_bad_files(served, name, data, message):
    (served["tmp"] / "up").mkdir()
    client = upload_client(served)
    response = client.post("/upload", data={"csrf": csrf_of(client, "/upload")}, files={"plan": (name, data)})
    assert message in response.text
    assert not (served["tmp"] / "up" / "uploads").exists() or not any((served["tmp"] / "up" / "uploads").iterdir())


def test_web_upload_size_limit(served):
    (served["tmp"] / "up").mkdir()
    client = upload_client(served, max_file_bytes=1000)
    response = client.post("/upload", data={"csrf": csrf_of(client, "/upload")}, files={"plan": ("p.txt", b"x" * 5000)})
    assert response.status_code == 200 and "more than the limit of 1,000 bytes" in response.text
    response = client.post("/upload", data={"csrf": csrf_of(client, "/upload")},
                           files={"plan": ("p.txt", b"x" * 200_000)})
    assert response.status_code == 413


# -- safety --------------------------------------------------------------------------------------

def post_routes(app) -> list[str]:
    return [r.path for r in app.routes if "POST" in (getattr(r, "methods", None) or ())]


def test_web_every_form_needs_its_csrf_token(client, served):
    url = stourholme(client)
    paths = [p.replace("/plan/{batch}/{key}", url) for p in post_routes(client.app)]
    assert len(paths) >= 4
    for path in paths:
        assert client.post(path, data={"area": "major_crime"}).status_code == 403, path
        assert client.post(path, data={"csrf": "forged" * 8}).status_code == 403, path
    assert not (served["triaged"] / REVIEWS_FILE).exists()


def test_web_forms_from_another_site_are_refused(client):
    url = stourholme(client)
    csrf = csrf_of(client, url)
    response = client.post(url + "/review", data=grade_form(csrf, "major_crime", (2,) * 8),
                           headers={"origin": "http://evil.example"})
    assert response.status_code == 403


@pytest.mark.parametrize("path", [
    "/files/0/../../../../etc/passwd",
    "/files/0/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
    "/files/0/..%2f..%2f..%2fetc%2fpasswd",
    "/files/0//etc/passwd",
    "/files/1/needs-review/../../corpus/labels.csv",
    "/files/7/anything",
    "/static/../app.py",
    "/static/%2e%2e/app.py",
])
def test_web_no_path_leaves_the_served_folders(client, path):
    response = client.get(path)
    assert response.status_code == 404
    assert "root:" not in response.text and "document,force" not in response.text


def test_web_symlink_out_of_a_served_folder_is_refused(client, served):
    outside = served["tmp"] / "secret.txt"
    outside.write_text("secret", encoding="utf-8")
    (served["triaged"] / "passed" / "link.txt").symlink_to(outside)
    index = client.app.state.folders.roots.index(served["triaged"].resolve())
    assert client.get(f"/files/{index}/passed/link.txt").status_code == 404


def test_web_token_required_off_loopback(served):
    app = create_app([served["scores"]], token="s3cret-token", host="0.0.0.0")
    client = client_for(app, base_url="http://192.0.2.10:8765")
    assert client.get("/").status_code == 401
    assert client.get("/", headers={"authorization": "Bearer wrong"}).status_code == 401
    moved = client.get("/?token=s3cret-token&verdict=sufficient", follow_redirects=False)
    assert moved.status_code == 303 and moved.headers["location"] == "/?verdict=sufficient"
    assert client.get("/").status_code == 200  # the token is now a cookie
    fresh = client_for(app, base_url="http://192.0.2.10:8765")
    assert fresh.get("/", headers={"authorization": "Bearer s3cret-token"}).status_code == 200


def test_web_serve_makes_a_token_for_other_addresses(served, monkeypatch, capsys):
    import uvicorn

    seen = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: seen.update(app=app, **kw))
    assert main(["serve", str(served["scores"]), "--host", "0.0.0.0", "--port", "9999"]) == 0
    err = capsys.readouterr().err
    token = re.search(r"\?token=(\S+)", err).group(1)
    assert seen["host"] == "0.0.0.0" and seen["port"] == 9999
    client = client_for(seen["app"], base_url="http://192.0.2.10:9999")
    assert client.get("/").status_code == 401
    assert client.get("/", headers={"authorization": f"Bearer {token}"}).status_code == 200
    assert main(["serve", str(served["scores"])]) == 0
    assert "?token=" not in capsys.readouterr().err and seen["host"] == "127.0.0.1" and seen["port"] == 8765


@pytest.mark.parametrize("host, loopback", [("127.0.0.1", True), ("127.1.2.3", True), ("::1", True),
                                            ("localhost", True), ("0.0.0.0", False), ("192.168.1.5", False)])
def test_web_is_loopback(host, loopback):
    assert is_loopback(host) is loopback


def test_web_unknown_host_header_is_refused(client):
    assert client.get("/", headers={"host": "attacker.example"}).status_code == 400


def test_web_security_headers(client):
    response = client.get("/")
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    assert response.headers["x-content-type-options"] == "nosniff"
    assert "samesite=strict" in response.headers["set-cookie"].lower()


def test_web_an_error_in_one_request_gives_a_500_page_and_the_server_goes_on(client, monkeypatch):
    from plancheck.web import app as app_module

    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(app_module, "build", broken)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        response = client.get("/")
    assert response.status_code == 500 and "Something went wrong" in response.text and "boom" not in response.text
    monkeypatch.undo()
    assert client.get("/").status_code == 200


def test_web_serves_nothing_outside_given_folders(tmp_path):
    with pytest.raises(Exception, match="no such folder"):
        create_app([tmp_path / "missing"])


# -- retraining ----------------------------------------------------------------------------------

def test_web_retrain_runs_in_a_subprocess_and_shows_its_lines(served):
    import sys

    script = "import time\nfor i in range(3):\n    print(f'step {i}', flush=True)\n    time.sleep(0.05)\nprint('plancheck-2 is now current')"
    app = create_app([served["scores"]], train_command=[sys.executable, "-c", script])
    client = client_for(app)
    assert "State: <strong id=\"train-state\">idle" in client.get("/train").text
    response = client.post("/train", data={"csrf": csrf_of(client, "/train")}, follow_redirects=False)
    assert response.status_code == 303
    log = client.get("/train/log")  # streams until the training has ended (its state is no longer running)
    assert log.text.splitlines() == ["step 0", "step 1", "step 2", "plancheck-2 is now current"]
    page = client.get("/train").text
    assert "finished" in page and "plancheck-2 is now current" in page and "(exit 0)" in page


def test_web_retrain_failure_is_shown(served):
    import sys

    app = create_app([served["scores"]], train_command=[sys.executable, "-c", "import sys; print('no corpus'); sys.exit(1)"])
    client = client_for(app)
    client.post("/train", data={"csrf": csrf_of(client, "/train")})
    assert client.get("/train/log").text == "no corpus\n"
    page = client.get("/train").text
    assert "failed" in page and "(exit 1)" in page


def test_web_promote_and_roll_back_a_real_model(models_copy, served):
    from plancheck.card import current_name, load_model
    from plancheck.errors import ModelError

    try:
        name = current_name(models_copy)
        load_model(name, models_copy)
    except ModelError as exc:
        pytest.skip(f"no loadable bundled model to promote: {exc.message}")
    if name is None:
        pytest.skip("the bundled models/ has no current model")
    # A second model: the same arrays under another name, its card re-signed as training would.
    from plancheck.card import _card_checksum

    card = json.loads((models_copy / f"{name}.card.json").read_text())
    card["name"], card["artefact"] = "plancheck-77", "plancheck-77.npz"
    card["card_sha256"] = _card_checksum(card)
    (models_copy / "plancheck-77.npz").write_bytes((models_copy / f"{name}.npz").read_bytes())
    (models_copy / "plancheck-77.card.json").write_text(json.dumps(card))
    client = client_for(create_app([served["scores"]], config=Config(model_dir=str(models_copy))))
    csrf = csrf_of(client, "/models")
    page = client.post("/models/promote", data={"csrf": csrf, "name": "plancheck-77"}, follow_redirects=True).text
    assert f"plancheck-77 is now current (was {name})" in page and "promoted by hand" in page
    page = client.post("/models/rollback", data={"csrf": csrf}, follow_redirects=True).text
    assert f"{name} is current again" in page and "rollback from plancheck-77" in page


def test_web_plan_of_a_score_file_reads_the_text_again_from_the_original(tmp_path):
    triaged = webdata.triage_folder(tmp_path)
    record = json.loads((triaged / "needs-review" / "stourholme-2009.txt.json").read_text())
    record["path"] = "plans/stourholme-2009.txt"  # relative to the score file's folder
    (tmp_path / "batch" / "plans").mkdir(parents=True)
    (triaged / "needs-review" / "stourholme-2009.txt").rename(tmp_path / "batch" / "plans" / "stourholme-2009.txt")
    webdata.write_scores(tmp_path / "batch" / "scores.jsonl", [record])  # texts left out, as score files do
    client = client_for(create_app([tmp_path / "batch"]))
    html = client.get(stourholme(client)).text
    assert "read again from the original file" in html
    assert re.search(r'<div class="text">.*?<mark class="m-', html, re.S)


def test_web_plan_of_a_score_file_without_its_original_lists_each_sentence_once(client):
    html = client.get(plan_links(client.get("/").text)["Brenford"]).text
    assert "score files leave it out" in html
    section = html.split('id="s-roads_policing"')[1].split("<section")[0]
    assert "Evidence for actions in roads_policing." not in section  # actions is vague there
    assert section.count("A vague line about actions.") == 1


def test_web_evidence_sentences_are_grouped_with_their_criteria():
    from plancheck.types import Assessment
    from plancheck.web.app import _by_sentence

    a = Assessment.from_dict(webdata.assessment("major_crime", webdata.VAGUE))
    a.evidence.clear()
    a.evidence.update({"owner": ["Shared line.", "Own line."], "timescales": ["Shared line."]})
    assert _by_sentence(a) == [("Shared line.", ["owner", "timescales"], 0), ("Own line.", ["owner"], 0)]


@pytest.mark.parametrize("same_bytes", [True, False])
def test_web_original_found_by_name_only_when_its_bytes_match(tmp_path, same_bytes):
    from plancheck.web.batches import Folders

    plans = tmp_path / "plans"
    plans.mkdir()
    source = webdata.EXAMPLES / "stourholme-2009.txt"
    data = source.read_bytes() if same_bytes else source.read_bytes() + b"\nchanged"
    (plans / "stourholme-2009.txt").write_bytes(data)
    import hashlib

    rec = webdata.record("/somewhere/else/stourholme-2009.txt", [webdata.assessment("major_crime")],
                         sha=hashlib.sha256(source.read_bytes()).hexdigest())
    webdata.write_scores(tmp_path / "scores" / "s.jsonl", [rec])
    plan = Folders([tmp_path / "scores", plans]).plans()[0]
    assert (plan.original == (plans / "stourholme-2009.txt").resolve()) is same_bytes


def test_web_plan_page_shows_text_shared_with_another_force(tmp_path, examples):
    batch = tmp_path / "batch"
    batch.mkdir()
    assert main(["score", str(examples / "overlap"), "--shared", "-q", "-o", str(batch / "scores.jsonl")]) == 0
    client = client_for(create_app([batch]))
    national = client.get("/").text
    html = client.get(plan_links(national)["Osterfell Constabulary"]).text
    section = html.split('id="s-civil_contingencies"')[1].split("<section")[0]
    assert "Shared text: 83% of this section's words also appear in <code>brindleford-2009.txt</code>" in section
    assert "mostly not this force's own text" in section
    assert "shared text: 83%" in section  # the reason, first among the section's reasons
    assert "Shared text" not in html.split('id="s-public_order"')[1].split("<section")[0]


@pytest.mark.parametrize("match_by", ["force", "file"])
def test_web_resubmission_is_compared_with_the_earlier_plan_of_its_force(tmp_path, examples, match_by):
    batch = tmp_path / "batch"
    shutil.copytree(examples / "resubmission", batch)
    assert main(["score", str(batch), "-q", "-f", "jsonl", "-o", str(batch / "scores.jsonl")]) == 0
    client = client_for(create_app([batch], match_by=match_by))
    urls = re.findall(r'<a class="force" href="(/plan/[^"]+)">', client.get("/").text)
    pages = {url: client.get(url).text for url in urls}  # one force, two plans: two rows
    later = next(html for html in pages.values() if "quillmoor-2010.md</h1>" in html)
    earlier = next(html for html in pages.values() if "quillmoor-2009.md</h1>" in html)
    assert "What changed since quillmoor-2009.md" in later and "What changed since" not in earlier
    compare_url = re.search(r'href="(/compare/[^"]+)"', later).group(1)
    page = client.get(compare_url)
    assert page.status_code == 200 and "sandbox" in page.headers["content-security-policy"]
    html = page.text
    assert "quillmoor-2009.md \u2192 quillmoor-2010.md" in html
    assert "closed" in html and "newly present" in html.replace("_", " ")  # civil contingencies is added in 2010
    assert 'href="/plan/' in html  # the way back to both plans
    earlier_url = next(url for url, h in pages.items() if h is earlier)
    assert client.get(earlier_url.replace("/plan/", "/compare/")).status_code == 404  # nothing came before it
