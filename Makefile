# Passaggio - make targets. Needs only Python 3.11 and make on a fresh machine.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install lint test demo bench clean

install: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

test: lint
	$(BIN)/pytest -q

demo: install
	$(BIN)/mobility graph build
	$(BIN)/mobility graph info --profile minibus
	$(BIN)/mobility graph info --profile bus
	@echo "Borgo Mezzanone -> Foggia centre:"
	$(BIN)/mobility route 41.4206,15.7096 41.4620,15.5433
	$(BIN)/mobility route 41.4206,15.7096 41.4620,15.5433 --profile bus
	$(BIN)/mobility places --csv out/places.csv
	$(BIN)/mobility matrix out/places.csv --out out/places_matrix.csv

bench: install
	$(BIN)/python bench/roadgraph.py
	$(BIN)/python bench/darp.py

clean:
	rm -rf $(VENV) out data/osm_foggia/cache .mypy_cache .ruff_cache .pytest_cache
