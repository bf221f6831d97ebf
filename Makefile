# lemma-course: two commands on a fresh machine with python3 and make.
#   make lab   - set up .venv and open the course in JupyterLab
#   make test  - set up .venv and run the whole test suite (unit, doctests, notebooks)
#   make test-quick - the unit tests and doctests that start no kernel and no browser (about a minute)
#   make test-numerics - nbval under other BLAS threads/kernels and without numpy's SIMD (CI)
#   make site  - (optional) build the course website into site/_build/html, offline (site/build.py);
#                LEMMA_REPOSITORY_URL=https://... adds launch buttons (none without it)
#   make slides - (optional) reveal.js slide decks of the concept notebooks 01-07 in slides/_build/html, offline (slides/build.py)
#   make student-pack - the notebooks learners get, in student-pack/ (PACK_OUT=dir, SUMMATIVE=1: no model answers,
#                       ORDER=interleaved: links follow docs/SCHEDULE.md)
#   make notebooks / make students / make bench - maintainers' targets (make bench BENCH=growth: one benchmark)
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
LAB_SETTINGS := $(VENV)/share/jupyter/lab/settings/overrides.json
LAB_ARGS ?=

.PHONY: lab test test-quick test-numerics venv site students notebooks bench clean student-pack slides

venv: $(STAMP) $(LAB_SETTINGS)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (lemma-course)" > /dev/null
	touch $(STAMP)

# the website's tools (the `site` extra of pyproject.toml) go into the same .venv
SITE_STAMP := $(VENV)/.installed-site
SITE_OUT ?= site/_build/html
$(SITE_STAMP): $(STAMP) pyproject.toml
	@$(BIN)/python -c "import sys; sys.exit(0 if sys.version_info >= (3, 11) else 'make site needs Python 3.11 or newer (Sphinx 9); .venv has ' + sys.version.split()[0])"
	$(BIN)/python -m pip install --quiet -e ".[dev,site]"
	touch $(SITE_STAMP)

# the course as a static website: committed outputs, nothing re-executed, MathJax from npm's package
site: $(SITE_STAMP)
	$(BIN)/python site/build.py --out $(SITE_OUT)

# slide decks of the concept notebooks, made from copies (slides/slide_types.py sets the slide types); reveal.js,
# MathJax 2, RequireJS and jQuery come from the npm registry (npm's cache first) into slides/_build/npm: no CDN
SLIDES_OUT ?= slides/_build/html
slides: $(STAMP)
	$(BIN)/python slides/build.py --out $(SLIDES_OUT)

# JupyterLab's first-run question "get notified about official Jupyter news?" pops up over the notebook:
# answered "never" (no news, no update checks) for this environment, as JupyterLab's settings overrides
$(LAB_SETTINGS): $(STAMP)
	mkdir -p $(dir $@)
	printf '%s\n' '{"@jupyterlab/apputils-extension:notification": {"fetchNews": "false", "checkForUpdates": false}}' > $@

# JupyterLab refuses to start as root ("Running as root is not recommended") unless told; containers often
# run as root, so make lab tells it, and says so
ALLOW_ROOT := $(if $(filter 0,$(shell id -u 2>/dev/null)),--allow-root)
ROOT_NOTE := make lab: you are root (in a container?), so JupyterLab is started with --allow-root

lab: $(STAMP) $(LAB_SETTINGS)
	@$(if $(ALLOW_ROOT),echo "$(ROOT_NOTE)",true)
	$(BIN)/jupyter lab notebooks/00_start.ipynb $(ALLOW_ROOT) $(LAB_ARGS)

test: $(STAMP)
	$(BIN)/python -m pytest -q -p no:randomly tests lemma_helpers
	$(BIN)/python -m pytest -q -p no:randomly --nbval --nbval-sanitize-with notebooks/sanitize.cfg notebooks --ignore=notebooks/student
	$(BIN)/python -m pytest -q -p no:randomly --nbval-lax notebooks/student

