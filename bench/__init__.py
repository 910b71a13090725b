"""plancheck's benchmark: ``python bench/run.py [--quick]`` (``make bench``) writes bench/RESULTS.md.

Modules: ``monitor`` (the machine, background load, process-tree memory), ``plans`` (generated
plans and the code snapshot), ``throughput`` (local and Dask batches, the floor, batch sizes,
cluster projection), ``startup`` (cold start against the bare pipeline load), ``flood`` (the
operator-flood PDF's reading cost), ``report`` (RESULTS.md) and ``__main__`` (one run of all).
"""
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "out"
# Every measurement runs on a copy of plancheck/ and the model, taken at the start: a run lasts
# long enough for the repository to change under it.
SNAP = OUT / "snapshot"
