"""How the fit time of lemma_helpers grows with the number of rows and of groups, side by side with lme4.

Run with ``python benchmarks/growth_benchmark.py`` (``LEMMA_DATA_DIR`` need not be set: the data are
simulated). ``GROWTH_MAX_ROWS`` (default 10^7, e.g. ``GROWTH_MAX_ROWS=1e5`` for a quick run) stops the
rows sweep earlier, and the groups sweep then uses that many rows; ``GROWTH_LME4_BUDGET`` (seconds,
default 360) is the wall-clock budget of the whole lme4 part. The full run takes about 10 minutes on 2 cores.

Simulated two-level data (numpy ``default_rng``, fixed seed): ``y = 1 + 0.5 x + u0_g + u1_g x + e`` with
``x ~ N(0, 1)``, ``u0 ~ N(0, 0.5^2)``, ``u1 ~ N(0, 0.2^2)``, ``e ~ N(0, 1)``, every group the same size.
Two models, by maximum likelihood: random intercept ``y ~ x + (1 | g)`` and random slope
``y ~ x + (1 + x | g)``. Two sweeps: rows 10^3 ... 10^7 with 100 groups, and groups 10 ... 10^5 with 10^6
rows (the point 10^6 rows / 100 groups is in both and measured once).

Ours is a whole ``lh.fit`` from the DataFrame (median of 3 up to 10^5 rows, one fit above). lme4 gets the
same numbers through a binary file (written with numpy, read with R's ``readBin``; cached in
``benchmarks/_data/growth/``, not committed) and only the ``lmer(..., REML = FALSE)`` call is timed, with the
same repeats. lme4 stops for a sweep once one fit takes more than 60 s, and a size is not run when the
lme4 part would pass its budget. Writes ``benchmarks/growth.png`` and the table into
``benchmarks/README.md`` between the growth markers. A measurement, not a test.
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
import textwrap
import time
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))
from readme_section import write_section  # noqa: E402

import lemma_helpers as lh  # noqa: E402

SEED = 20261130
MAX_ROWS = int(float(os.environ.get("GROWTH_MAX_ROWS", "1e7")))
LME4_BUDGET = float(os.environ.get("GROWTH_LME4_BUDGET", "360"))
LME4_FIT_LIMIT = 60.0            # seconds: one lme4 fit slower than this ends lme4 for its sweep
CACHE = HERE / "_data" / "growth"
MODELS = {"RI": "y ~ x + (1 | g)", "RS": "y ~ x + (1 + x | g)"}
ROWS_SWEEP = [10**3, 10**4, 10**5, 10**6, 10**7]          # with 100 groups
GROUPS_SWEEP = [10, 100, 10**3, 10**4, 10**5]             # with 10^6 rows
MIN_ROWS_PER_GROUP = 5                                    # quick runs: skip groups that leave fewer rows


def repeats(n: int) -> int:
    return 3 if n <= 10**5 else 1


def simulate(n: int, groups: int) -> pd.DataFrame:
    rng = np.random.default_rng([SEED, n, groups])
    g = rng.permutation(np.arange(n) % groups).astype(np.int32)     # every group n / groups rows
    x = rng.standard_normal(n)
    u0 = rng.normal(0.0, 0.5, groups)
    u1 = rng.normal(0.0, 0.2, groups)
    y = 1.0 + 0.5 * x + u0[g] + u1[g] * x + rng.standard_normal(n)
    return pd.DataFrame({"y": y, "x": x, "g": g})


def write_binary(df: pd.DataFrame, n: int, groups: int) -> Path:
    """y and x as little-endian doubles, then g as 4-byte integers: what R's readBin reads back."""
    path = CACHE / f"n{n}_g{groups}_seed{SEED}.bin"
    if path.exists() and path.stat().st_size == 20 * n:
        return path
    CACHE.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    with open(tmp, "wb") as fh:
        df["y"].to_numpy("<f8").tofile(fh)
        df["x"].to_numpy("<f8").tofile(fh)
        df["g"].to_numpy("<i4").tofile(fh)
    tmp.replace(path)
    return path


