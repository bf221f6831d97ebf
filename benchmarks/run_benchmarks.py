"""Time every model the course fits: lemma_helpers against statsmodels MixedLM and lme4.

Run with ``make bench`` (or ``python benchmarks/run_benchmarks.py``). Needs the
data (``LEMMA_DATA_DIR``); lme4 is timed when ``Rscript`` with lme4 is on the
PATH. Writes the table into ``benchmarks/README.md`` between the markers.

Each timing is the median of several repeats of a whole fit from the formula
and the DataFrame (design matrices included), on one core.
"""
from __future__ import annotations

import json
import os
import re
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

import lemma_helpers as lh

HERE = Path(__file__).resolve().parent
REPEATS = int(os.environ.get("BENCH_REPEATS", "5"))


def course_data():
    ess = lh.load_dataset("ess_hedonism")
    ess["age46"] = ess["age"] - 46
    ssls = lh.load_dataset("ssls")
    for code, label in [(1, "managerial"), (2, "intermediate"), (4, "unclassified")]:
        ssls[f"sclass{code}"] = (ssls["sclass"] == label).astype(float)
    ssls["share1"] = ssls.groupby("schoolid", observed=True)["sclass1"].transform("mean")
    exam = lh.load_dataset("exam")
    return {"ess": ess, "ssls": ssls, "exam": exam}


# name, dataset, formula (valid for lh.fit and lme4), level1 function (lh only)
MODELS = [
    ("ess_null", "ess", "hedonism ~ 1 + (1 | country)", None),
    ("ess_age", "ess", "hedonism ~ age46 + (1 | country)", None),
    ("ess_age_female", "ess", "hedonism ~ age46 + female + (1 | country)", None),
    ("ess_rs_age", "ess", "hedonism ~ age46 + (1 + age46 | country)", None),
    ("ess_rs_age_raw", "ess", "hedonism ~ age + (1 + age | country)", None),
    ("ess_rc_female", "ess", "hedonism ~ age46 + female + (1 + female | country)", None),
    ("ess_l2_income", "ess", "hedonism ~ age46 + income_mean + (1 | country)", None),
    ("ess_contextual", "ess", "hedonism ~ income + income_mean + (1 | country)", None),
    ("ess_crosslevel", "ess", "hedonism ~ age46 + income * income_mean + (1 + income | country)", None),
    ("ess_l1_female", "ess", "hedonism ~ age46 + female + (1 | country)", "~ 0 + C(female)"),
    ("ess_l1_age", "ess", "hedonism ~ age46 + female + (1 | country)", "~ 1 + age46"),
    ("ssls_null", "ssls", "score ~ 1 + (1 | schoolid)", None),
    ("ssls_cohort", "ssls", "score ~ cohort90 + (1 | schoolid)", None),
    ("ssls_rs_cohort", "ssls", "score ~ cohort90 + (1 + cohort90 | schoolid)", None),
    ("ssls_rc_female", "ssls", "score ~ cohort90 + female + (1 + cohort90 + female | schoolid)", None),
    ("ssls_rc_sclass", "ssls", "score ~ cohort90 + female + sclass1 + sclass2 + sclass4 + (1 + cohort90 + sclass1 + sclass2 + sclass4 | schoolid)", None),
    ("ssls_share", "ssls", "score ~ cohort90 + female + sclass1 + sclass2 + sclass4 + schtype + schurban + share1 + (1 + cohort90 | schoolid)", None),
    ("ssls_share_int", "ssls", "score ~ cohort90 * share1 + female + sclass1 + sclass2 + sclass4 + schtype + schurban + (1 + cohort90 | schoolid)", None),
    ("ssls_l1_cohort", "ssls", "score ~ cohort90 * share1 + female + sclass1 + sclass2 + sclass4 + schtype + schurban + (1 + cohort90 | schoolid)", "~ 1 + cohort90"),
    ("exam_null", "exam", "normexam ~ 1 + (1 | school)", None),
    ("exam_rs", "exam", "normexam ~ standlrt + (1 + standlrt | school)", None),
]


