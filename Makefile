# Two entry points: `make serve` builds the site with the sample data and serves it on
# 127.0.0.1:8000 (`make serve PORT=8001` picks another port); `make test` runs the whole test
# suite. Both create .venv on first use.

VENV := .venv
PORT ?= 8000
PYTHON := $(VENV)/bin/python

.PHONY: serve test chromium

# runtime/constraints.txt holds the versions the browser loads: the page is rendered with them.
$(VENV)/.installed: pyproject.toml runtime/constraints.txt
	python3 -m venv $(VENV)
	$(PYTHON) -m pip install --quiet --upgrade pip
	$(PYTHON) -m pip install --quiet -c runtime/constraints.txt -e '.[test]'
	touch $@

serve: $(VENV)/.installed
	$(PYTHON) build.py --serve --port $(PORT)

# Browser tests drive Debian's Chromium; install it when it is missing and we are root.
chromium:
	@if ! command -v chromium >/dev/null; then \
		if [ "$$(id -u)" = 0 ]; then \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; \
		else \
			echo "Chromium is missing: run 'sudo apt-get install chromium', then 'make test' again." >&2; \
			exit 1; \
		fi; \
	fi

test: $(VENV)/.installed chromium
	$(PYTHON) -m pytest