def time_ours(df: pd.DataFrame, formula: str, reps: int):
    """Median time of ``reps`` fits, the last fit, and (for single fits) the time of a first fit made
    before the timed one: the first fit on freshly made data also pays for the first touch of the
    memory its arrays take (a few GB at 10^7 rows), which a fit on data already in use does not."""
    first = np.nan
    if reps == 1:
        t0 = time.perf_counter()
        lh.fit(formula, data=df, reml=False)
        first = time.perf_counter() - t0
    times, m = [], None
    for _ in range(reps):
        t0 = time.perf_counter()
        m = lh.fit(formula, data=df, reml=False)
        times.append(time.perf_counter() - t0)
    return statistics.median(times), m, first


R_SCRIPT = r"""
suppressMessages(library(lme4))
n <- NROWS
con <- file(PATH, "rb")
y <- readBin(con, "double", n); x <- readBin(con, "double", n); g <- readBin(con, "integer", n, size = 4)
close(con)
d <- data.frame(y = y, x = x, g = factor(g)); rm(y, x, g); invisible(gc())
for (name in names(FORMULAS)) {
  f <- as.formula(FORMULAS[[name]]); times <- numeric(REPS); notes <- character(0)
  for (r in seq_len(REPS)) {
    t0 <- proc.time()[["elapsed"]]
    m <- withCallingHandlers(lmer(f, d, REML = FALSE),
                             warning = function(w) { notes <<- c(notes, conditionMessage(w)); invokeRestart("muffleWarning") },
                             message = function(w) { notes <<- c(notes, conditionMessage(w)); invokeRestart("muffleMessage") })
    times[r] <- proc.time()[["elapsed"]] - t0
  }
  cat(jsonlite::toJSON(list(model = name, seconds = median(times), times = times, loglik = as.numeric(logLik(m)),
                            ngroups = nlevels(d$g), notes = unique(notes)), auto_unbox = TRUE, digits = NA), "\n")
  flush(stdout())
  if (max(times) > LIMIT) break
}
"""


def estimate_lme4(history, n: int, groups: int):
    """Which models to try at this size, and the expected seconds of each (fits and repeats) and of the
    process overhead (start, reading the data): the last measured size with the same number of groups (else
    the last one), scaled linearly with the rows. Models that were not measured there are not tried."""
    if not history:
        return list(MODELS), {**{name: 0.0 for name in MODELS}, "overhead": 0.0}
    same = [h for h in history if h[1] == groups]
    n0, _, fits, overhead = (same or history)[-1]
    estimate = {name: fits.get(name, np.inf) * n / n0 for name in MODELS}
    estimate["overhead"] = overhead * n / n0
    return [name for name in MODELS if name in fits], estimate


def run_lme4(path: Path, n: int, reps: int, models: list, timeout: float):
    """Fit the models in one R process; returns ({model: result}, wall seconds, note)."""
    script = (R_SCRIPT.replace("NROWS", str(n)).replace("PATH", json.dumps(str(path)))
              .replace("FORMULAS", "list(" + ", ".join(f"{k} = {json.dumps(MODELS[k])}" for k in models) + ")")
              .replace("REPS", str(reps)).replace("LIMIT", str(LME4_FIT_LIMIT)))
    with tempfile.NamedTemporaryFile("w", suffix=".R", delete=False) as fh:
        fh.write(script)
    t0 = time.perf_counter()
    note = ""
    try:
        res = subprocess.run(["Rscript", fh.name], capture_output=True, text=True, timeout=timeout)
        out = res.stdout
        if res.returncode != 0:
            note = "lme4 failed: " + res.stderr.strip()[-300:]
    except subprocess.TimeoutExpired as exc:
        out = exc.stdout.decode() if isinstance(exc.stdout, bytes) else (exc.stdout or "")
        note = f"stopped at the budget after {timeout:.0f} s"
    finally:
        os.unlink(fh.name)
    results = {}
    for line in out.splitlines():
        if line.strip().startswith("{"):
            r = json.loads(line)
            for key in ("times", "notes"):            # toJSON's auto_unbox turns a length-1 vector into a scalar
                if not isinstance(r[key], list):
                    r[key] = [r[key]]
            results[r["model"]] = r
    return results, time.perf_counter() - t0, note


