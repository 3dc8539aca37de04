# The README's two promises: `make run` and `make test`, on a fresh machine with Python 3.11.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 5000
FLASK := $(BIN)/flask --app wsgi

export GRIEVANCE_INSTANCE_PATH ?= $(CURDIR)/instance

.PHONY: run test coverage browser-test lint format bench bench-services restore-drill translations extract migration-check clean

$(BIN)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

translations: $(BIN)/.installed
	$(BIN)/pybabel compile --statistics -d locales -D messages

## Set everything up and serve the demo on http://127.0.0.1:$(PORT) (SQLite under instance/).
run: export GRIEVANCE_ENV = development
run: $(BIN)/.installed translations
	$(FLASK) db upgrade
	$(FLASK) grievance demo-data
	@echo "Serving on http://127.0.0.1:$(PORT), with the worker beside it (Ctrl-C stops both)"
	$(FLASK) grievance worker & worker=$$!; \
	  trap 'kill $$worker 2>/dev/null' EXIT INT TERM; \
	  $(FLASK) run --host 127.0.0.1 --port $(PORT)

## The whole suite on SQLite (DATABASE_URL=postgresql+psycopg://…test… for PostgreSQL).
test: $(BIN)/.installed translations
	$(BIN)/pytest -m "not browser"

## The same suite measuring branch coverage of grievance/ and intake/ (slower: .ci/run runs
## it on PostgreSQL); fails under the floor in pyproject.toml ([tool.coverage.report]).
coverage: $(BIN)/.installed translations
	$(BIN)/pytest -m "not browser" --cov --cov-report=term

## Playwright drives Debian's Chromium (/usr/bin/chromium; never `playwright install`)
## through the real pages: no JavaScript, phone widths, right to left, axe-core, weight.
browser-test: $(BIN)/.installed translations
	$(BIN)/pytest -m browser tests/browser

## ruff, mypy, and the layer contracts of pyproject.toml (import-linter: no arrow back,
## channels apart, no Flask below the channels, no import cycle).
lint: $(BIN)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports --no-cache

format: $(BIN)/.installed
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

## Every path of issue 17 end to end on PostgreSQL (docs/deploy.md "Benchmarks"): the
## generated database (BENCH_CASES, 1,000,000; made once in BENCH_DATABASE_URL, default
## grievance_bench on 127.0.0.1), the app under gunicorn beside a bare Flask floor, locust
## on each path, the worker's jobs, verify-log; the table goes to bench/results/.
bench: $(BIN)/.installed translations
	$(BIN)/python bench/run.py

## The service-level benchmarks, each on its own database (SQLite, or DATABASE_URL).
bench-services: $(BIN)/.installed
	$(BIN)/python bench/caselog.py
	$(BIN)/python bench/sweep.py
	$(BIN)/python bench/sms_webhook.py
	$(BIN)/python bench/attachments.py
	BENCH_CASES=$${BENCH_CASES:-100000} $(BIN)/python bench/reviewer_queue.py
	BENCH_CASES=$${BENCH_CASES:-100000} $(BIN)/python bench/company_cases.py
	BENCH_CASES=$${BENCH_CASES:-10000} $(BIN)/python bench/filing.py

## Back up a small database and its key ring, destroy both, restore them, and check every
## identity, receipt code and hash chain (SQLite in a temporary directory; PostgreSQL with
## DATABASE_URL naming a database with "drill" or "test" in its name: its tables are dropped).
restore-drill: $(BIN)/.installed translations
	$(BIN)/python -m grievance.drill

## Extract the strings to translate and merge them into every catalog.
extract: $(BIN)/.installed
	$(BIN)/pybabel extract --no-location --sort-output -F babel.cfg -k lazy_gettext -k _l --project=grievance --msgid-bugs-address=security@example.org -o locales/messages.pot .
	$(BIN)/pybabel update --no-fuzzy-matching -d locales -D messages -i locales/messages.pot

## Fails when the models and the migrations differ; upgrades an empty database first.
migration-check: $(BIN)/.installed
	GRIEVANCE_ENV=test SECRET_KEY=migration-check-secret-key-0123456789abcdef \
	  GRIEVANCE_KEYRING="$$($(BIN)/python -c 'from grievance.crypto.keyring import Keyring; print(Keyring.generate().to_json())')" \
	  DATABASE_URL=$${DATABASE_URL:-sqlite:///$$(mktemp -d)/check.sqlite3} \
	  sh -c '$(FLASK) db upgrade && $(FLASK) db check'

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
