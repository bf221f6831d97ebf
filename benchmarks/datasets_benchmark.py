"""Time lemma_helpers against lme4 on public teaching datasets that R packages ship.

Run with ``python benchmarks/datasets_benchmark.py`` (``BENCH_REPEATS``, default 5). Needs ``Rscript``
with lme4, mlmRev and jsonlite the first time: one Rscript call exports ``Dyestuff`` and ``sleepstudy``
(lme4) and ``Early``, ``Gcsemv``, ``Exam``, ``egsingle``, ``star`` and ``Chem97`` (mlmRev) as CSV into
``benchmarks/_data/`` (factors as their labels; not committed, see .gitignore). The export is skipped when
the CSVs are there and newer than this script. Without Rscript, the cached CSVs are fitted by lemma_helpers
alone; without either, the script says what it needs and exits.

Both packages fit the same CSVs by maximum likelihood. Each timing is the median of N whole fits from the
formula and the DataFrame (``lh.fit(..., reml=False)`` after one warm-up fit of the same model; inside R,
``lmer(f, d, REML = FALSE)`` after one warm-up call, the lmer call alone on the clock, as
``run_benchmarks.py`` does). The rows used (missing values dropped), the number of groups and the
log-likelihoods are compared. Writes the table into ``benchmarks/README.md`` between the datasets markers.
A measurement, not a test.
"""
from __future__ import annotations

import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from readme_section import write_section  # noqa: E402

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
import pandas as pd  # noqa: E402

import lemma_helpers as lh  # noqa: E402

DATA = HERE / "_data"
REPEATS = int(os.environ.get("BENCH_REPEATS", "5"))
SOURCES = {"Dyestuff": "lme4", "sleepstudy": "lme4", "Early": "mlmRev", "Gcsemv": "mlmRev",
           "Exam": "mlmRev", "egsingle": "mlmRev", "star": "mlmRev", "Chem97": "mlmRev"}
SIZES = ["tiny", "small", "medium", "course-size"]

# dataset, size class, formula (valid for lh.fit and lme4::lmer)
MODELS = [
    ("Dyestuff", "tiny", "Yield ~ 1 + (1 | Batch)"),
    ("sleepstudy", "small", "Reaction ~ Days + (1 + Days | Subject)"),
    ("Early", "small", "cog ~ age + trt + (1 + age | id)"),
    ("Early", "small", "cog ~ age + trt + (1 | id)"),
    ("Gcsemv", "medium", "course ~ gender + (1 | school)"),
    ("Gcsemv", "medium", "written ~ gender + (1 + gender | school)"),
    ("Exam", "medium", "normexam ~ standLRT + sex + (1 + standLRT | school)"),
    ("egsingle", "medium", "math ~ year + (1 | schoolid)"),
    ("egsingle", "medium", "math ~ year + (1 + year | childid)"),
    ("star", "course-size", "math ~ cltype + sx + (1 | sch)"),
    ("Chem97", "course-size", "score ~ gcsescore + gender + (1 | school)"),
    ("Chem97", "course-size", "score ~ gcsescore + gender + (1 + gcsescore | school)"),
]

EXPORT_R = r"""
suppressMessages({library(lme4); library(mlmRev)})
out <- commandArgs(trailingOnly = TRUE)[1]
sources <- jsonlite::fromJSON(commandArgs(trailingOnly = TRUE)[2])
factors <- list()
for (name in names(sources)) {
  d <- get(name, envir = asNamespace(sources[[name]]))
  is_f <- vapply(d, is.factor, logical(1))
  d[is_f] <- lapply(d[is_f], as.character)
  write.csv(d, file.path(out, paste0(name, ".csv")), row.names = FALSE)
  factors[[name]] <- names(d)[is_f]
}
writeLines(jsonlite::toJSON(factors), file.path(out, "factors.json"))
"""

