#!/usr/bin/env python
"""The benchmark's entry point (``make bench``): ``python bench/run.py [--quick]``, the same as ``python -m bench``.

See bench/README.md for what it measures; the code is the ``bench`` package beside this file.
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.__main__ import main  # noqa: E402

if __name__ == "__main__":
    raise SystemExit(main())
