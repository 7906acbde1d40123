# Two commands on a fresh clone: `make report` and `make test`.
PYTHON ?= python3
VENV := .venv
STAMP := $(VENV)/.installed
SCALE ?= quick

.PHONY: report test smoke bench clean

# Create the virtual environment and install the project once; redo only when pyproject.toml changes.
$(STAMP): pyproject.toml
	test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install --quiet --disable-pip-version-check -e ".[test]"
	touch $(STAMP)

report: $(STAMP)
	$(VENV)/bin/thoughtlab report --scale $(SCALE)

test: $(STAMP)
	$(VENV)/bin/python -m pytest

smoke: $(STAMP)
	$(VENV)/bin/thoughtlab report --scale smoke --out report-smoke

bench: $(STAMP)
	@for b in benchmarks/*.py; do echo "== $$b"; $(VENV)/bin/python $$b || exit 1; done

clean:
	rm -rf report report-smoke runs