TIME_R = r"""
suppressMessages(library(lme4))
args <- commandArgs(trailingOnly = TRUE)
dir <- args[1]; models <- jsonlite::fromJSON(args[2]); reps <- as.integer(args[3])
factors <- jsonlite::fromJSON(file.path(dir, "factors.json"))
data <- list()
for (name in unique(models$data)) {
  f <- factors[[name]]
  d <- read.csv(file.path(dir, paste0(name, ".csv")), colClasses = setNames(rep("character", length(f)), f))
  for (v in f) d[[v]] <- factor(d[[v]])
  data[[name]] <- d
}
fit <- function(f, d) {
  msgs <- character(0)
  m <- withCallingHandlers(lmer(f, d, REML = FALSE),
    warning = function(w) { msgs <<- c(msgs, conditionMessage(w)); invokeRestart("muffleWarning") },
    message = function(e) { msgs <<- c(msgs, conditionMessage(e)); invokeRestart("muffleMessage") })
  list(m = m, msgs = msgs)
}
out <- list()
for (i in seq_len(nrow(models))) {
  f <- as.formula(models$formula[i]); d <- data[[models$data[i]]]
  r <- fit(f, d)                                   # warm-up, not timed
  times <- numeric(reps)
  for (k in seq_len(reps)) {
    t0 <- Sys.time(); r <- fit(f, d); times[k] <- as.numeric(Sys.time() - t0, units = "secs")
  }
  m <- r$m
  out[[i]] <- list(seconds = median(times), loglik = as.numeric(logLik(m)), n_obs = nobs(m),
                   n_groups = as.integer(ngrps(m)[[1]]), notes = paste(unique(trimws(r$msgs)), collapse = "; "))
}
cat(jsonlite::toJSON(out, auto_unbox = TRUE, digits = NA))
"""


def export_data() -> bool:
    """Make sure the CSVs are in ``_data/``; True when they are."""
    files = [DATA / f"{name}.csv" for name in SOURCES] + [DATA / "factors.json"]
    script_time = Path(__file__).stat().st_mtime
    if all(f.exists() and f.stat().st_mtime > script_time for f in files):
        return True
    if not shutil.which("Rscript"):
        return all(f.exists() for f in files)
    DATA.mkdir(exist_ok=True)
    res = _rscript(EXPORT_R, [str(DATA), json.dumps(SOURCES)])
    if res.returncode != 0:
        print("Exporting the datasets with R failed:", res.stderr[-2000:], file=sys.stderr)
        return False
    return True


def _rscript(code: str, args: list):
    with tempfile.NamedTemporaryFile("w", suffix=".R", delete=False) as fh:
        fh.write(code)
    try:
        return subprocess.run(["Rscript", fh.name, *args], capture_output=True, text=True, timeout=3600)
    finally:
        os.unlink(fh.name)


def load_data() -> dict:
    factors = json.loads((DATA / "factors.json").read_text())
    return {name: pd.read_csv(DATA / f"{name}.csv", dtype={v: str for v in factors[name]},
                              keep_default_na=False, na_values=["NA"])
            for name in SOURCES}


def time_ours(data: dict) -> list:
    rows = []
    for ds, _, formula in MODELS:
        m = lh.fit(formula, data=data[ds], reml=False)    # warm-up, not timed
        times = []
        for _ in range(REPEATS):
            t0 = time.perf_counter()
            m = lh.fit(formula, data=data[ds], reml=False)
            times.append(time.perf_counter() - t0)
        rows.append({"seconds": statistics.median(times), "loglik": m.loglik, "n_obs": m.n_obs,
                     "n_groups": m.n_groups, "converged": m.converged,
                     "notes": [n for n in m.notes if "rows with a missing value were dropped" not in n]})
        print(f"ours  {ds:10} {formula:55} {1000 * rows[-1]['seconds']:9.1f} ms  loglik {m.loglik:.6f}",
              flush=True)
    return rows


def time_lme4() -> list | None:
    if not shutil.which("Rscript"):
        return None
    models = json.dumps([{"data": ds, "formula": f} for ds, _, f in MODELS])
    res = _rscript(TIME_R, [str(DATA), models, str(REPEATS)])
    if res.returncode != 0:
        print("lme4 timing failed:", res.stderr[-2000:], file=sys.stderr)
        return None
    return json.loads(res.stdout)


def cell(text: str) -> str:
    """A formula inside a Markdown table cell: its ``|`` escaped."""
    return text.replace("|", "\\|")


def fmt_ms(s: float) -> str:
    return f"{1000 * s:.1f}" if s < 0.1 else f"{1000 * s:.0f}"


