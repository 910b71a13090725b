"""The dask backend on a LocalCluster of two worker processes: the records of a local run, a
worker killed mid-batch loses nothing, a hostile file costs one record and no Dask worker."""
from __future__ import annotations

import csv
import json
import os
import shutil
import signal
from pathlib import Path

import pytest

distributed = pytest.importorskip("distributed")

import hostile  # noqa: E402
from plancheck.cli import main  # noqa: E402
from plancheck.config import default_models  # noqa: E402
from plancheck.runner import collect_paths  # noqa: E402

pytestmark = [pytest.mark.slow, pytest.mark.english]

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


# --- worker plugins that stand in for what cannot be built as a file ------------------------------
# They are pickled by reference: the workers import this module (they inherit the test's sys.path).

class KillWorker(distributed.WorkerPlugin):
    """Kill the Dask worker process (SIGKILL) as a task for a file called ``name`` starts running.

    With ``marker``, only the first such start anywhere kills (the marker file is created
    exclusively); without it, every start does.
    """

    def __init__(self, name: str, marker: str | None = None):
        self.name_suffix, self.marker = f"-{name}", marker
        self.name = f"test-kill-{name}"

    def transition(self, key, start, finish, *args, **kwargs):
        if finish != "executing" or not str(key).endswith(self.name_suffix):
            return
        if self.marker:
            try:
                os.close(os.open(self.marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
            except FileExistsError:
                return
        os.kill(os.getpid(), signal.SIGKILL)


class BlockingReader(distributed.WorkerPlugin):
    """Make reading the file called ``hostile.BLOCKING_NAME`` block forever on this worker, as a
    reader stuck in a parser would (the forked readers inherit the patched function)."""

    name = "test-blocking-reader"

    def setup(self, worker) -> None:
        import threading

        import plancheck.score

        real = plancheck.score.read_document
        self.real = real

        def read_or_block(path, config):
            if Path(path).name == hostile.BLOCKING_NAME:
                threading.Event().wait()  # never set
            return real(path, config)

        plancheck.score.read_document = read_or_block

    def teardown(self, worker) -> None:
        import plancheck.score

        plancheck.score.read_document = self.real


def _reader_children() -> list[int]:
    """The ids of a Dask worker's child processes: its reader, kept between tasks, if it has one."""
    import psutil

    return sorted(p.pid for p in psutil.Process().children(recursive=True))


# --- fixtures ---------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def cluster():
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                                  dashboard_address="127.0.0.1:0") as local:
        yield local


@pytest.fixture(scope="module")
def client(cluster):
    with distributed.Client(cluster, set_as_default=False) as c:
        yield c


@pytest.fixture
def settings(tmp_path: Path) -> Path:
    return hostile.write_config(tmp_path / "plancheck.toml", model_dir=str(default_models()))


def _score(*args: str) -> int:
    return main(["score", *map(str, args), "--quiet"])


def _records(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def _canonical(records: list[dict]) -> list[str]:
    return sorted(json.dumps(r, sort_keys=True) for r in records)


# --- tests ------------------------------------------------------------------------------------------

def test_dask_records_equal_local_run(cluster, tmp_path, settings):
    local, remote = tmp_path / "local.jsonl", tmp_path / "dask.jsonl"
    code_local = _score(EXAMPLES, "-f", "jsonl", "-o", local, "--jobs", "2", "--config", settings)
    code_dask = _score(EXAMPLES, "-f", "jsonl", "-o", remote, "--config", settings,
                       "--backend", "dask", "--scheduler", cluster.scheduler_address)
    assert code_dask == code_local == 1  # the scanned example has no text: one error record
    assert sorted(r["path"] for r in _records(local)) == sorted(collect_paths([str(EXAMPLES)]))
    assert _canonical(_records(remote)) == _canonical(_records(local))


def test_dask_resume_skips_recorded_files(cluster, tmp_path, settings):
    out = tmp_path / "scores.jsonl"
    _score(EXAMPLES, "-f", "jsonl", "-o", out, "--config", settings, "--backend", "dask",
           "--scheduler", cluster.scheduler_address)
    lines = out.read_text(encoding="utf-8").splitlines(keepends=True)
    out.write_text("".join(lines[:3]) + lines[3][:20], encoding="utf-8")  # three records and a torn line
    code = _score(EXAMPLES, "-f", "jsonl", "-o", out, "--config", settings, "--resume", "--backend", "dask",
                  "--scheduler", cluster.scheduler_address)
    rescored = [json.loads(line) for line in lines[3:]]
    assert code == (1 if any(r["status"] != "scored" for r in rescored) else 0)  # as a local resume: this run's files
    records = _records(out)
    assert sorted(r["path"] for r in records) == sorted(collect_paths([str(EXAMPLES)]))
    assert _canonical(records) == _canonical([json.loads(line) for line in lines])


def test_dask_backend_starts_a_local_cluster_without_scheduler(tmp_path, settings):
    local, remote = tmp_path / "local.csv", tmp_path / "dask.csv"
    files = [EXAMPLES / "hollowfield-2009.pdf", EXAMPLES / "oakenvale-scan-2009.pdf"]
    assert _score(*files, "-f", "csv", "-o", local, "--config", settings) == 1
    assert _score(*files, "-f", "csv", "-o", remote, "--config", settings, "--backend", "dask", "--jobs", "2") == 1

    def rows(path: Path) -> list[dict]:
        with path.open(encoding="utf-8", newline="") as fh:
            return sorted(csv.DictReader(fh), key=lambda r: r["path"])

    assert rows(remote) == rows(local)
    assert [r["status"] for r in rows(remote)] == ["scored", "error"]


def test_dask_worker_killed_mid_batch_loses_nothing(cluster, client, tmp_path, settings):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    plans = [inbox / f"plan-{i:02d}.pdf" for i in range(10)]
    for plan in plans:
        plan.write_bytes(hostile.GOOD_PLAN.read_bytes())
    marker = tmp_path / "killed"
    before = set(client.run(os.getpid).values())
    plugin = KillWorker(plans[4].name, str(marker))
    client.register_plugin(plugin)
    try:
        out = tmp_path / "scores.jsonl"
        code = _score(inbox, "-f", "jsonl", "-o", out, "--config", settings, "--backend", "dask",
                      "--scheduler", cluster.scheduler_address)
    finally:
        client.unregister_worker_plugin(plugin.name)
    assert marker.exists(), "no worker was killed: the test proved nothing"
    client.wait_for_workers(2)
    assert set(client.run(os.getpid).values()) != before  # a worker process was replaced
    records = _records(out)
    assert sorted(r["path"] for r in records) == sorted(map(str, plans))  # each file once
    assert {r["status"] for r in records} == {"scored"}
    assert code == 0


def test_dask_task_that_keeps_killing_workers_is_an_error_record(cluster, client, tmp_path, settings):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    killer = inbox / "kills-workers.pdf"
    killer.write_bytes(hostile.GOOD_PLAN.read_bytes())

    def allow(dask_scheduler, failures):
        previous, dask_scheduler.allowed_failures = dask_scheduler.allowed_failures, failures
        return previous

    plugin = KillWorker(killer.name)
    client.register_plugin(plugin)
    previous = client.run_on_scheduler(allow, failures=0)  # the first death is one too many
    try:
        out = tmp_path / "scores.jsonl"
        code = _score(killer, "-f", "jsonl", "-o", out, "--config", settings, "--backend", "dask",
                      "--scheduler", cluster.scheduler_address)
    finally:
        client.run_on_scheduler(allow, failures=previous)
        client.unregister_worker_plugin(plugin.name)
    client.wait_for_workers(2)
    [record] = _records(out)
    assert record["path"] == str(killer)
    assert record["status"] == "error" and record["error"]["code"] == "worker_lost"
    assert code == 1


def test_dask_hostile_file_costs_one_record(cluster, client, tmp_path):
    inbox, outside = tmp_path / "inbox", tmp_path / "outside"
    inbox.mkdir()
    outside.mkdir()
    cases = hostile.build_inbox(inbox, outside)
    config = hostile.write_config(tmp_path / "plancheck.toml", timeout=hostile.TIMEOUT, memory_mb=512,
                                  model_dir=str(default_models()))
    client.wait_for_workers(2)
    workers = client.run(os.getpid)
    plugin = BlockingReader()
    client.register_plugin(plugin)
    try:
        out = tmp_path / "scores.jsonl"
        code = _score(inbox, "-f", "jsonl", "-o", out, "--config", config, "--backend", "dask",
                      "--scheduler", cluster.scheduler_address)
    finally:
        client.unregister_worker_plugin(plugin.name)
    records = _records(out)
    assert sorted(r["path"] for r in records) == sorted(cases)  # one record per file
    for record in records:
        outcome = record["status"] if record["status"] == "scored" else record["error"]["code"]
        assert outcome in hostile.EXPECTED[cases[record["path"]]], record
    assert code == 1
    assert client.run(os.getpid) == workers  # no Dask worker died or was replaced
    # No stuck reader was left behind: each worker (one thread) keeps at most the one it reads with.
    assert all(len(pids) <= 1 for pids in client.run(_reader_children).values())
    assert hostile.SECRET.decode() not in out.read_text(encoding="utf-8")


def test_dask_workers_keep_their_reader_between_tasks(cluster, client, tmp_path, settings):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    for i in range(6):
        (inbox / f"plan-{i}.pdf").write_bytes(hostile.GOOD_PLAN.read_bytes())
    client.wait_for_workers(2)
    runs = []
    for n in range(2):
        out = tmp_path / f"scores-{n}.jsonl"
        assert _score(inbox, "-f", "jsonl", "-o", out, "--config", settings, "--backend", "dask",
                      "--scheduler", cluster.scheduler_address) == 0
        assert {r["status"] for r in _records(out)} == {"scored"}
        runs.append(client.run(_reader_children))
    # One reader per worker (one thread each), forked once and used for every later task, in both batches.
    assert all(len(pids) <= 1 for run in runs for pids in run.values())
    assert any(runs[0].values())
    for worker, pids in runs[0].items():
        assert set(pids) <= set(runs[1][worker])


def _routed(out: Path) -> dict[str, list[str]]:
    """Where triage put each file, and the verdict in each record beside it."""
    routed = {}
    for folder in ("needs-review", "passed", "unreadable"):
        for record in sorted((out / folder).glob("*.json")):
            data = json.loads(record.read_text(encoding="utf-8"))
            routed[record.name] = [folder, data["status"], data["verdict"], data["sha256"]]
    return routed


def test_dask_triage_routes_as_a_local_triage(cluster, tmp_path, settings):
    runs = {}
    for backend in ("local", "dask"):
        inbox, out = tmp_path / f"inbox-{backend}", tmp_path / f"out-{backend}"
        shutil.copytree(EXAMPLES, inbox, ignore=shutil.ignore_patterns("overlap", "resubmission"))
        args = ["triage", str(inbox), "--out", str(out), "--config", str(settings), "--interval", "0.2"]
        if backend == "dask":
            args += ["--backend", "dask", "--scheduler", cluster.scheduler_address]
        assert main(args) == 0
        assert not [p for p in inbox.iterdir() if p.is_file()]  # every submission was taken
        runs[backend] = _routed(out)
    assert len(runs["local"]) == 4 and runs["dask"] == runs["local"]
    assert runs["dask"]["oakenvale-scan-2009.pdf.json"][:2] == ["unreadable", "error"]
    assert main(["triage", str(tmp_path), "--out", str(tmp_path / "x"), "--scheduler", "tcp://h:1"]) == 2
