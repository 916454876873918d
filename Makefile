# Two entry points on a fresh machine:  make run   (set up, start the dashboard)
#                                        make test  (set up, run every test)
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
CHROMIUM ?= /usr/bin/chromium

.PHONY: setup browser run test test-fast bench bench-smoke clean

$(STAMP): requirements.txt requirements-dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
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

test: setup browser
	$(PY) -m pytest

test-fast: setup
	$(PY) -m pytest -m "not slow and not e2e"

bench: setup
	$(PY) -m bench

bench-smoke: setup
	$(PY) -m bench --smoke

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis artifacts
