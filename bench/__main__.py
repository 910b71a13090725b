"""One benchmark run: measure everything in order, save bench/out/results.json, write bench/RESULTS.md.

    .venv/bin/python bench/run.py [--quick] [--plans 24] [--models DIR] [--out bench/RESULTS.md]
    .venv/bin/python bench/run.py --report-only   # rewrite RESULTS.md from bench/out/results.json
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

from . import OUT, ROOT, SNAP
from .monitor import STARTED, log, machine

# A 10,000-document batch runs only if the 1,000-document batch says it would take at most this long.
LARGEST_BATCH_BUDGET_S = 180.0


def _models_folder(given: Path | None) -> Path:
    folder = given or Path(os.environ.get("PLANCHECK_MODELS") or ROOT / "models")
    if not (folder / "CURRENT").is_file():
        raise SystemExit(f"bench: no current model in {folder}/; train one (make train) or pass --models DIR")
    return folder


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="bench", description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="smoke run (about 3 minutes): few plans, small batches")
    ap.add_argument("--plans", type=int, default=None, help="~30-page plans for throughput (default 24; quick 4)")
    ap.add_argument("--models", type=Path, default=None, help="model folder (default: $PLANCHECK_MODELS or models/)")
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "RESULTS.md", help="the results file")
    ap.add_argument("--report-only", action="store_true", help="measure nothing; rewrite --out from results.json")
    args = ap.parse_args(argv)
    args.out = args.out.resolve()
    args.models = args.models.resolve() if args.models else None
    from .report import write_report

    if args.report_only:
        write_report(args.out, json.loads((OUT / "results.json").read_text()))
        log(f"rewrote {args.out} from {OUT / 'results.json'}")
        return 0
    plans_n = args.plans or (4 if args.quick else 24)
    sizes, largest = ((5, 10, 20), 50) if args.quick else ((10, 100, 1000), 10_000)
    runs = 1 if args.quick else 5
    command = "python bench/run.py" + (" --quick" if args.quick else "") + (f" --plans {args.plans}" if args.plans else "")
    OUT.mkdir(parents=True, exist_ok=True)
    results: dict = {"command": command, "quick": args.quick, "machine": machine(),
                     "snapshot": _snapshot(_models_folder(args.models))}

    # From here on, plancheck is the snapshot's, in this process and in every command it runs.
    sys.path.insert(0, str(SNAP))
    os.environ["PLANCHECK_MODELS"] = str(SNAP / "models")
    os.chdir(SNAP)
    import plancheck

    assert Path(plancheck.__file__).resolve().is_relative_to(SNAP.resolve()), plancheck.__file__
    from . import flood, startup, throughput, workbench
    from .plans import link_set, long_plans, short_plans

    plans, infos = long_plans(plans_n)
    short = short_plans(12 if args.quick else 60)
    plan_set = link_set(f"plans-{plans_n}", plans, plans_n)
    results["plans"] = {"count": plans_n, "pages": sum(i["pages"] for i in infos),
                        "pages_min": min(i["pages"] for i in infos), "pages_max": max(i["pages"] for i in infos),
                        "bytes": sum(i["bytes"] for i in infos), "short": len(short)}

    log(f"throughput over {plans_n} ~30-page plans: local --jobs 1, local --jobs 2, Dask LocalCluster of 2 workers ...")
    batches = {"local-1": throughput.score_run(plan_set, "local-1", 1),
               "local-2": throughput.score_run(plan_set, "local-2", 2),
               "dask-2": throughput.score_run(plan_set, "dask-2", 2, backend="dask")}
    results["same_records"] = len({json.dumps(b.pop("canonical")) for b in batches.values()}) == 1
    results["batches"] = batches
    log("what a Dask cluster adds ...")
    results["dask"] = throughput.dask_costs(plans[0], tasks=100 if args.quick else 500)
    log("the floor: pypdf, spaCy and the section model, each alone ...")
    results["floor"] = throughput.floor(plans)
    results["stages"] = throughput.stages(plans[: 2 if args.quick else 6])
    results["curve"] = throughput.batch_curve(short, sizes, largest, 30 if args.quick else LARGEST_BATCH_BUDGET_S)
    log(f"cold start x{runs} ...")
    results["cold"] = startup.cold_start(runs)
    log("operator flood ...")
    results["flood"] = flood.operator_flood(1 if args.quick else 3)
    biggest = OUT / f"scores-batch-{max(int(n) for n in results['curve']['runs'])}.jsonl"
    if biggest.is_file():
        log("the workbench's national picture ...")
        results["workbench"] = workbench.national_page(biggest)

    results["bench_seconds"] = round(time.perf_counter() - STARTED)
    (OUT / "results.json").write_text(json.dumps(results, indent=1, default=str))
    write_report(args.out, results)
    log(f"wrote {args.out} ({results['bench_seconds'] / 60:.1f} min)")
    return 0


def _snapshot(models: Path) -> dict:
    from .plans import take_snapshot

    return take_snapshot(models)


if __name__ == "__main__":
    raise SystemExit(main())