def table_lines(ours: list, r: list | None, load: tuple) -> list:
    lines = [f"Machine: {platform.machine()}, {os.cpu_count()} cores shared with other work, Python "
             f"{platform.python_version()}; lemma_helpers against lme4 {lme4_version() or '(not run)'}; "
             f"median of {REPEATS} repeat{'s' * (REPEATS != 1)}; load average {load[0]:.1f} at the start, {load[1]:.1f} at the end; "
             f"date {date.today()}.", "",
             "| dataset | size | model | rows | groups | ours (ms) | lme4 (ms) | lme4 / ours | loglik lme4 - ours |",
             "|---|---|---|---:|---:|---:|---:|---:|---:|"]
    ratios = {s: [] for s in SIZES}
    odd = []
    for i, (ds, size, formula) in enumerate(MODELS):
        o = ours[i]
        cells = ["", "", ""]
        rows, groups = f"{o['n_obs']:,}", f"{o['n_groups']:,}"
        if r is not None:
            lm = r[i]
            ratio = lm["seconds"] / o["seconds"]
            gap = lm["loglik"] - o["loglik"]
            ratios[size].append(ratio)
            cells = [fmt_ms(lm["seconds"]), f"{ratio:.1f}x", f"{gap:.2g}"]
            if lm["n_obs"] != o["n_obs"]:
                rows += f" (lme4: {lm['n_obs']:,})"
                odd.append(f"`{formula}` ({ds}): lme4 used {lm['n_obs']:,} rows, lemma_helpers {o['n_obs']:,}.")
            if lm["n_groups"] != o["n_groups"]:
                groups += f" (lme4: {lm['n_groups']:,})"
            if abs(gap) > 1e-4:
                odd.append(f"`{formula}` ({ds}): log-likelihood lme4 {lm['loglik']:.6f}, "
                           f"lemma_helpers {o['loglik']:.6f}.")
            if lm["notes"]:
                odd.append(f"`{formula}` ({ds}): lme4 says: {lm['notes']}")
        if not o["converged"]:
            odd.append(f"`{formula}` ({ds}): lemma_helpers reports no convergence.")
        for note in o["notes"]:
            if "did not report convergence" not in note:
                odd.append(f"`{formula}` ({ds}): lemma_helpers says: {note}")
        lines.append(f"| {ds} | {size} | `{cell(formula)}` | {rows} | {groups} | {fmt_ms(o['seconds'])} | "
                     + " | ".join(cells) + " |")
    lines.append("")
    if r is None:
        lines.append("lme4 was not run (no `Rscript` on this machine): only lemma_helpers' times are shown.")
    else:
        lines += ["| size class | models | median lme4 / ours | smallest lme4 / ours | slower than lme4 |",
                  "|---|---:|---:|---:|---:|"]
        for s in SIZES:
            v = ratios[s]
            lines.append(f"| {s} | {len(v)} | {statistics.median(v):.1f}x | {min(v):.1f}x | "
                         f"{sum(x < 1 for x in v)} |")
    if odd:
        lines += ["", "Notes from this run:", ""] + [f"- {x}" for x in odd]
    return lines


def lme4_version() -> str | None:
    if not shutil.which("Rscript"):
        return None
    res = subprocess.run(["Rscript", "-e", 'cat(format(packageVersion("lme4")), R.version$major, '
                          'R.version$minor)'], capture_output=True, text=True)
    if res.returncode != 0:
        return None
    v, major, minor = res.stdout.split()
    return f"{v} (R {major}.{minor})"


INTRO = [
    "Each model is fitted by maximum likelihood with `lh.fit(formula, data=df, reml=False)` and with",
    "`lme4::lmer(formula, d, REML = FALSE)` on the same data: `Dyestuff` and `sleepstudy` from the R package",
    "lme4, `Early`, `Gcsemv`, `Exam`, `egsingle`, `star` and `Chem97` from the R package mlmRev. The script",
    "exports them with R as CSV into `benchmarks/_data/` at run time (factors as their labels); the CSVs are",
    "not committed. Times are medians of whole fits from formula and data frame (after one untimed warm-up fit",
    "of each model; for lme4 the `lmer` call alone, timed inside R with `Sys.time()`). \"rows\" are the rows used after rows",
    "with a missing value in the model are dropped, by both packages alike unless the column says otherwise;",
    "\"lme4 / ours\" above 1 means lemma_helpers is faster. Factors are coded with their labels in",
    "alphabetical order by both packages, so a reference category can differ from the R package's own",
    "(e.g. `sx`, `gender` in Chem97), which changes the fixed-effect coefficients but not the log-likelihood.",
    "",
]


def main() -> None:
    if not export_data():
        print("This benchmark needs the R datasets: install R with the packages lme4, mlmRev and jsonlite "
              "(`Rscript` on the PATH) so that it can export them into benchmarks/_data/, "
              "or copy the CSVs there. Nothing was run.")
        return
    data = load_data()
    load_start = os.getloadavg()[0]
    ours = time_ours(data)
    r = time_lme4()
    load_end = os.getloadavg()[0]
    lines = INTRO + table_lines(ours, r, (load_start, load_end))
    print("\n".join(lines))
    write_section("datasets", "Public teaching datasets against lme4", lines)


if __name__ == "__main__":
    main()