def plan():
    """The datasets, smallest first, with the sweeps each belongs to (the 10^6 / 100 point is in both)."""
    points = {}
    for n in ROWS_SWEEP:
        if n <= MAX_ROWS:
            points.setdefault((n, 100), []).append("rows")
    n_b = min(10**6, MAX_ROWS)
    for gcount in GROUPS_SWEEP:
        if n_b / gcount >= MIN_ROWS_PER_GROUP:
            points.setdefault((n_b, gcount), []).append("groups")
    return sorted(points.items())


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{platform.machine()} {cpu}, {os.cpu_count()} cores"


def engine_version() -> str:
    """The commit of lemma_helpers measured, and whether its folder had uncommitted changes."""
    try:
        head = subprocess.run(["git", "-C", str(HERE.parent), "rev-parse", "--short", "HEAD"],
                              capture_output=True, text=True, timeout=30).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(HERE.parent), "status", "--porcelain", "--", "lemma_helpers"],
                               capture_output=True, text=True, timeout=30).stdout.strip()
        return f"lemma_helpers at {head}" + (" with uncommitted changes" if dirty else "") if head else "lemma_helpers"
    except Exception:  # noqa: BLE001 - only a label
        return "lemma_helpers"


def r_version() -> str:
    try:
        res = subprocess.run(["Rscript", "-e", 'cat(R.version$major, R.version$minor, as.character(packageVersion("lme4")))'],
                             capture_output=True, text=True, timeout=60)
        major, minor, lme4 = res.stdout.split()
        return f"R {major}.{minor}, lme4 {lme4}"
    except Exception:  # noqa: BLE001 - only a label
        return "R not found"


