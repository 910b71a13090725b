"""The workbench's national picture for a large batch: how long the page takes to load.

`plancheck serve` is started (from the snapshot) on a folder holding the records of the largest
short-plan batch that the throughput run scored (``scores-batch-1000.jsonl``), and the landing page
is fetched over HTTP: once while the server reads the records for the first time, then warm, as a
reviewer reloading or filtering it would. The time is from sending the request to the last byte.
"""
from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from . import OUT, SNAP
from .monitor import log, snap_env, wait_quiet


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str) -> tuple[float, int, bytes]:
    started = time.perf_counter()
    with urllib.request.urlopen(url, timeout=120) as response:
        body = response.read()
        return time.perf_counter() - started, response.status, body


def national_page(records: Path, runs: int = 5) -> dict:
    """Load time of the national picture for the plans in ``records`` (JSON Lines)."""
    folder = OUT / "workbench"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    shutil.copyfile(records, folder / "scores.jsonl")
    plans = sum(1 for line in records.read_text(encoding="utf-8").splitlines() if line.strip())
    port = _free_port()
    command = [sys.executable, "-m", "plancheck", "serve", str(folder), "--port", str(port),
               "--corpus", str(OUT / "workbench-corpus")]
    (OUT / "workbench-corpus").mkdir(exist_ok=True)
    server = subprocess.Popen(command, cwd=SNAP, env=snap_env(), stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE, text=True)
    url = f"http://127.0.0.1:{port}/"
    try:
        for _ in range(600):  # the server's start: imports and the model card, not timed
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                    break
            except OSError:
                if server.poll() is not None:
                    raise RuntimeError(f"plancheck serve ended: {server.stderr.read()[-2000:]}")
                time.sleep(0.1)
        wait_quiet()
        cold, status, body = _get(url)
        rows = body.decode("utf-8").count("<tr data-verdict=")
        warm = [_get(url)[0] for _ in range(runs)]
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
    warm.sort()
    result = {"plans": plans, "rows": rows, "status": status, "bytes": len(body), "first_s": round(cold, 3),
              "warm_s": [round(w, 3) for w in warm], "warm_median_s": round(warm[len(warm) // 2], 3),
              "command": f"plancheck serve FOLDER (scores of {plans:,} plans); GET / over HTTP"}
    log(f"  national picture of {plans:,} plans: first load {cold:.2f} s, then median "
        f"{result['warm_median_s']:.2f} s ({rows} rows, {len(body) / 1e6:.1f} MB)")
    return result


if __name__ == "__main__":  # python -m bench.workbench RECORDS.jsonl
    print(json.dumps(national_page(Path(sys.argv[1])), indent=1))
