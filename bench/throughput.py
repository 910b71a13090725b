"""Batches: ``plancheck score`` locally and on a Dask LocalCluster, the floor, the stages, the batch-size
curve, what a Dask cluster adds per batch and per task, and a projection to larger clusters.

Every batch runs ``python -m plancheck score FOLDER --format jsonl --output ... --quiet`` as a
subprocess from the snapshot, timed from launch to exit (interpreter start, model load, a Dask
cluster's start-up and writing the records included); words and pages are summed from the records.
"""
from __future__ import annotations

import io
import json
import multiprocessing as mp
import os
import statistics
import sys
import time
from pathlib import Path

from . import OUT
from .monitor import CpuMeter, log, run_monitored, wait_quiet

PY = sys.executable


def score_cmd(folder: Path, output: Path, jobs: int, backend: str = "local") -> list[str]:
    cmd = [PY, "-m", "plancheck", "score", str(folder), "--format", "jsonl", "--output", str(output),
           "--jobs", str(jobs), "--quiet"]
    return cmd + (["--backend", backend] if backend != "local" else [])


def read_records(path: Path) -> dict:
    from plancheck.record import Record  # the snapshot's: imported after bench/__main__ sets the path

    recs = [Record.from_dict(json.loads(line)) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    scored = [r for r in recs if r.ok]
    errors: dict[str, int] = {}
    for r in recs:
        if not r.ok:
            errors[r.error_code] = errors.get(r.error_code, 0) + 1
    return {"records": len(recs), "scored": len(scored), "errors": errors,
            "words": sum(r.words for r in scored), "pages": sum(r.pages for r in scored),
            "canonical": sorted(json.dumps(r.to_dict(), sort_keys=True) for r in recs)}


def score_run(folder: Path, name: str, jobs: int, backend: str = "local", **monitor) -> dict:
    """One ``plancheck score`` batch over ``folder``: wall, CPU, memory peaks and words/s."""
    output = OUT / f"scores-{name}.jsonl"
    run = run_monitored(score_cmd(folder, output, jobs, backend), stderr_path=OUT / f"score-{name}.stderr", **monitor)
    run |= read_records(output)
    run["words_per_s"] = run["words"] / run["wall_s"]
    run["files_per_s"] = run["records"] / run["wall_s"]
    log(f"  {name}: {run['wall_s']:.1f} s, {run['words_per_s']:,.0f} words/s, {run['scored']}/{run['records']} "
        f"scored, peak PSS {run['tree_pss_mb'] or 0:.0f} MB, exit {run['exit']}, other load {run['other_cores']} cores")
    return run


# --- the floor ---------------------------------------------------------------------------------

_TEXTS: list[str] = []


def _pypdf_extract(path: str) -> int:
    """pypdf alone, as plancheck calls it: the file's bytes, PdfReader(strict=False), extract_text per page."""
    from pypdf import PdfReader

    with open(path, "rb") as fh:
        reader = PdfReader(io.BytesIO(fh.read()), strict=False)
    return sum(len(page.extract_text()) for page in reader.pages)


def _parse_chunk(indices: list[int]) -> int:
    from plancheck import nlp as nlp_mod

    return sum(len(d) for d in nlp_mod.parse(_TEXTS[i] for i in indices))


_SENTENCES: list[list[str]] = []
_MODEL = None


def _model_chunk(indices: list[int]) -> int:
    """The section model as score.Scorer.assess calls it: the sections' scores, each section's sentences'."""
    _MODEL.predict([_TEXTS[i] for i in indices])
    return sum(len(_MODEL.criterion_proba(_SENTENCES[i])) for i in indices if _SENTENCES[i])


def _pool(func, items, processes: int) -> list:
    with mp.get_context("fork").Pool(processes) as pool:
        return list(pool.imap_unordered(func, items, chunksize=1))


def floor(files: list[Path]) -> dict:
    """pypdf extraction, spaCy (plancheck's pipeline) and the section model, each alone over the same files, in 1
    and 2 processes."""
    import logging

    from plancheck import nlp as nlp_mod
    from plancheck.config import Config
    from plancheck.ingest import read_document
    from plancheck.segment import segment

    global _TEXTS
    logging.getLogger("pypdf").setLevel(logging.CRITICAL)
    paths = [str(p) for p in files]
    out: dict = {"load": {}}

    def timed(key: str, func):
        wait_quiet()
        with CpuMeter() as m:
            t = time.perf_counter()
            func()
            out[key] = round(time.perf_counter() - t, 2)
        out["load"][key] = m.result

    _pypdf_extract(paths[0])  # imports outside the timings
    timed("extract_1", lambda: [_pypdf_extract(p) for p in paths])
    timed("extract_2", lambda: _pool(_pypdf_extract, paths, 2))
    cfg = Config()
    texts, words = [], 0
    for p in paths:
        doc = read_document(p, cfg)
        texts += [s.text for s in segment(doc, cfg.required_areas).sections]
        words += doc.word_count
    out.update(sections=len(texts), section_words=sum(len(t.split()) for t in texts), doc_words=words)
    nlp = nlp_mod.load()
    out["pipeline"] = list(nlp.pipe_names)
    list(nlp_mod.parse(texts[:2], nlp))  # first-call costs outside the timing
    timed("nlp_1", lambda: list(nlp_mod.parse(texts, nlp)))
    _TEXTS = texts
    order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))  # longest first: balanced ends
    size = max(1, min(nlp_mod.BATCH_SIZE, len(order) // 8))
    timed("nlp_2", lambda: _pool(_parse_chunk, [order[i:i + size] for i in range(0, len(order), size)], 2))
    # (c) the section model: plancheck's own component, over the same sections and their sentences.
    global _SENTENCES, _MODEL
    from plancheck.score import Scorer

    _SENTENCES = [nlp_mod.sentences(d) for d in nlp_mod.parse(texts, nlp)]
    _MODEL = Scorer.load().model
    _model_chunk(list(range(min(2, len(texts)))))  # first-call costs outside the timing
    chunks = [order[i:i + size] for i in range(0, len(order), size)]
    timed("model_1", lambda: _model_chunk(list(range(len(texts)))))
    timed("model_2", lambda: _pool(_model_chunk, chunks, 2))
    _TEXTS, _SENTENCES, _MODEL = [], [], None
    out["floor_1"] = round(out["extract_1"] + out["nlp_1"] + out["model_1"], 2)
    out["floor_2"] = round(out["extract_2"] + out["nlp_2"] + out["model_2"], 2)
    log(f"  floor: extraction {out['extract_1']:.1f} / {out['extract_2']:.1f} s, spaCy {out['nlp_1']:.1f} / "
        f"{out['nlp_2']:.1f} s, section model {out['model_1']:.1f} / {out['model_2']:.1f} s (1 / 2 processes)")
    return out


def stages(files: list[Path]) -> dict:
    """Where one process's time goes in ``Scorer.score_path``, stage by stage, over ``files``."""
    from plancheck import nlp as nlp_mod
    from plancheck.ingest import read_document
    from plancheck.score import Scorer
    from plancheck.segment import segment

    scorer = Scorer.load()
    acc = dict.fromkeys(("read_document", "segment", "parse", "assess", "score_path"), 0.0)
    wait_quiet()
    for p in files:
        t = time.perf_counter()
        doc = read_document(p, scorer.config)
        acc["read_document"] += time.perf_counter() - t
        t = time.perf_counter()
        sections = list(segment(doc, scorer.config.required_areas).sections)
        acc["segment"] += time.perf_counter() - t
        t = time.perf_counter()
        list(nlp_mod.parse([s.text for s in sections], scorer.nlp))
        acc["parse"] += time.perf_counter() - t
        t = time.perf_counter()
        scorer.assess(sections)
        acc["assess"] += time.perf_counter() - t
        t = time.perf_counter()
        scorer.score_path(p)
        acc["score_path"] += time.perf_counter() - t
    acc["model_and_explain"] = acc["assess"] - acc["parse"]  # assess parses again, then predicts and explains
    return {k: round(v, 3) for k, v in acc.items()} | {"files": len(files)}


# --- Dask: what a cluster adds ------------------------------------------------------------------

def _noop(x: int) -> int:
    return x


def dask_costs(sample: Path, tasks: int = 500) -> dict:
    """Start-up of a 2-worker LocalCluster, sending and loading the model, per-task scheduling, and
    one file through a Dask task against the same file in a local isolated reader."""
    import distributed

    from plancheck import backends, runner
    from plancheck.config import Config
    from plancheck.score import Scorer

    out = {}
    config = Config()
    environ = dict(os.environ)  # a LocalCluster's nannies set variables for their workers in this process
    wait_quiet()
    t = time.perf_counter()
    files = backends.ModelFiles.read(None, config.models)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                                  dashboard_address="127.0.0.1:0") as cluster, \
            distributed.Client(cluster, set_as_default=False) as client:
        out["cluster_start_s"] = round(time.perf_counter() - t, 2)
        t = time.perf_counter()
        plugin = backends.ModelPlugin(files)
        client.register_plugin(plugin, name=plugin.name)
        out["model_on_workers_s"] = round(time.perf_counter() - t, 2)
        client.gather(client.map(_noop, range(20), pure=False))
        t = time.perf_counter()
        client.gather(client.map(_noop, range(tasks), pure=False))
        out["noop_task_ms"] = round(1000 * (time.perf_counter() - t) / tasks, 2)
        runs = []
        for _ in range(5):
            t = time.perf_counter()
            client.submit(backends.score_file, str(sample), config, files.sha256, pure=False).result()
            runs.append(time.perf_counter() - t)
        out["file_by_dask_task_s"] = round(statistics.median(runs), 3)
    os.environ.clear()
    os.environ.update(environ)  # MALLOC_TRIM_THRESHOLD_ and the thread counts would slow every later command
    scorer = Scorer.load(None, config)
    runs = []
    for _ in range(5):
        t = time.perf_counter()
        list(runner.run([str(sample)], scorer.score_path, lambda p, c, m: {}, config))
        runs.append(time.perf_counter() - t)
    out["file_by_local_reader_s"] = round(statistics.median(runs), 3)
    log(f"  LocalCluster start {out['cluster_start_s']:.1f} s, model on workers {out['model_on_workers_s']:.1f} s, "
        f"{out['noop_task_ms']:.1f} ms per empty task; one file {out['file_by_dask_task_s']:.2f} s by a Dask task, "
        f"{out['file_by_local_reader_s']:.2f} s by a local reader")
    return out


# --- batch size ---------------------------------------------------------------------------------

def batch_curve(short: list[Path], sizes: tuple[int, ...], largest: int, budget_s: float) -> dict:
    """``plancheck score --jobs 2`` over batches of ``sizes`` short plans; ``largest`` too if the
    rate measured on the biggest batch says it fits in ``budget_s``, else its extrapolation."""
    from .plans import link_set

    runs = {}
    for n in sizes:
        log(f"batch of {n:,} short plans, --jobs 2 ...")
        runs[n] = score_run(link_set(f"batch-{n}", short, n), f"batch-{n}", 2, interval=0.05, pss_interval=0.25)
    last = runs[sizes[-1]]
    per_file = last["wall_s"] / sizes[-1]
    predicted = per_file * largest
    out = {"runs": {str(n): r for n, r in runs.items()}, "largest": largest, "predicted_s": round(predicted, 1)}
    if predicted <= budget_s:
        log(f"batch of {largest:,} short plans (predicted {predicted:.0f} s) ...")
        out["runs"][str(largest)] = score_run(link_set(f"batch-{largest}", short, largest), f"batch-{largest}", 2,
                                              interval=0.1, pss_interval=1.0)
    else:
        log(f"batch of {largest:,} left out: predicted {predicted:.0f} s > budget {budget_s:.0f} s; extrapolated")
        out["extrapolated"] = {"wall_s": round(predicted, 1), "words_per_s": last["words_per_s"],
                               "from": sizes[-1]}
    for r in out["runs"].values():
        r.pop("canonical", None)
    return out


def project(per_file_s: float, files: int, workers: tuple[int, ...], start_s: float, task_ms: float) -> list[dict]:
    """How long ``files`` files would take on clusters of ``workers`` one-thread workers like these cores.

    Time = cluster start + files x per-file cost / workers, unless the scheduler is slower: one
    scheduler handles every task, so a batch takes at least files x its cost per task (measured
    with empty tasks).
    """
    out = []
    for w in workers:
        compute = files * per_file_s / w
        scheduler = files * task_ms / 1000
        out.append({"workers": w, "files": files, "hours": round((start_s + max(compute, scheduler)) / 3600, 2),
                    "compute_s": round(compute), "scheduler_s": round(scheduler)})
    return out