def measure():
    have_r = shutil.which("Rscript") is not None
    lh.fit(MODELS["RS"], data=simulate(1000, 10), reml=False)      # warm-up: imports, caches
    rows = []
    lme4_spent = 0.0
    stopped = {}                 # sweep -> reason lme4 is no longer run in it
    history = []                 # (n, groups, {model: seconds of its fits}, overhead seconds) per lme4 process
    for (n, gcount), sweeps in plan():
        reps = repeats(n)
        df = simulate(n, gcount)
        ours = {}
        for name, formula in MODELS.items():
            seconds, m, first = time_ours(df, formula, reps)
            ours[name] = (seconds, m, first)
            print(f"ours  n={n:>9,} groups={gcount:>7,} {name}: {seconds:8.3f} s  loglik {m.loglik:.6f}"
                  f"{'' if np.isnan(first) else f'  (first fit {first:.3f} s)'}"
                  f"{'' if m.converged else '  NOT CONVERGED'}", flush=True)
        lme4, notes = {}, {}
        if not have_r:
            notes = {name: "not run (no Rscript)" for name in MODELS}
        elif all(s in stopped for s in sweeps):
            notes = {name: "not run (budget: " + stopped[sweeps[0]] + ")" for name in MODELS}
        else:
            todo, estimate = estimate_lme4(history, n, gcount)
            for name in MODELS:
                if name not in todo:
                    notes[name] = "not run (budget: it was not run at the size before)"
            while todo and lme4_spent + sum(estimate[m] for m in todo) + estimate["overhead"] > LME4_BUDGET:
                dropped = todo.pop()                       # the costlier model (RS) goes first
                notes[dropped] = (f"not run (budget: {lme4_spent:.0f} s of {LME4_BUDGET:.0f} spent; estimated "
                                  f"{estimate[dropped]:.0f} s for this fit, {estimate['overhead']:.0f} s to start R "
                                  f"and read the data)")
            if todo:
                path = write_binary(df, n, gcount)
                lme4, wall, fail = run_lme4(path, n, reps, todo, timeout=LME4_BUDGET - lme4_spent + 30)
                lme4_spent += wall
                fits = {name: sum(r["times"]) for name, r in lme4.items()}
                history.append((n, gcount, fits, max(wall - sum(fits.values()), 0.0)))
                for name in todo:
                    if name not in lme4:
                        notes[name] = fail or f"not run (budget: a fit took more than {LME4_FIT_LIMIT:.0f} s before it)"
                for name, r in lme4.items():
                    print(f"lme4  n={n:>9,} groups={gcount:>7,} {name}: {r['seconds']:8.3f} s  loglik {r['loglik']:.6f}"
                          f"  {'; '.join(r['notes'])}", flush=True)
                if any(max(r["times"]) > LME4_FIT_LIMIT for r in lme4.values()):
                    for s in sweeps:
                        stopped[s] = f"a fit took more than {LME4_FIT_LIMIT:.0f} s at {n:,} rows, {gcount:,} groups"
        del df
        for name in MODELS:
            seconds, m, first = ours[name]
            r = lme4.get(name)
            rows.append({"rows": n, "groups": gcount, "sweeps": sweeps, "model": name, "reps": reps,
                         "ours_s": seconds, "ours_first_s": first, "ours_loglik": m.loglik, "ours_converged": m.converged,
                         "ours_groups": m.n_groups, "ours_n": m.n_obs,
                         "lme4_s": r["seconds"] if r else np.nan, "lme4_loglik": r["loglik"] if r else np.nan,
                         "lme4_notes": "; ".join(r["notes"]) if r else "",
                         "lme4_missing": "" if r else notes.get(name, "not run")})
        print(f"      lme4 time spent so far: {lme4_spent:.0f} s", flush=True)
    return pd.DataFrame(rows), lme4_spent


def sweep_table(res: pd.DataFrame, sweep: str) -> pd.DataFrame:
    return res[res["sweeps"].apply(lambda s: sweep in s)].sort_values(["model", "rows", "groups"])


def slope(xs, ys) -> float:
    xs, ys = np.asarray(xs, float)[-3:], np.asarray(ys, float)[-3:]
    ok = np.isfinite(ys)
    if ok.sum() < 3:
        return np.nan
    return float(np.polyfit(np.log10(xs[ok]), np.log10(ys[ok]), 1)[0])


COLOURS = {("ours", "RI"): "#0072B2", ("ours", "RS"): "#56B4E9",     # Okabe-Ito: blues for ours,
           ("lme4", "RI"): "#D55E00", ("lme4", "RS"): "#E69F00"}     # vermillion / orange for lme4
MARKERS = {("ours", "RI"): "o", ("ours", "RS"): "s", ("lme4", "RI"): "^", ("lme4", "RS"): "v"}
LABELS = {"RI": "random intercept", "RS": "random slope"}


