# Two commands run everything (see README):
#   make run    set up and start web + worker + beat on the embedded default, with demo data
#   make test   install test dependencies and run every test on PostgreSQL and Redis
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip

.PHONY: run test bench setup install install-test check lint messages clean

run:
	bin/run-demo

test: install-test
	bin/run-tests

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

install: $(PY)
	$(PIP) install --quiet -c requirements/constraints.txt -e .

install-test: $(PY)
	$(PIP) install --quiet -c requirements/constraints.txt -e ".[test]"

# Figures against the local PostgreSQL and Redis (README, "Benchmarks"); never part of CI.
bench: install-test
	$(PY) -m bench.run $(BENCH_ARGS)

# Static checks CI runs beside the tests.
check: install-test
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(PY) manage.py makemigrations --check --dry-run
	$(VENV)/bin/bandit -q -r config clinic intake eligibility sessions integration billing demo -x "*/tests/*,*/migrations/*"
	$(PY) scripts/check_unsafe.py
	$(VENV)/bin/mypy $$($(PY) scripts/mypy_targets.py)
	DJANGO_PRODUCTION=1 SECRET_KEY=ci-only-secret-key-that-is-long-and-random-0123456789abcdef \
	  ALLOWED_HOSTS=clinic.example CLINIC_VAR_DIR=$$(mktemp -d) \
	  $(PY) manage.py check --deploy --fail-level WARNING

# Rebuild the French catalogue from the source strings (then translate the new entries).
messages:
	$(PY) manage.py makemessages --locale fr --no-obsolete --no-location --ignore '.venv/*' --ignore 'staticfiles/*' --ignore 'var/*'
	$(PY) manage.py compilemessages --locale fr --ignore '.venv/*'

clean:
	rm -rf var staticfiles .pytest_cache test-results