test-quick: $(STAMP)
	$(BIN)/python -m pytest -q -p no:randomly -m "not kernel and not browser" tests lemma_helpers

# the stored outputs must not depend on the numerical settings of the machine: nbval over every
# notebook with BLAS/OpenMP threads other than the default (one per core), OpenBLAS forced to
# another kernel family, and numpy's dispatchable SIMD targets that this CPU has switched off
# (numpy then runs its baseline code; it refuses to disable the baseline itself)
NUMERICS_THREADS ?= 1
NUMERICS_CORETYPE ?= Sandybridge
NPY_DISPATCHED = $(BIN)/python -c "import numpy as np; m = (getattr(np, '_core', None) or np.core)._multiarray_umath; print(' '.join(x for x in m.__cpu_dispatch__ if m.__cpu_features__.get(x)))"
test-numerics: $(STAMP)
	@features="$$($(NPY_DISPATCHED))"; \
	export OPENBLAS_NUM_THREADS=$(NUMERICS_THREADS) OMP_NUM_THREADS=$(NUMERICS_THREADS) MKL_NUM_THREADS=$(NUMERICS_THREADS) \
	       OPENBLAS_CORETYPE=$(NUMERICS_CORETYPE) NPY_DISABLE_CPU_FEATURES="$$features"; \
	echo "test-numerics: $(NUMERICS_THREADS) BLAS/OpenMP thread(s), OpenBLAS kernels $(NUMERICS_CORETYPE), numpy SIMD disabled: $${features:-none}"; \
	$(BIN)/python -c "import numpy, scipy.linalg, threadpoolctl; print('  BLAS:', [(i['internal_api'], i['num_threads'], i.get('architecture')) for i in threadpoolctl.threadpool_info()])" && \
	{ $(BIN)/python -m pytest -q -p no:randomly --nbval --nbval-sanitize-with notebooks/sanitize.cfg notebooks --ignore=notebooks/student; \
	  status=$$?; $(BIN)/python -m pytest -q -p no:randomly --nbval-lax notebooks/student && exit $$status; }

students: $(STAMP)
	$(BIN)/python scripts/make_student_copies.py

# the student pack (scripts/make_student_pack.py, docs/STUDENT_PACK.md): concept notebooks, fresh student
# copies of the practicals, a README; every link works inside the folder. SUMMATIVE=1 leaves out the model answers
PACK_OUT ?= student-pack
student-pack: $(STAMP)
	$(BIN)/python scripts/make_student_pack.py --out $(PACK_OUT) $(if $(SUMMATIVE),--summative) $(if $(ORDER),--order $(ORDER))

# re-execute every notebook in place (outputs are committed), then links and student copies
notebooks: $(STAMP)
	$(BIN)/python scripts/execute_notebooks.py

# every benchmark, one after the other (about 17 minutes; figures into benchmarks/README.md): the course's
# models against statsmodels and lme4, public teaching datasets against lme4, cost growth with rows and
# groups (benchmarks/growth.png), grading, the explorations, per-student variants (every varying question
# of the bank: keys, memory, pass rates), building the design matrices (direct, patsy, formulaic), a class
# of 300 end to end (BENCH=class: codes, keys, grading, exports, merge; kernels on a subset) and a class
# with the tests' hostile notebooks graded in the sandbox (BENCH=hostile; needs bubblewrap). lme4 is timed
# when Rscript with lme4 (and mlmRev for the datasets) is installed. BENCH=name runs one of them.
BENCH ?= run datasets growth grading explore variants design class hostile
bench: $(STAMP)
	@set -e; for b in $(BENCH); do \
	  script=benchmarks/$${b}_benchmark.py; [ "$$b" = run ] && script=benchmarks/run_benchmarks.py; \
	  echo "== $$script"; $(BIN)/python $$script; done

clean:
	rm -rf $(VENV) .pytest_cache