def figure(res: pd.DataFrame, meta: str, title: str, path: Path) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(10, 4.5), dpi=100)
    for ax, sweep, xcol, xlabel in [(axes[0], "rows", "rows", "rows (100 groups)"),
                                    (axes[1], "groups", "groups", f"groups ({sweep_rows(res):,} rows)")]:
        t = sweep_table(res, sweep)
        for pkg, col in [("ours", "ours_s"), ("lme4", "lme4_s")]:
            for model in MODELS:
                d = t[(t.model == model) & np.isfinite(t[col])]
                if len(d):
                    ax.plot(d[xcol], d[col], marker=MARKERS[pkg, model], color=COLOURS[pkg, model], lw=1.6,
                            label=f"{'lemma_helpers' if pkg == 'ours' else 'lme4'}, {LABELS[model]}")
        ours_ri = t[t.model == "RI"]
        if len(ours_ri) >= 2:                  # slope-1 guide through ours' largest random-intercept point
            x = np.array([ours_ri[xcol].min(), ours_ri[xcol].max()], float)
            y_end = float(ours_ri["ours_s"].iloc[-1])
            ax.plot(x, y_end * x / x[-1], ls="--", color="0.45", lw=1, label="linear (slope 1)")
        missing = t[~np.isfinite(t.lme4_s)]
        notes = [f"lme4 {LABELS[model]}: not run at " + ", ".join(f"{v:,}" for v in d[xcol]) + f" {sweep} (budget)"
                 for model, d in missing.groupby("model")]
        if notes:
            ax.text(0.98, 0.02, "\n".join(notes), transform=ax.transAxes, ha="right", va="bottom",
                    fontsize=7.5, color="0.3")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel(xlabel)
        ax.set_ylabel("fit time (s)")
        ax.set_title(f"time vs {sweep}", fontsize=10)
        ax.grid(True, which="major", color="0.9")
    handles, labels = axes[0].get_legend_handles_labels()
    for h, lab in zip(*axes[1].get_legend_handles_labels()):
        if lab not in labels:
            handles.append(h)
            labels.append(lab)
    fig.legend(handles, labels, loc="upper center", bbox_to_anchor=(0.5, 0.945), ncol=5, fontsize=8, frameon=False)
    fig.suptitle(title, fontsize=10)
    fig.text(0.5, 0.01, "\n".join(textwrap.wrap(meta, 180)), ha="center", va="bottom", fontsize=6.5, color="0.3")
    fig.tight_layout(rect=(0, 0.06, 1, 0.91))
    fig.savefig(path, dpi=100, metadata={"Software": None})
    plt.close(fig)


def sweep_rows(res: pd.DataFrame) -> int:
    t = sweep_table(res, "groups")
    return int(t["rows"].iloc[0]) if len(t) else min(10**6, MAX_ROWS)


def readme_lines(res: pd.DataFrame, meta: str, lme4_spent: float) -> list:
    lines = [
        "`python benchmarks/growth_benchmark.py` simulates two-level data "
        "(y = 1 + 0.5 x + u0 + u1 x + e; u0 sd 0.5, u1 sd 0.2, e sd 1; equal-sized groups; fixed seed) and times "
        "a whole `lh.fit` from the DataFrame (formula, design matrices and the ML fit) of a random-intercept "
        "model `y ~ x + (1 | g)` (RI) and a random-slope model `y ~ x + (1 + x | g)` (RS), first with more and "
        "more rows at 100 groups, then with more and more groups at a fixed number of rows. lme4 fits the same "
        "numbers (read from a binary file, not timed); only the `lmer(..., REML = FALSE)` call is timed. "
        "Times are medians of 3 fits up to 10^5 rows and single fits above; above 10^5 rows ours is timed "
        "on a second fit of the same data, and \"ours, first fit\" is the fit before it, which also pays for "
        "the first touch of the fresh memory its arrays take (lme4 makes one fit). lme4 stops for a sweep once one fit "
        f"takes more than {LME4_FIT_LIMIT:.0f} s, and a size is skipped when the lme4 part would pass "
        f"{LME4_BUDGET:.0f} s of wall time. \"ratio\" is lme4's time over ours (above 1: ours is faster); "
        "\"loglik diff\" is lme4's log-likelihood minus ours. The "
        f"{sweep_rows(res):,}-rows, 100-groups point is one measurement shown in both sweeps. "
        "numpy's OpenBLAS may use both cores; R uses its reference BLAS (one core).",
        "",
        meta,
        "",
        "| sweep | rows | groups | model | ours (s) | ours, first fit (s) | lme4 (s) | ratio | loglik diff |",
        "|---|---:|---:|---|---:|---:|---:|---:|---:|",
    ]
    for sweep in ["rows", "groups"]:
        t = sweep_table(res, sweep).sort_values(["rows", "groups", "model"])
        for _, r in t.iterrows():
            if np.isfinite(r.lme4_s):
                lme4 = f"{r.lme4_s:.3g}"
                ratio = f"{r.lme4_s / r.ours_s:.1f}x"
                diff = f"{r.lme4_loglik - r.ours_loglik:.2g}"
            else:
                lme4, ratio, diff = r.lme4_missing, "", ""
            first = "" if np.isnan(r.ours_first_s) else f"{r.ours_first_s:.3g}"
            lines.append(f"| {sweep} | {r.rows:,} | {r.groups:,} | {r.model} | {r.ours_s:.3g} | {first} | {lme4} "
                         f"| {ratio} | {diff} |")
    lines += ["", "![Fit time against rows (left, 100 groups) and against groups (right, fixed rows), log-log, "
              "for lemma_helpers and lme4, random intercept and random slope, with a dashed slope-1 line]"
              "(growth.png)", ""]
    lines += summary(res, lme4_spent)
    return lines


