# The two commands of the README: `make demo` and `make test` (linters, type check, then the tests).
# Both create .venv when needed.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: install demo test bench screenshots clean

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

demo: install
	$(BIN)/newsarchive demo

test: install
	$(BIN)/ruff check .
	$(BIN)/mypy archive crawler
	$(BIN)/pytest

bench: install
	$(BIN)/python -m bench.extraction
	$(BIN)/python bench/dedup.py --sizes 10000,100000
	$(BIN)/python bench/search.py
	$(BIN)/python -m bench.web --size 100000
	$(BIN)/python -m bench.recanonicalize --sizes 10000,100000
	$(BIN)/python -m bench.writes
	$(BIN)/python -m bench.storage
	$(BIN)/python -m bench.registration

# The README's screenshots of `serve`, taken by the browser tests (Debian's chromium).
screenshots: install
	NEWSARCHIVE_SCREENSHOTS=docs/screenshots $(BIN)/pytest tests/test_web_browser.py

clean:
	rm -rf $(VENV) *.egg-info .pytest_cache