def _median_time(fn, repeats=REPEATS):
    times = []
    out = None
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), out


def time_ours(data):
    """Median seconds of lh.fit, of lh.fit plus the tables a printed model shows (the random part's
    standard errors included), and the log-likelihood."""
    rows = {}
    for name, ds, formula, level1 in MODELS:
        seconds, m = _median_time(lambda: lh.fit(formula, data=data[ds], level1=level1))

        def shown():
            fitted = lh.fit(formula, data=data[ds], level1=level1)
            return fitted, fitted.fixed, fitted.random
        with_tables, _ = _median_time(shown)
        rows[name] = (seconds, m.loglik, with_tables)
    return rows


def time_statsmodels(data):
    import statsmodels.formula.api as smf

    rows = {}
    for name, ds, formula, level1 in MODELS:
        if level1 is not None:
            rows[name] = (np.nan, np.nan, "cannot fit a level-1 variance function")
            continue
        fixed, random = formula.split("+ (")
        random, group = random.rstrip(")").split("|")
        used = set(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", formula))
        df = data[ds].dropna(subset=[c for c in data[ds].columns if c in used])
        re_formula = "~ " + random.strip()

        def run():
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                return smf.mixedlm(fixed.strip(), df, groups=df[group.strip()],
                                   re_formula=re_formula).fit(reml=False)
        seconds, res = _median_time(run, repeats=1)  # slow: one run each
        rows[name] = (seconds, float(res.llf), "" if res.converged else "not converged")
    return rows


R_SCRIPT = r"""
suppressMessages(library(lme4))
d <- Sys.getenv("LEMMA_DATA_DIR")
ess <- read.table(file.path(d, "ess_hedonism_2002.txt"), header = TRUE)
ess$hedonism <- ess$HEDSCORE; ess$age46 <- ifelse(ess$AGE == 999, NA, ess$AGE); ess$age <- ess$age46 + 46
ess$female <- ifelse(ess$FEMALE == 9, NA, ess$FEMALE); ess$income <- ifelse(ess$INCOME == 99, NA, ess$INCOME)
ess$income_mean <- ave(ess$income, ess$country, FUN = function(v) mean(v, na.rm = TRUE)); ess$country <- factor(ess$country)
ssls <- read.csv(file.path(d, "ssls_5.1.txt")); ssls$schoolid <- factor(ssls$schoolid)
for (k in c(1, 2, 4)) ssls[[paste0("sclass", k)]] <- as.numeric(ssls$sclass == k)
ssls$share1 <- ave(ssls$sclass1, ssls$schoolid)
exam <- read.csv(EXAM); exam$school <- factor(exam$school)
data <- list(ess = ess, ssls = ssls, exam = exam)
models <- jsonlite::fromJSON(MODELS)
reps <- REPEATS
out <- list()
for (i in seq_len(nrow(models))) {
  f <- as.formula(models$formula[i]); df <- data[[models$data[i]]]
  times <- numeric(reps)
  for (r in seq_len(reps)) { t0 <- proc.time()[["elapsed"]]; m <- suppressWarnings(suppressMessages(lmer(f, df, REML = FALSE))); times[r] <- proc.time()[["elapsed"]] - t0 }
  out[[models$name[i]]] <- list(seconds = median(times), loglik = as.numeric(logLik(m)))
}
cat(jsonlite::toJSON(out, auto_unbox = TRUE, digits = 15))
"""


def time_lme4():
    if not shutil.which("Rscript"):
        return None
    models = [{"name": n, "data": ds, "formula": f} for n, ds, f, l1 in MODELS if l1 is None]
    script = (R_SCRIPT.replace("MODELS", repr(json.dumps(models)))
              .replace("EXAM", repr(str(HERE.parent / "lemma_helpers" / "data" / "exam.csv")))
              .replace("REPEATS", str(REPEATS)))
    with tempfile.NamedTemporaryFile("w", suffix=".R", delete=False) as fh:
        fh.write(script)
    try:
        res = subprocess.run(["Rscript", fh.name], capture_output=True, text=True, timeout=3600)
    finally:
        os.unlink(fh.name)
    if res.returncode != 0:
        print("lme4 timing failed:", res.stderr[-2000:], file=sys.stderr)
        return None
    return {k: (v["seconds"], v["loglik"]) for k, v in json.loads(res.stdout).items()}


LOAD = os.getloadavg()


def main():
    data = course_data()
    lh.fit("normexam ~ 1 + (1 | school)", data=data["exam"])  # warm-up: imports, caches
    ours = time_ours(data)
    sm = time_statsmodels(data)
    r = time_lme4()
    rows = []
    for name, *_ in MODELS:
        t, ll, t_tables = ours[name]
        st, sll, snote = sm[name]
        row = {"model": name, "ours_ms": 1000 * t, "ours_tables_ms": 1000 * t_tables, "statsmodels_ms": 1000 * st,
               "statsmodels_loglik_gap": sll - ll if np.isfinite(sll) else np.nan,
               "statsmodels_note": snote}
        if r is not None and name in r:
            row["lme4_ms"] = 1000 * r[name][0]
            row["lme4_loglik_gap"] = r[name][1] - ll
            row["speed_up_vs_lme4"] = r[name][0] / t
        rows.append(row)
    table = pd.DataFrame(rows).set_index("model")
    print(table.round(2).to_string())
    write_readme(table)


def write_readme(table: pd.DataFrame):
    readme = HERE / "README.md"
    text = readme.read_text() if readme.exists() else "<!-- results:start -->\n<!-- results:end -->\n"
    head, rest = text.split("<!-- results:start -->")
    _, tail = rest.split("<!-- results:end -->")
    lines = ["| model | ours (ms) | ours with tables (ms) | statsmodels (ms) | lme4 (ms) | ours vs lme4 | loglik gap statsmodels | loglik gap lme4 | statsmodels note |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---|"]
    for name, r in table.iterrows():
        def f(v, fmt):
            return "" if v is None or (isinstance(v, float) and np.isnan(v)) else format(v, fmt)
        lines.append(f"| {name} | {f(r.ours_ms, '.1f')} | {f(r.ours_tables_ms, '.1f')} | {f(r.statsmodels_ms, '.0f')} | "
                     f"{f(r.get('lme4_ms', np.nan), '.0f')} | {f(r.get('speed_up_vs_lme4', np.nan), '.1f') and f(r.get('speed_up_vs_lme4', np.nan), '.1f') + 'x'} | "
                     f"{f(r.statsmodels_loglik_gap, '.2g')} | {f(r.get('lme4_loglik_gap', np.nan), '.2g')} | {r.statsmodels_note} |")
    summary = [f"Median of ours: {table.ours_ms.median():.1f} ms; slowest: {table.ours_ms.max():.1f} ms "
               f"({table.ours_ms.idxmax()}); {int((table.ours_ms < 50).sum())} of {len(table)} models under 50 ms "
               f"({int((table.ours_tables_ms < 50).sum())} with the tables)."]
    if "speed_up_vs_lme4" in table:
        ratio = table.speed_up_vs_lme4.dropna()
        summary.append(f"Median speed-up against lme4: {ratio.median():.1f}x; smallest {ratio.min():.1f}x "
                       f"({ratio.idxmin()}); slower than lme4 on {int((ratio < 1).sum())} of {len(ratio)} models.")
    meta = (f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; "
            f"{REPEATS} repeats, median; load average {LOAD[0]:.1f} at the start, {os.getloadavg()[0]:.1f} at the end; "
            f"date {time.strftime('%Y-%m-%d')}.")
    body = "\n".join([meta, "", *lines, "", *summary])
    readme.write_text(f"{head}<!-- results:start -->\n{body}\n<!-- results:end -->{tail}")


if __name__ == "__main__":
    main()
