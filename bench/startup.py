"""Cold start: ``plancheck score`` of one example in a fresh process against the bare pipeline load.

The bare load is ``from plancheck import nlp; nlp.load()``: importing spaCy and loading the
English pipeline as plancheck configures it, which every scoring command needs and nothing can
avoid. The two are run alternately, so that a change of background load hits both. A probe then
splits one cold start into its steps, and ``python -X importtime`` names the biggest imports.
"""
from __future__ import annotations

import json
import re
import statistics
import subprocess
import sys
import time

from . import SNAP
from .monitor import CpuMeter, log, snap_env, wait_quiet

PY = sys.executable
EXAMPLE = "examples/hollowfield-2009.pdf"
SCORE = [PY, "-m", "plancheck", "score", EXAMPLE, "--format", "json"]
BARE = [PY, "-c", "from plancheck import nlp; nlp.load()"]

_PROBE = r"""
import time
start_epoch = time.time()
import json, sys
t0 = time.perf_counter()
import plancheck.cli
t1 = time.perf_counter()
import plancheck.score
t2 = time.perf_counter()
from plancheck import nlp
n = nlp.load()
t3 = time.perf_counter()
from plancheck.score import Scorer
s = Scorer.load()
import gc
gc.freeze()  # as the command does once the model is loaded
t4 = time.perf_counter()
from plancheck import runner
record = list(runner.run([sys.argv[1]], s.score_path, lambda p, c, m: {}, s.config))[0]
t5 = time.perf_counter()
s.score_path(sys.argv[1])
t6 = time.perf_counter()
print(json.dumps({"import_cli": t1 - t0, "import_score": t2 - t1, "nlp_load": t3 - t2, "model_load": t4 - t3,
                  "isolated_reader": t5 - t4, "score_in_process": t6 - t5, "start_epoch": start_epoch,
                  "end_epoch": time.time(), "status": getattr(record, "status", "error"), "plancheck": plancheck.__file__}))
sys.stdout.flush()
"""


def _timed(cmd: list[str]) -> tuple[float, int]:
    t = time.perf_counter()
    code = subprocess.run(cmd, cwd=SNAP, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=snap_env()).returncode
    return time.perf_counter() - t, code


def cold_start(runs: int) -> dict:
    """Median wall of ``plancheck score EXAMPLE`` and of the bare pipeline load, ``runs`` of each, alternately."""
    score, bare, loads, codes = [], [], [], set()
    _timed(BARE)  # page cache
    for i in range(runs):
        wait_quiet()
        with CpuMeter() as meter:
            s, code = _timed(SCORE)
            b, _ = _timed(BARE)
        score.append(round(s, 3))
        bare.append(round(b, 3))
        codes.add(code)
        loads.append(meter.result["other_cores"])
        log(f"  cold start {i + 1}: score {s:.2f} s, bare pipeline load {b:.2f} s (other load {loads[-1]} cores)")
    t = time.perf_counter()
    subprocess.run([PY, "-c", "pass"], check=True)
    python = time.perf_counter() - t
    out = {"score_runs_s": score, "bare_runs_s": bare, "other_cores": loads, "exit_codes": sorted(codes),
           "score_median_s": round(statistics.median(score), 3), "bare_median_s": round(statistics.median(bare), 3),
           "python_s": round(python, 3)}
    out["ratio"] = round(out["score_median_s"] / out["bare_median_s"], 2)
    out["steps_s"] = _probe()
    out["imports_s"] = _import_times()
    return out


def _probe() -> dict:
    """One cold start split into steps: interpreter start, imports, loads, the isolated reader, shutdown."""
    wait_quiet()
    launched = time.time()
    probe = subprocess.run([PY, "-c", _PROBE, EXAMPLE], cwd=SNAP, capture_output=True, text=True, env=snap_env())
    exited = time.time()
    try:
        data = json.loads(probe.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        return {"error": probe.stderr[-500:]}
    assert data["plancheck"].startswith(str(SNAP)), data["plancheck"]
    steps = {"interpreter_start": data["start_epoch"] - launched}
    steps |= {k: data[k] for k in ("import_cli", "import_score", "nlp_load", "model_load", "isolated_reader",
                                   "score_in_process")}
    steps["interpreter_shutdown"] = exited - data["end_epoch"]
    return {k: round(v, 3) for k, v in steps.items()}


def _import_times(top: int = 12) -> list[tuple[str, float]]:
    """The packages ``plancheck score EXAMPLE`` imports, by cumulative import time (``-X importtime``)."""
    proc = subprocess.run([PY, "-X", "importtime", *SCORE[1:]], cwd=SNAP, capture_output=True, text=True,
                          env=snap_env())
    cumulative: dict[str, float] = {}
    for line in proc.stderr.splitlines():
        m = re.match(r"import time:\s+\d+ \|\s+(\d+) \|( *)(\S+)", line)
        if m and "." not in m.group(3):  # top-level packages only; nested ones are inside their parent's time
            cumulative[m.group(3)] = cumulative.get(m.group(3), 0) + int(m.group(1)) / 1e6
    return [(k, round(v, 3)) for k, v in sorted(cumulative.items(), key=lambda kv: -kv[1])[:top]]
