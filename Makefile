# Two commands set everything up on a fresh machine with Python 3.11: `make demo` and `make test`.
SHELL := /bin/bash
UV ?= $(shell command -v uv 2>/dev/null || echo .tools/bin/uv)
PYTEST_ARGS ?=

.PHONY: demo test lint fmt serve worker bench install

$(UV):
	python3 -m venv .tools && .tools/bin/pip install --quiet uv

install: $(UV)
	$(UV) sync --frozen

test: install
	$(UV) run pytest -n auto $(PYTEST_ARGS)

lint: install
	$(UV) run ruff check .
	$(UV) run ruff format --check .
	$(UV) run mypy mes config partner_app

fmt: install
	$(UV) run ruff format .
	$(UV) run ruff check --fix .

demo: install
	MES_DEMO=1 $(UV) run mes demo

bench: install
	$(UV) run python -m bench $(BENCH_ARGS)