def summary(res: pd.DataFrame, lme4_spent: float) -> list:
    out = []
    both = res[np.isfinite(res.lme4_loglik)].drop_duplicates(["rows", "groups", "model"])
    if len(both):
        d = (both.lme4_loglik - both.ours_loglik)
        i = d.abs().idxmax()
        r = both.loc[i]
        out.append(f"Largest log-likelihood difference where both ran: {d[i]:.2g} (lme4 minus ours; {r.model} at "
                   f"{r.rows:,} rows, {r.groups:,} groups; lme4 {r.lme4_loglik:.6f}, ours {r.ours_loglik:.6f}).")
        big = both[(both.lme4_loglik - both.ours_loglik).abs() > 1e-4]
        for _, r in big.iterrows():
            higher = "ours" if r.ours_loglik > r.lme4_loglik else "lme4"
            out.append(f"Difference above 1e-4: `{MODELS[r.model]}` at {r.rows:,} rows, {r.groups:,} groups: lme4 "
                       f"{r.lme4_loglik:.6f}, ours {r.ours_loglik:.6f}; {higher} found the higher maximum"
                       + (f" (lme4 warned: {r.lme4_notes})." if r.lme4_notes else "."))
        slower = both[both.lme4_s < both.ours_s]
        if len(slower):
            out.append("Ours is slower than lme4 at: " + "; ".join(
                f"{r.model} {r.rows:,} rows / {r.groups:,} groups ({r.ours_s:.3g} s vs {r.lme4_s:.3g} s)"
                for _, r in slower.iterrows()) + ".")
        else:
            out.append(f"Ours is faster than lme4 at every size where both ran "
                       f"({(both.lme4_s / both.ours_s).min():.1f}x to {(both.lme4_s / both.ours_s).max():.1f}x).")
    missing = res[~np.isfinite(res.lme4_s)].drop_duplicates(["rows", "groups", "model"])
    if len(missing):
        out.append(f"lme4 was not run for {len(missing)} fit(s) (see the table: the reason is given); "
                   f"the lme4 part took {lme4_spent:.0f} s of wall time.")
    else:
        out.append(f"lme4 ran at every size; the lme4 part took {lme4_spent:.0f} s of wall time.")
    notes = res[res.lme4_notes != ""].drop_duplicates(["rows", "groups", "model"])
    for _, r in notes.iterrows():
        out.append(f"lme4 said at {r.model} {r.rows:,} rows / {r.groups:,} groups: {r.lme4_notes}")
    bad = res[~res.ours_converged].drop_duplicates(["rows", "groups", "model"])
    for _, r in bad.iterrows():
        out.append(f"Ours reported no convergence at {r.model} {r.rows:,} rows / {r.groups:,} groups.")
    for sweep, xcol, what in [("rows", "rows", "rows"), ("groups", "groups", "groups")]:
        t = sweep_table(res, sweep)
        parts = []
        for model in MODELS:
            d = t[t.model == model].sort_values(xcol)
            if len(d) >= 3:
                s = slope(d[xcol], d.ours_s)
                s_r = slope(d[xcol], d.lme4_s)
                parts.append(f"{model} {s:.2f}" + (f" (lme4 {s_r:.2f})" if np.isfinite(s_r) else ""))
        if parts:
            x3 = sorted(t[xcol].unique())[-3:]
            out.append(f"Log-log slope of our time against {what} over the largest three sizes "
                       f"({', '.join(f'{v:,}' for v in x3)}): " + ", ".join(parts) + ". " + verdict(t, xcol, sweep))
    return out


