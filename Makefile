# The README's commands. `make demo` serves the platform; `make test` runs the whole suite.
SHELL := /bin/bash
PY ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export DJANGO_SETTINGS_MODULE := opentic.settings
PG_URL ?= postgres://postgres@127.0.0.1:5432/opentic
# poppler-utils: pdfsig, the independent validator of signed reports; pango: WeasyPrint's text layout.
DEBIAN_PACKAGES := chromium gettext fonts-noto-cjk wrk poppler-utils libpango-1.0-0 libpangoft2-1.0-0

.PHONY: demo test test-sqlite test-postgres lint bench system-deps install messages clean

system-deps:
	@missing=""; for p in $(DEBIAN_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing >/dev/null; \
	fi

$(STAMP): pyproject.toml
	@command -v $(PY) >/dev/null || { echo "$(PY) is needed"; exit 1; }
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $(STAMP)

install: system-deps $(STAMP) messages

# Compiling messages needs no settings (which refuse to load without secrets outside the demo).
messages: $(STAMP)
	cd src/opentic && env -u DJANGO_SETTINGS_MODULE ../../$(BIN)/django-admin compilemessages -v0

# The demo serves as production would (DEBUG off, gunicorn, static files by WhiteNoise), over plain HTTP on
# localhost, with its own secrets generated into var/ and a banner saying it is a demo. One process with
# threads, so the rate limits and locks it counts in memory are the same for every request.
demo: export OPENTIC_DEMO := 1
demo: install
	$(BIN)/opentic migrate -v0
	$(BIN)/opentic demo-data --if-empty
	$(BIN)/opentic collectstatic --noinput -v0
	@echo "OpenTIC demo on http://127.0.0.1:8000/"
	@# The background worker (report batches, large imports and exports, audit anchors) beside the server.
	$(BIN)/opentic worker & worker=$$!; trap 'kill $$worker 2>/dev/null' EXIT; \
	$(BIN)/gunicorn opentic.wsgi --bind 127.0.0.1:8000 --workers 1 --threads 8 --timeout 60 --access-logfile -

test: install lint test-sqlite test-postgres

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/mypy src

test-sqlite: install
	@echo "== test suite on SQLite"
	$(BIN)/pytest -q -p no:cacheprovider

test-postgres: install
	@echo "== test suite on PostgreSQL ($(PG_URL))"
	@if ! pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null && ! $(BIN)/python -c "import psycopg; psycopg.connect('$(PG_URL:opentic=postgres)').close()" 2>/dev/null; then \
	  echo "!!!!!!!! PostgreSQL at 127.0.0.1:5432 is NOT reachable: the PostgreSQL half of the suite did not run !!!!!!!!"; \
	  if [ "$$CI" = "true" ]; then exit 1; else exit 0; fi; \
	fi
	DATABASE_URL=$(PG_URL) $(BIN)/pytest -q -p no:cacheprovider

# The first national run generates 53,000 institutions and ~13 million scope lines in PostgreSQL
# (database opentic_bench_national, kept for later runs).
BENCHES := "bench_finder.py" "bench_finder.py --scale national --postgres" "bench_import.py" "bench_import.py --postgres" \
	"bench_ledger_append.py" "bench_ledger_append.py --postgres" \
	"bench_ledger_proof.py --report serve" "bench_ledger_proof.py --report verify" \
	"bench_ledger_proof.py --postgres --report serve" "bench_ledger_proof.py --postgres --report verify" \
	"bench_verify_http.py" "bench_verify_http.py --postgres" \
	"bench_results_import.py" "bench_results_import.py --postgres" \
	"bench_worksheet_render.py" "bench_worksheet_render.py --postgres" "bench_sample_list.py --postgres" \
	"bench_report_render.py" "bench_report_batch.py" "bench_pt_round.py" "bench_pt_round.py --postgres" "bench_montecarlo.py"
bench: install
	@for b in $(BENCHES); do echo "== benchmarks/$$b"; $(BIN)/python benchmarks/$$b || exit 1; done

clean:
	rm -rf $(VENV) var .mypy_cache .ruff_cache
