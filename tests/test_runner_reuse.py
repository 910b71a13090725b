"""runner.Reader: one isolated reader process kept for many files, replaced when a file kills it
or runs out of time, with the limits and named errors of runner.run; and run() itself after the
two were made to share that logic. Tasks and records here are plain tuples: the runner treats a
record as whatever the task returns."""
from __future__ import annotations

import os
import signal
import threading
import time

import pytest

from plancheck.config import Config
from plancheck.runner import Reader, run

# Long enough for a trivial task on a busy machine; a hanging task waits this out once per test.
TIMEOUT = 3.0


def task(path: str):
    """What the reader does with a file, by its name."""
    if path == "crash":
        os._exit(3)  # a parser taking the process down
    if path == "hang":
        threading.Event().wait()  # never set
    if path == "allocate":
        bytearray(8 * 1024 ** 3)  # far beyond the memory cap
    if path == "raise":
        raise ValueError("bad table")
    return ("read", path, os.getpid())


def error(path: str, code: str, message: str):
    return ("error", path, code, message)


@pytest.fixture
def config() -> Config:
    return Config(timeout=TIMEOUT, memory_mb=256)


def _gone(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().split(") ")[-1].startswith("Z")  # a zombie is gone too
    except FileNotFoundError:
        return True


def test_reader_reuses_one_process_for_many_files(config):
    with Reader(task, error, config) as reader:
        assert reader.pid is None  # forked on the first file, not before
        records = [reader.read(f"plan-{i}.pdf") for i in range(5)]
        pid = reader.pid
    assert [r[:2] for r in records] == [("read", f"plan-{i}.pdf") for i in range(5)]
    assert {r[2] for r in records} == {pid}
    assert pid != os.getpid()
    assert _gone(pid)  # closed with the Reader


def test_reader_file_that_kills_it_costs_one_record_and_a_new_reader(config):
    with Reader(task, error, config) as reader:
        first = reader.read("a.pdf")
        crashed = reader.read("crash")
        after = reader.read("b.pdf")
    assert crashed[:3] == ("error", "crash", "limit_exceeded")
    assert "exit 3" in crashed[3]
    assert after[:2] == ("read", "b.pdf")
    assert after[2] != first[2]
    assert _gone(first[2])


def test_reader_timeout_costs_one_record_and_kills_the_stuck_reader(config):
    with Reader(task, error, config) as reader:
        first = reader.read("a.pdf")
        hung = reader.read("hang")
        assert _gone(first[2])  # the stuck reader is killed, not left behind
        assert reader.pid is None  # and no new one is forked until a file needs it
        after = reader.read("b.pdf")
    assert hung[:3] == ("error", "hang", "timeout")
    assert f"{TIMEOUT:g} s" in hung[3]
    assert after[:2] == ("read", "b.pdf") and after[2] != first[2]


def test_reader_memory_cap_and_exceptions_are_records_and_keep_the_reader(config):
    with Reader(task, error, config) as reader:
        first = reader.read("a.pdf")
        too_big = reader.read("allocate")
        raised = reader.read("raise")
        after = reader.read("b.pdf")
    assert too_big[:3] == ("error", "allocate", "limit_exceeded")
    assert raised[:3] == ("error", "raise", "unreadable") and "ValueError: bad table" in raised[3]
    assert after[2] == first[2]  # the reader survived both


def test_reader_killed_while_idle_is_replaced_without_blaming_the_next_file(config):
    with Reader(task, error, config) as reader:
        first = reader.read("a.pdf")
        os.kill(first[2], signal.SIGKILL)
        while not _gone(first[2]):  # SIGKILL is not instant; the reader is not reaped here
            time.sleep(0.01)
        after = reader.read("b.pdf")
    assert after[:2] == ("read", "b.pdf") and after[2] != first[2]


def test_reader_shared_by_threads_reads_one_file_at_a_time(config):
    reader = Reader(task, error, config)
    results: dict[str, tuple] = {}

    def work(n: int) -> None:
        for i in range(20):
            path = f"t{n}-{i}.pdf"
            results[path] = reader.read(path)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(3)]
    with reader:
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert len(results) == 60
    assert all(r[:2] == ("read", path) for path, r in results.items())
    assert len({r[2] for r in results.values()}) == 1  # one reader served them all


def test_reader_forks_again_after_close(config):
    reader = Reader(task, error, config)
    first = reader.read("a.pdf")
    reader.close()
    assert _gone(first[2]) and reader.pid is None
    again = reader.read("b.pdf")
    reader.close()
    assert again[:2] == ("read", "b.pdf") and again[2] != first[2]


def test_run_gives_one_record_per_file_around_crashes_and_hangs(config):
    paths = ["a.pdf", "crash", "b.pdf", "hang", "c.pdf", "allocate", "d.pdf", "raise", "e.pdf"]
    records = list(run(paths, task, error, config.replace(jobs=2)))
    by_path = {r[1]: r for r in records}
    assert sorted(by_path) == sorted(paths) and len(records) == len(paths)
    outcome = {p: (r[2] if r[0] == "error" else "read") for p, r in by_path.items()}
    assert outcome == {"a.pdf": "read", "b.pdf": "read", "c.pdf": "read", "d.pdf": "read", "e.pdf": "read",
                       "crash": "limit_exceeded", "hang": "timeout", "allocate": "limit_exceeded",
                       "raise": "unreadable"}
    assert len({r[2] for r in records if r[0] == "read"}) <= 4  # readers are kept between files, not forked per file