def verdict(t: pd.DataFrame, xcol: str, sweep: str) -> str:
    """A plain sentence on the slopes, with the growth over the last step of the sweep."""
    slopes, steps = [], []
    for m in MODELS:
        d = t[t.model == m].sort_values(xcol)
        slopes.append(slope(d[xcol], d.ours_s))
        if len(d) >= 2:
            a, b = d.iloc[-2], d.iloc[-1]
            steps.append(f"{m} {b.ours_s / a.ours_s:.1f}x")
    slopes = [s for s in slopes if np.isfinite(s)]
    if not slopes:
        return ""
    lo, hi = min(slopes), max(slopes)
    xs = sorted(t[xcol].unique())
    step = (f" From {xs[-2]:,} to {xs[-1]:,} {sweep} ({xs[-1] / xs[-2]:.0f}x) our time grew " + ", ".join(steps) + "."
            if len(xs) >= 2 else "")
    if sweep == "rows":
        if hi > 1.1:
            text = "Ours grows somewhat faster than linearly in the number of rows over this range."
        elif lo < 0.9:
            text = ("Ours grows less than linearly over this range (fixed costs still weigh at the smaller of "
                    "these sizes).")
        else:
            text = "Ours grows about linearly in the number of rows (slope 1 is linear)."
        first = t[np.isfinite(t.ours_first_s)].sort_values(xcol)
        extra = ""
        if len(first):
            big = first[first[xcol] == first[xcol].max()]
            extra = (f" The first fit on freshly made data of {int(big[xcol].iloc[0]):,} rows took "
                     + ", ".join(f"{r.model} {r.ours_first_s:.3g} s" for _, r in big.iterrows())
                     + " (the first touch of its memory).")
        return (text + step + " Above 10^5 rows each time is a single fit, so these slopes carry the noise of single "
                "measurements on a shared machine (the 10^6-rows fits varied by about a third between runs)." + extra)
    if hi > 0.5:
        text = "At a fixed number of rows, more groups cost ours clearly more time."
    elif hi > 0.15:
        text = "At a fixed number of rows, more groups cost ours somewhat more time."
    else:
        text = "At a fixed number of rows, the number of groups hardly changes our time."
    return text + step


def main() -> None:
    load_start = os.getloadavg()
    t_start = time.perf_counter()
    engine = engine_version()          # before the run: the code that is imported
    res, lme4_spent = measure()
    load_end = os.getloadavg()
    today = date.today().isoformat()
    meta = (f"Machine: {machine()}; Python {platform.python_version()}, numpy {np.__version__}; {engine}; {r_version()}; "
            f"repeats: 3 (median) up to 10^5 rows, 1 above; load average {load_start[0]:.1f} at the start, "
            f"{load_end[0]:.1f} at the end; whole run {time.perf_counter() - t_start:.0f} s; date {today}.")
    print(meta)
    title = f"Fit time growth, lemma_helpers vs lme4 (ML) - {machine()}, {today}"
    figure(res, meta, title, HERE / "growth.png")
    lines = readme_lines(res, meta, lme4_spent)
    print("\n".join(lines))
    write_section("growth", "Cost growth with rows and groups", lines)


if __name__ == "__main__":
    main()
