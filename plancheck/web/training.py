"""Retraining from the workbench: ``plancheck train`` in a subprocess, its progress lines kept for
the page that shows them.

Training runs in a process of its own, so the workbench keeps answering (and a failed training
cannot take it down); one training at a time. Whether the new model became current is decided by
``train`` itself, by the same rule as on the command line, and its last lines say why.
"""
from __future__ import annotations

import datetime as dt
import subprocess
import sys
import threading
from collections import deque
from pathlib import Path

MAX_LINES = 2000


def train_command(corpus: Path | None, models: Path) -> list[str]:
    command = [sys.executable, "-m", "plancheck", "train", "--models", str(models)]
    if corpus is not None:
        command += ["--corpus", str(corpus)]
    return command


class TrainingJob:
    """One training run at a time, with its output lines as they come."""

    def __init__(self, command: list[str]):
        self.command = command
        self.lines: deque[str] = deque(maxlen=MAX_LINES)
        self.state = "idle"  # idle | running | finished | failed
        self.returncode: int | None = None
        self.started = self.finished = ""
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._process: subprocess.Popen | None = None

    def start(self) -> bool:
        """Start training; False when a training is already running."""
        with self._lock:
            if self.state == "running":
                return False
            self.lines.clear()
            self.state, self.returncode = "running", None
            self.started, self.finished = _now(), ""
            try:
                self._process = subprocess.Popen(self.command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                                 stdin=subprocess.DEVNULL, text=True, errors="replace", bufsize=1)
            except OSError as exc:
                self.state, self.finished = "failed", _now()
                self.lines.append(f"training could not start: {exc}")
                return True
        threading.Thread(target=self._follow, daemon=True).start()
        return True

    def _follow(self) -> None:
        process = self._process
        assert process is not None and process.stdout is not None
        for line in process.stdout:
            with self._changed:
                self.lines.append(line.rstrip("\n"))
                self._changed.notify_all()
        process.stdout.close()
        code = process.wait()
        with self._changed:
            self.returncode = code
            self.state = "finished" if code == 0 else "failed"
            self.finished = _now()
            self._changed.notify_all()

    def snapshot(self) -> dict:
        with self._lock:
            return {"state": self.state, "lines": list(self.lines), "returncode": self.returncode,
                    "started": self.started, "finished": self.finished}

    def wait_for_more(self, seen: int, timeout: float) -> tuple[list[str], bool]:
        """Lines after the first ``seen`` (waiting up to ``timeout`` s for one), and whether it is over."""
        with self._changed:
            if len(self.lines) <= seen and self.state == "running":
                self._changed.wait(timeout)
            return list(self.lines)[seen:], self.state != "running"


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
