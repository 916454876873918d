# Two entry points on a fresh machine:  make run   (set up, start the dashboard)
#                                        make test  (set up, run every test)
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
CHROMIUM ?= /usr/bin/chromium

.PHONY: setup browser run test lint test-fast test-slow test-e2e bench bench-smoke clean

$(STAMP): requirements.txt requirements-dev.txt requirements-ray.txt requirements-onnx.txt pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	$(PY) -m pip install --quiet --no-deps -e .
	touch $(STAMP)

setup: $(STAMP)

# Debian's chromium drives the end-to-end tests (Playwright uses it through executable_path;
# no browser is downloaded).
# fonts-noto-cjk only makes Chinese legible in the screenshots (tests read text, not pixels).
browser:
	@if [ -x "$(CHROMIUM)" ]; then echo "chromium: $(CHROMIUM)"; \
	elif command -v apt-get >/dev/null && [ "$$(id -u)" = 0 ]; then \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	else echo "install Debian's chromium (apt-get install chromium) or set CHROMIUM=/path/to/chrome" >&2; exit 1; fi
	@if ! fc-list 2>/dev/null | grep -qi cjk && command -v apt-get >/dev/null && [ "$$(id -u)" = 0 ]; then \
	  (apt-get install -y -qq fonts-noto-cjk >/dev/null 2>&1 || (apt-get update -qq && apt-get install -y -qq fonts-noto-cjk >/dev/null 2>&1)) \
	  || echo "note: fonts-noto-cjk not installed; Chinese shows as boxes in screenshots" >&2; fi

run: setup
	$(VENV)/bin/streamlit run app.py

# Lint and types, then the three tiers: fast (no real encoder, no ../shared, no subprocess),
# slow (real encoders on real data), e2e (a real Streamlit server in headless Chromium).
test: setup browser lint
	@start=$$(date +%s); $(PY) -m pytest -q -m "not slow and not e2e"; rc=$$?; \
	  echo "tier fast: $$(( $$(date +%s) - start )) s"; exit $$rc
	@start=$$(date +%s); $(PY) -m pytest -q -m "slow and not e2e"; rc=$$?; \
	  echo "tier slow: $$(( $$(date +%s) - start )) s"; exit $$rc
	@start=$$(date +%s); $(PY) -m pytest -q -m e2e; rc=$$?; \
	  echo "tier e2e: $$(( $$(date +%s) - start )) s"; exit $$rc

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

test-fast: setup
	$(PY) -m pytest -m "not slow and not e2e"

test-slow: setup
	$(PY) -m pytest -m "slow and not e2e"

test-e2e: setup browser
	$(PY) -m pytest -m e2e

bench: setup
	$(PY) -m bench

bench-smoke: setup
	$(PY) -m bench --smoke

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis artifacts
