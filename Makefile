# plancheck: two commands on a fresh machine (see README).
PYTHON ?= python3.11
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: demo test browser bench corpus train eval-segment clean

$(STAMP): requirements.lock requirements-dev.lock pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --require-hashes --no-deps -r requirements.lock -r requirements-dev.lock
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	@touch $(STAMP)

# The examples include an image-only scan that cannot be read: `plancheck demo` then exits 1, as
# `plancheck score` would, and that is the demo working.
demo: $(STAMP)
	$(PY) -m plancheck demo || test $$? -eq 1

# The workbench's browser tests drive Debian's chromium through chromium-driver: installed only
# when missing (as root, as CI runs); without them those tests are skipped and say why.
browser:
	@command -v chromium >/dev/null && command -v chromedriver >/dev/null || \
	  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver; } || \
	  echo "chromium could not be installed: the browser tests will be skipped"

test: $(STAMP) browser
	$(PY) -m pytest -q

bench: $(STAMP)
	$(PY) bench/run.py
	$(PY) bench/overlap.py

corpus: $(STAMP)
	$(PY) scripts/render_corpus.py

train: $(STAMP)
	$(PY) train.py

eval-segment: $(STAMP)
	$(PY) -m plancheck eval-segment

clean:
	rm -rf $(VENV) .pytest_cache build *.egg-info
