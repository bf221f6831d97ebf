# lemma-course: two commands on a fresh machine with python3 and make.
#   make lab   - set up .venv and open the course in JupyterLab
#   make test  - set up .venv and run the whole test suite (unit, doctests, notebooks)
#   make notebooks / make students / make bench - maintainers' targets
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
LAB_ARGS ?=

.PHONY: lab test venv students notebooks bench clean

venv: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (lemma-course)" > /dev/null
	touch $(STAMP)

lab: $(STAMP)
	$(BIN)/jupyter lab notebooks/00_start.ipynb $(LAB_ARGS)

test: $(STAMP)
	$(BIN)/python -m pytest -q -p no:randomly tests lemma_helpers
	$(BIN)/python -m pytest -q -p no:randomly --nbval --nbval-sanitize-with notebooks/sanitize.cfg notebooks --ignore=notebooks/student
	$(BIN)/python -m pytest -q -p no:randomly --nbval-lax notebooks/student

students: $(STAMP)
	$(BIN)/python scripts/make_student_copies.py

# re-execute every notebook in place (outputs are committed), then links and student copies
notebooks: $(STAMP)
	$(BIN)/python scripts/execute_notebooks.py

bench: $(STAMP)
	$(BIN)/python benchmarks/run_benchmarks.py

clean:
	rm -rf $(VENV) .pytest_cache
