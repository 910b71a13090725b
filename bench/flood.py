"""What the operator-flood PDF costs to read (tests/hostile.py ``operator_flood``).

One page with 300,000 text-showing operators: tiny compressed, and seconds of CPU in pypdf. The
tests accept either outcome (read, or stopped by the timeout), since which one depends on the
machine; this measures the cost: ``read_document`` in this process, and ``plancheck score`` of the
file with the default timeout, as a user would meet it.
"""
from __future__ import annotations

import importlib.util
import json
import logging
import statistics
import sys
import time

from . import OUT, ROOT
from .monitor import log, run_monitored
from .throughput import score_cmd


def _hostile():
    spec = importlib.util.spec_from_file_location("bench_hostile", ROOT / "tests" / "hostile.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def operator_flood(runs: int, operators: int = 300_000) -> dict:
    from plancheck.config import Config
    from plancheck.errors import PlancheckError
    from plancheck.ingest import read_document
    from plancheck.record import Record

    logging.getLogger("pypdf").setLevel(logging.CRITICAL)
    folder = OUT / "flood"
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.iterdir():
        old.unlink()
    path = _hostile().operator_flood(folder, operators)
    times, outcome = [], None
    for _ in range(runs):
        t = time.perf_counter()
        try:
            doc = read_document(path, Config())
            outcome = f"read: {doc.word_count:,} words on {doc.page_count} page(s)"
        except PlancheckError as exc:
            outcome = f"{exc.code}: {exc.message}"
        times.append(time.perf_counter() - t)
    output = OUT / "scores-flood.jsonl"
    run = run_monitored(score_cmd(folder, output, 1), stderr_path=OUT / "score-flood.stderr")
    record = Record.from_dict(json.loads(output.read_text().splitlines()[0]))
    code = record.status if record.ok else record.error_code
    out = {"operators": operators, "bytes": path.stat().st_size, "read_runs_s": [round(t, 2) for t in times],
           "read_median_s": round(statistics.median(times), 2), "read_outcome": outcome, "score_wall_s": run["wall_s"],
           "score_outcome": code, "score_other_cores": run["other_cores"], "python": sys.version.split()[0]}
    log(f"  operator flood ({operators:,} operators, {out['bytes']:,} bytes): read_document {out['read_median_s']:.1f} s "
        f"({outcome[:40]}); plancheck score {run['wall_s']:.1f} s -> {code}")
    return out
