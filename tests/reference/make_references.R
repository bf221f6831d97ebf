#!/usr/bin/env Rscript
# make_references.R -- R (lme4 / nlme) reference values for every model that lemma-course fits.
#
# Usage (from the repository root):
#   LEMMA_DATA_DIR=/work/shared/data Rscript tests/reference/make_references.R [output.json]
#
# Reads ess_hedonism_2002.txt and ssls_5.1.txt from $LEMMA_DATA_DIR (default /work/shared/data),
# uses mlmRev::Exam for the Exam data, and writes tests/reference/lme4_references.json (next to this
# script) unless another output path is given. Needs R >= 4.1 with lme4, nlme, mlmRev and jsonlite
# (Debian/Ubuntu: apt-get install r-base-core r-cran-lme4 r-cran-mlmrev r-cran-jsonlite r-cran-nlme).
# Generated with R 4.2.2, lme4 1.1-31, Matrix 1.5-3, nlme 3.1-162, mlmRev 1.0-8, jsonlite 1.8.4 (Debian packages).
#
# How every lmer model is fitted
#   1. the exact call shown above the model, with lme4's default control (optimizer nloptwrap); its
#      log-likelihood, warnings and messages are stored under "default_fit";
#   2. the same call restarted from the default fit's theta (REML fits also from the ML optimum) with
#        control = lmerControl(optimizer = "bobyqa",
#                              optCtrl = list(rhobeg = 1e-3, rhoend = 1e-11, maxfun = 1e6))
#      repeated (at most 3 times) until the log-likelihood stops improving by 1e-8. The better fit is
#      the reference. The default optimizer stops early on several of these models (for example
#      ess_rs_age: log-likelihood -47178.488 instead of -47178.436, s2_u0 0.0815 instead of 0.0901).
# Every model is fitted by ML (REML = FALSE) and by REML (REML = TRUE); both are stored.
# Missing values: lme4, lm and nlme are called with na.action = na.omit, i.e. listwise deletion over
# the variables of each model, exactly as the Python side does.
#
# Run time: about 11 minutes wall clock (8 min CPU) on 2 shared cores; ssls_rc_sclass takes half of it.
# JSON layout: see the "conventions" entry of "meta" in the output.

suppressPackageStartupMessages({
  library(lme4)
  library(nlme, exclude = "lmList")
  library(jsonlite)
})
options(na.action = "na.omit", warn = 1)
t_start <- Sys.time()

args <- commandArgs(trailingOnly = FALSE)
script_dir <- dirname(normalizePath(sub("^--file=", "", args[grep("^--file=", args)][1])))
trailing <- commandArgs(trailingOnly = TRUE)
out_path <- if (length(trailing)) trailing[1] else file.path(script_dir, "lme4_references.json")
data_dir <- Sys.getenv("LEMMA_DATA_DIR", "/work/shared/data")

# ---------------------------------------------------------------------------------------------
# Data (must match lemma_helpers.datasets exactly)
# ---------------------------------------------------------------------------------------------
ess_file <- file.path(data_dir, "ess_hedonism_2002.txt")
ssls_file <- file.path(data_dir, "ssls_5.1.txt")
raw <- read.table(ess_file, header = TRUE)
stopifnot(identical(names(raw), c("country", "IND", "HEDSCORE", "AGE", "FEMALE", "INCOME", "EDUYRS")),
          nrow(raw) == 36527)
ess <- data.frame(
  country = factor(raw$country),                       # levels are the ESS country codes "1".."22"
  respondent = raw$IND,
  hedonism = raw$HEDSCORE,
  age46 = ifelse(raw$AGE == 999, NA, raw$AGE),          # age - 46 (999 = missing)
  female = ifelse(raw$FEMALE == 9, NA, raw$FEMALE),
  income = ifelse(raw$INCOME == 99, NA, raw$INCOME),
  eduyrs = ifelse(raw$EDUYRS == 99, NA, raw$EDUYRS)
)
ess$age <- ess$age46 + 46
# country mean of income over respondents with a known income (full file, same for every respondent)
ess$income_mean <- ave(ess$income, ess$country, FUN = function(x) mean(x, na.rm = TRUE))
ess_agesample <- subset(ess, !is.na(age46))           # the 36,364 respondents with a known age

ssls <- read.csv(ssls_file)
stopifnot(identical(names(ssls), c("caseid", "schoolid", "score", "cohort90", "female", "sclass",
                                   "schtype", "schurban", "schdenom")), nrow(ssls) == 33988)
ssls$schoolid <- factor(ssls$schoolid)
ssls$sclass1 <- as.numeric(ssls$sclass == 1)          # working class (3) is the reference
ssls$sclass2 <- as.numeric(ssls$sclass == 2)
ssls$sclass4 <- as.numeric(ssls$sclass == 4)
ssls$share1 <- ave(ssls$sclass1, ssls$schoolid, FUN = mean)  # school share of social class 1

exam <- mlmRev::Exam                                  # 4,059 pupils in 65 schools; standLRT as named there

# ---------------------------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------------------------
capture <- function(expr) {
  warns <- character(); msgs <- character()
  value <- withCallingHandlers(expr,
    warning = function(w) { warns <<- c(warns, conditionMessage(w)); invokeRestart("muffleWarning") },
    message = function(m) { msgs <<- c(msgs, trimws(conditionMessage(m))); invokeRestart("muffleMessage") })
  list(value = value, warnings = warns, messages = msgs)
}
fmt_formula <- function(f) paste(trimws(deparse(f, width.cutoff = 500L)), collapse = " ")
rows <- function(M) unname(lapply(seq_len(nrow(M)), function(i) as.list(unname(as.numeric(M[i, ])))))  # [[..]] even for 1 x 1
POLISH <- lmerControl(optimizer = "bobyqa", optCtrl = list(rhobeg = 1e-3, rhoend = 1e-11, maxfun = 1e6))
POLISH_TXT <- 'lmerControl(optimizer = "bobyqa", optCtrl = list(rhobeg = 1e-3, rhoend = 1e-11, maxfun = 1e6)), start = <theta of the previous fit>'

fixef_table <- function(est, se, nm = names(est)) {
  out <- lapply(seq_along(est), function(i) list(estimate = unname(est[i]), se = unname(se[i])))
  names(out) <- nm; out
}
coef_table <- function(cf) fixef_table(cf[, 1], cf[, 2], rownames(cf))   # keeps the name of a lone intercept

level2_block <- function(V, group) {
  nm <- rownames(V); V <- V[, , drop = FALSE]; sds <- sqrt(diag(V))
  list(group = group, names = as.list(nm), cov = rows(V), sd = as.list(unname(sds)),
       corr = rows(V / outer(sds, sds)))
}

group_effects <- function(m) {
  re <- ranef(m, condVar = TRUE)[[1]]
  pv <- attr(re, "postVar")
  terms <- colnames(re)
  nj <- table(m@flist[[1]])
  lapply(seq_len(nrow(re)), function(j) {
    S <- matrix(pv[, , j], length(terms), length(terms))
    g <- list(group = rownames(re)[j], n = as.integer(nj[rownames(re)[j]]),
              condmode = setNames(as.list(as.numeric(re[j, ])), terms),
              condsd = setNames(as.list(sqrt(diag(S))), terms))
    if (length(terms) > 1) g$condcov <- rows(S)
    g
  })
}

extract_lmer <- function(m) {
  cf <- summary(m)$coefficients
  vc <- VarCorr(m)
  ll <- as.numeric(logLik(m))
  list(n_obs = nobs(m), n_groups = as.integer(ngrps(m)[1]), loglik = ll, deviance = -2 * ll,
       n_params = as.integer(attr(logLik(m), "df")),
       fixef = coef_table(cf),
       level2 = level2_block(vc[[1]], names(vc)[1]),
       sigma2 = sigma(m)^2,
       theta = as.list(as.numeric(getME(m, "theta"))),
       singular = isSingular(m))
}

# Fit one lmer model by ML or REML, default optimizer first, then polished (see header). alt_start: a
# further theta to polish from (the REML fit also starts from the ML optimum, which matters for
# ssls_rc_sclass, where the REML default fit stops in a much worse boundary optimum).
polish_from <- function(formula, data, REML, theta) {
  m <- NULL; msgs <- character(); rounds <- 0
  for (i in 1:3) {
    p <- capture(lmer(formula, data = data, REML = REML, start = theta, control = POLISH))
    rounds <- i
    gain <- if (is.null(m)) Inf else as.numeric(logLik(p$value)) - as.numeric(logLik(m))
    if (gain >= 0) { m <- p$value; msgs <- c(p$warnings, p$messages) }
    theta <- getME(m, "theta")
    if (gain < 1e-8) break
  }
  list(model = m, msgs = msgs, rounds = rounds)
}
fit_lmer <- function(formula, data, REML, alt_start = NULL) {
  d <- capture(lmer(formula, data = data, REML = REML))
  best <- list(model = d$value, msgs = c(d$warnings, d$messages), rounds = 0, from = "none (default fit kept)")
  starts <- list("default fit" = getME(d$value, "theta"))
  if (!is.null(alt_start)) starts[["ML fit"]] <- alt_start
  for (nm in names(starts)) {
    p <- polish_from(formula, data, REML, starts[[nm]])
    if (as.numeric(logLik(p$model)) >= as.numeric(logLik(best$model))) { best <- p; best$from <- nm }
  }
  list(model = best$model,
       default_fit = list(optimizer = "nloptwrap (lmer default)", loglik = as.numeric(logLik(d$value)),
                          warnings = as.list(d$warnings), messages = as.list(d$messages)),
       final_fit = list(optimizer = if (best$rounds > 0) "bobyqa polish" else "nloptwrap (lmer default)",
                        polish_control = POLISH_TXT, polished_from = best$from, polish_rounds = best$rounds,
                        warnings_and_messages = as.list(best$msgs)))
}

models <- list()
fitted <- list()   # merMod objects by key and "ml"/"reml"

add_lmer <- function(key, formula, data_name, section, course_ref = NULL, match = NULL,
                     group_eff = FALSE, note = NULL) {
  data <- get(data_name)
  entry <- list(key = key, type = "lmer", section = section, formula = fmt_formula(formula),
                data = data_name, course_ref = course_ref, match = match, note = note)
  for (reml in c(FALSE, TRUE)) {
    f <- fit_lmer(formula, data, reml, alt_start = if (reml) getME(fitted[[key]]$ml, "theta") else NULL)
    res <- c(list(call = sprintf("lmer(%s, data = %s, REML = %s)", fmt_formula(formula), data_name, reml),
                  reml = reml), extract_lmer(f$model),
             list(default_fit = f$default_fit, final_fit = f$final_fit))
    if (group_eff) res$group_effects <- group_effects(f$model)
    entry[[if (reml) "reml" else "ml"]] <- res
    fitted[[key]][[if (reml) "reml" else "ml"]] <<- f$model
  }
  entry <- Filter(Negate(is.null), entry)
  models[[key]] <<- entry
  cat(sprintf("%-26s n=%6d  ML loglik %.6f  [%.0f s]\n", key, entry$ml$n_obs, entry$ml$loglik,
              as.numeric(difftime(Sys.time(), t_start, units = "secs"))))
  invisible(entry)
}

add_lm <- function(key, formula, data_name, section, course_ref = NULL, match = NULL, note = NULL) {
  data <- get(data_name)
  m <- lm(formula, data = data)
  cf <- summary(m)$coefficients
  ll <- as.numeric(logLik(m))
  models[[key]] <<- Filter(Negate(is.null), list(
    key = key, type = "lm", section = section, formula = fmt_formula(formula), data = data_name,
    course_ref = course_ref, match = match, note = note,
    ml = list(call = sprintf("lm(%s, data = %s)", fmt_formula(formula), data_name), reml = FALSE,
              n_obs = nobs(m), loglik = ll, deviance = -2 * ll, n_params = as.integer(attr(logLik(m), "df")),
              fixef = coef_table(cf),
              sigma2_ml = sum(residuals(m)^2) / nobs(m), sigma2_ols = summary(m)$sigma^2)))
  fitted[[key]] <<- list(ml = m)
  cat(sprintf("%-26s n=%6d  lm loglik %.6f\n", key, nobs(m), ll))
}

tests <- list()
add_lr <- function(name, small, big, df, which = "ml", course_ref = NULL, note = NULL) {
  l0 <- models[[small]][[which]]$loglik; l1 <- models[[big]][[which]]$loglik
  lr <- 2 * (l1 - l0)
  tests[[name]] <<- Filter(Negate(is.null), list(
    restricted = small, full = big, fit = which, loglik_restricted = l0, loglik_full = l1,
    lr = lr, df = df, p_chisq = pchisq(lr, df, lower.tail = FALSE), course_ref = course_ref, note = note))
}
V2 <- function(key, which = "ml") { V <- VarCorr(fitted[[key]][[which]])[[1]]; V[, , drop = FALSE] }

# =============================================================================================
# ESS hedonism (Concepts C5.1-C5.5)
# =============================================================================================

# ess_null -- C5.1 variance components model, all 36,527 respondents.
#   lmer(hedonism ~ 1 + (1 | country), data = ess, REML = FALSE)
add_lmer("ess_null", hedonism ~ 1 + (1 | country), "ess", "C5.1",
         course_ref = "b0 -0.2032 (0.0672), s2_u 0.08977, s2_e 0.88506, VPC 0.092, loglik -49651.68, LR 3286.2 vs lm; Poland (19) u about -0.72, Denmark (6) about +0.42",
         match = "matches", group_eff = TRUE)
# ess_null_lm -- single-level model for the LR test of C5.1.
#   lm(hedonism ~ 1, data = ess)
add_lm("ess_null_lm", hedonism ~ 1, "ess", "C5.1", course_ref = "loglik -51294.80", match = "matches")
add_lr("ess_null_vs_lm", "ess_null_lm", "ess_null", 1, course_ref = "3286.2")

# ess_null_agesample -- the null model on the 36,364 respondents with a known age (LR tests of C5.2).
#   lmer(hedonism ~ 1 + (1 | country), data = ess_agesample, REML = FALSE)
add_lmer("ess_null_agesample", hedonism ~ 1 + (1 | country), "ess_agesample", "C5.2")

# ess_age -- C5.2 random intercept with age centred at 46 (n = 36,364).
#   lmer(hedonism ~ age46 + (1 | country), data = ess, REML = FALSE)
add_lmer("ess_age", hedonism ~ age46 + (1 | country), "ess", "C5.2",
         course_ref = "age -0.01741 (0.00026), s2_u 0.0894, s2_e 0.7869, VPC 0.102", match = "matches")
add_lr("ess_age_vs_null_agesample", "ess_null_agesample", "ess_age", 1)

# ess_age_female -- C5.2 adding gender (n = 36,353).
#   lmer(hedonism ~ age46 + female + (1 | country), data = ess, REML = FALSE)
add_lmer("ess_age_female", hedonism ~ age46 + female + (1 | country), "ess", "C5.2",
         course_ref = "female -0.106 with age", match = "matches (-0.10644)")

# ess_age_female_income -- C5.2 adding income (n = 29,653: complete cases of age, female, income).
#   lmer(hedonism ~ age46 + female + income + (1 | country), data = ess, REML = FALSE)
add_lmer("ess_age_female_income", hedonism ~ age46 + female + income + (1 | country), "ess", "C5.2")

# ess_rs_age -- C5.3 random slope on age (centred at 46), n = 36,364.
#   lmer(hedonism ~ age46 + (1 + age46 | country), data = ess, REML = FALSE)
add_lmer("ess_rs_age", hedonism ~ age46 + (1 + age46 | country), "ess", "C5.3",
         course_ref = "s2_u0 0.0901, s_u01 0.00091, s2_u1 1.81e-5, correlation +0.71, LR 232 on 2 df, level-2 variance 0.053 at age 18 and 0.192 at age 86",
         match = "matches after the bobyqa polish; lme4's default nloptwrap stops early (s2_u0 0.0815) with a convergence warning",
         group_eff = TRUE)
add_lr("ess_rs_age_vs_ess_age", "ess_age", "ess_rs_age", 2, course_ref = "232")

# ess_rs_age_raw -- the same model with uncentred age (C5.3: the covariance depends on centring).
#   lmer(hedonism ~ age + (1 + age | country), data = ess, REML = FALSE)
add_lmer("ess_rs_age_raw", hedonism ~ age + (1 + age | country), "ess", "C5.3",
         note = "same log-likelihood as ess_rs_age (reparameterisation); lme4 warns (see default_fit)")

# ess_rc_female -- C5.3 random coefficient of a binary x (female), n = 36,353.
#   lmer(hedonism ~ age46 + female + (1 + female | country), data = ess, REML = FALSE)
add_lmer("ess_rc_female", hedonism ~ age46 + female + (1 + female | country), "ess", "C5.3",
         note = "between-country variance: men s2_u0, women s2_u0 + 2 s_u01 + s2_u1 (see derived)")
add_lr("ess_rc_female_vs_ess_age_female", "ess_age_female", "ess_rc_female", 2)

# ess_contextual -- C5.4 contextual effect of income on the 29,744 respondents with an income.
#   lmer(hedonism ~ income + income_mean + (1 | country), data = ess, REML = FALSE)
# It is also the C5.4 level-2 variable model (ess_l2_income below): SE of income_mean 0.0387.
add_lmer("ess_contextual", hedonism ~ income + income_mean + (1 | country), "ess", "C5.4",
         course_ref = "within 0.038, contextual 0.059 (coefficient of income_mean), between 0.097; country mean income SE 0.0387 multilevel",
         match = "matches (0.03767, 0.05936, SE 0.03869)")

# ess_contextual_gmc -- group-mean-centred form: coefficient of income_mean = between effect.
#   lmer(hedonism ~ I(income - income_mean) + income_mean + (1 | country), data = ess, REML = FALSE)
add_lmer("ess_contextual_gmc", hedonism ~ I(income - income_mean) + income_mean + (1 | country), "ess", "C5.4",
         course_ref = "between 0.097", match = "matches (0.09703); same log-likelihood as ess_contextual")

# ess_l2_income_ols -- the same fixed part by OLS: SE of income_mean 0.0046.
#   lm(hedonism ~ income + income_mean, data = ess)
add_lm("ess_l2_income_ols", hedonism ~ income + income_mean, "ess", "C5.4",
       course_ref = "country mean income SE 0.0046 under OLS", match = "matches (0.004639)")

# ess_rs_income -- random slope on income without the cross-level interaction (base of ess_crosslevel;
# sample: complete cases of age46 and income, n = 29,662).
#   lmer(hedonism ~ age46 + income + income_mean + (1 + income | country), data = ess, REML = FALSE)
add_lmer("ess_rs_income", hedonism ~ age46 + income + income_mean + (1 + income | country), "ess", "C5.4")

# ess_crosslevel -- C5.4 cross-level interaction income x country mean income in a random slope model.
#   lmer(hedonism ~ age46 + income * income_mean + (1 + income | country), data = ess, REML = FALSE)
add_lmer("ess_crosslevel", hedonism ~ age46 + income * income_mean + (1 + income | country), "ess", "C5.4",
         course_ref = "income x country mean income -0.0094 (0.0029)",
         match = "matches (-0.00944 (0.00289)); without age46 it would be -0.0137 (0.0040); the variant with female (ess_crosslevel_female) also rounds to -0.0094 (0.0029)")
add_lr("ess_crosslevel_vs_ess_rs_income", "ess_rs_income", "ess_crosslevel", 1)

# ess_crosslevel_female -- alternative specification that also rounds to the reference (n = 29,653).
#   lmer(hedonism ~ age46 + female + income * income_mean + (1 + income | country), data = ess, REML = FALSE)
add_lmer("ess_crosslevel_female", hedonism ~ age46 + female + income * income_mean + (1 + income | country),
         "ess", "C5.4", course_ref = "-0.0094 (0.0029)", match = "also matches (-0.00936 (0.00289))")

# ess_l2_income -- C5.4 level-2 variable: identical to ess_contextual (copied under this key).
models$ess_l2_income <- modifyList(models$ess_contextual, list(
  key = "ess_l2_income",
  course_ref = "country mean income SE 0.0387 multilevel vs 0.0046 under OLS (ess_l2_income_ols)",
  match = "matches: hedonism ~ income + income_mean + (1 | country) on the 29,744 with income; SE 0.03869 (ML), OLS 0.004639",
  note = "same model and numbers as ess_contextual"))
# Specifications tried that do NOT give 0.0387 / 0.0046:
#   hedonism ~ income_mean (+ (1|country)): SE 0.0381 / 0.0034 (all), 0.0386 / 0.0037 (income sample)
#   hedonism ~ age46 + income_mean: 0.0378 / 0.0032; hedonism ~ age46 + income + income_mean: 0.0384 / 0.0045

# ess_l1_female -- C5.5 separate level-1 variances for men and women (nlme), n = 36,353.
#   lme(hedonism ~ age46 + female, random = ~ 1 | country, weights = varIdent(form = ~ 1 | female),
#       data = ess, method = "ML", na.action = na.omit)
# and its homoscedastic counterpart
#   lme(hedonism ~ age46 + female, random = ~ 1 | country, data = ess, method = "ML", na.action = na.omit)
extract_lme <- function(m, call) {
  tt <- summary(m)$tTable
  ll <- as.numeric(logLik(m))
  out <- list(call = call, reml = m$method == "REML", n_obs = as.integer(m$dims$N),
              n_groups = as.integer(m$dims$ngrps[1]), loglik = ll, deviance = -2 * ll,
              n_params = as.integer(attr(logLik(m), "df")),
              fixef = fixef_table(tt[, "Value"], tt[, "Std.Error"], rownames(tt)),
              level2 = level2_block(matrix(as.numeric(getVarCov(m)), 1, 1,
                                           dimnames = list("(Intercept)", "(Intercept)")), "country"),
              sigma2 = m$sigma^2)
  if (!is.null(m$modelStruct$varStruct)) {
    r <- coef(m$modelStruct$varStruct, unconstrained = FALSE, allCoef = TRUE)
    out$sigma2_by_female <- as.list(setNames(m$sigma^2 * r^2, paste0("female=", names(r))))
    out$sd_ratio <- as.list(r)
  }
  out
}
lme_calls <- list(
  het = 'lme(hedonism ~ age46 + female, random = ~ 1 | country, weights = varIdent(form = ~ 1 | female), data = ess, method = "%s", na.action = na.omit)',
  hom = 'lme(hedonism ~ age46 + female, random = ~ 1 | country, data = ess, method = "%s", na.action = na.omit)')
for (k in c("het", "hom")) {
  key <- if (k == "het") "ess_l1_female" else "ess_age_female_nlme"
  entry <- list(key = key, type = "nlme", section = "C5.5",
                formula = "hedonism ~ age46 + female, random = ~ 1 | country", data = "ess")
  if (k == "het") {
    entry$course_ref <- "separate level-1 variances men 0.757, women 0.808, LR 18.5 on 1 df"
    entry$match <- "matches"
  } else entry$note <- "homoscedastic nlme fit; same model as ess_age_female (lme4)"
  for (meth in c("ML", "REML")) {
    m <- if (k == "het") {
      lme(hedonism ~ age46 + female, random = ~ 1 | country, weights = varIdent(form = ~ 1 | female),
          data = ess, method = meth, na.action = na.omit)
    } else {
      lme(hedonism ~ age46 + female, random = ~ 1 | country, data = ess, method = meth, na.action = na.omit)
    }
    entry[[tolower(meth)]] <- extract_lme(m, sprintf(lme_calls[[k]], meth))
  }
  models[[key]] <- entry
  cat(sprintf("%-26s n=%6d  ML loglik %.6f\n", key, entry$ml$n_obs, entry$ml$loglik))
}
add_lr("ess_l1_female_vs_homoscedastic", "ess_age_female_nlme", "ess_l1_female", 1, course_ref = "18.5")

# =============================================================================================
# Scottish School Leavers (Practicals P5.1-P5.5)
# =============================================================================================

# ssls_null -- P5.1 null model.
#   lmer(score ~ 1 + (1 | schoolid), data = ssls, REML = FALSE)
add_lmer("ssls_null", score ~ 1 + (1 | schoolid), "ssls", "P5.1",
         course_ref = "b0 30.601 (0.369), s2_u 61.02, s2_e 258.36, VPC 0.191, LR 3749.78", match = "matches",
         group_eff = TRUE)
# ssls_null_lm -- single-level model for the LR test.
#   lm(score ~ 1, data = ssls)
add_lm("ssls_null_lm", score ~ 1, "ssls", "P5.1")
add_lr("ssls_null_vs_lm", "ssls_null_lm", "ssls_null", 1, course_ref = "3749.78")

# ssls_cohort -- P5.2 random intercept with cohort90.
#   lmer(score ~ cohort90 + (1 | schoolid), data = ssls, REML = FALSE)
add_lmer("ssls_cohort", score ~ cohort90 + (1 | schoolid), "ssls", "P5.2",
         course_ref = "cohort90 1.215 (0.016), s2_u 45.99, s2_e 219.29", match = "matches")

# ssls_rs_cohort -- P5.3 random slope on cohort90.
#   lmer(score ~ cohort90 + (1 + cohort90 | schoolid), data = ssls, REML = FALSE)
add_lmer("ssls_rs_cohort", score ~ cohort90 + (1 + cohort90 | schoolid), "ssls", "P5.3",
         course_ref = "s2_u0 42.859, s_u01 -1.024, s2_u1 0.161 (42.859 - 2.048x + 0.161x^2), LR 227 on 2 df",
         match = "matches", group_eff = TRUE)
add_lr("ssls_rs_cohort_vs_ssls_cohort", "ssls_cohort", "ssls_rs_cohort", 2, course_ref = "227")

# ssls_female_base -- P5.3 base for the random coefficient of female.
#   lmer(score ~ cohort90 + female + (1 + cohort90 | schoolid), data = ssls, REML = FALSE)
add_lmer("ssls_female_base", score ~ cohort90 + female + (1 + cohort90 | schoolid), "ssls", "P5.3")
# ssls_rc_female -- P5.3 random coefficient for female (3 extra parameters).
#   lmer(score ~ cohort90 + female + (1 + cohort90 + female | schoolid), data = ssls, REML = FALSE)
add_lmer("ssls_rc_female", score ~ cohort90 + female + (1 + cohort90 + female | schoolid), "ssls", "P5.3",
         course_ref = "LR 5.2 on 3 df vs ssls_female_base", match = "matches (5.24)")
add_lr("ssls_rc_female_vs_ssls_female_base", "ssls_female_base", "ssls_rc_female", 3, course_ref = "5.2",
       note = "the pair without the cohort90 slope, (1|schoolid) vs (1 + female|schoolid), gives 4.39 on 2 df")

# ssls_sclass_base -- P5.3 social class (working class reference) with the cohort90 random slope and female;
# also the base model of P5.4.
#   lmer(score ~ cohort90 + female + sclass1 + sclass2 + sclass4 + (1 + cohort90 | schoolid), data = ssls, REML = FALSE)
add_lmer("ssls_sclass_base", score ~ cohort90 + female + sclass1 + sclass2 + sclass4 + (1 + cohort90 | schoolid),
         "ssls", "P5.3")

# ssls_rc_sclass -- P5.3 random coefficients for social class (this is the slow one: 15 covariance parameters).
#   lmer(score ~ cohort90 + female + sclass1 + sclass2 + sclass4 +
#          (1 + cohort90 + sclass1 + sclass2 + sclass4 | schoolid), data = ssls, REML = FALSE)
add_lmer("ssls_rc_sclass", score ~ cohort90 + female + sclass1 + sclass2 + sclass4 +
           (1 + cohort90 + sclass1 + sclass2 + sclass4 | schoolid), "ssls", "P5.3",
         course_ref = "between-school variance for classes 1-4: 28.03, 24.71, 11.27, 34.61 (working class reference)",
         match = "matches at cohort90 = 0 except class 4: lme4 gives 28.029, 24.706, 11.267, 34.604 (34.60 vs 34.61); the lme4 ML optimum is practically on the boundary (smallest eigenvalue of the 5 x 5 covariance matrix about 6e-7; the REML fit is singular), so an unconstrained IGLS estimate (MLwiN) may sit just outside it. Without the cohort90 slope: 30.30, 27.05, 13.84, 35.56; without female: 28.58, 24.91, 11.36, 34.23",
         note = "class variances: see derived; var(class k) = z' Sigma z with z = (1, cohort90, sclass1, sclass2, sclass4) at cohort90 = 0")
add_lr("ssls_rc_sclass_vs_ssls_sclass_base", "ssls_sclass_base", "ssls_rc_sclass", 12)

# ssls_school -- P5.4 school-level contextual variables added to ssls_sclass_base.
#   lmer(score ~ cohort90 + female + sclass1 + sclass2 + sclass4 + schtype + schurban + schdenom +
#          (1 + cohort90 | schoolid), data = ssls, REML = FALSE)
add_lmer("ssls_school", score ~ cohort90 + female + sclass1 + sclass2 + sclass4 + schtype + schurban + schdenom +
           (1 + cohort90 | schoolid), "ssls", "P5.4")

# ssls_crosslevel -- P5.4 cross-level interaction cohort90 x schtype.
#   lmer(score ~ cohort90 + female + sclass1 + sclass2 + sclass4 + schtype + schurban + schdenom +
#          cohort90:schtype + (1 + cohort90 | schoolid), data = ssls, REML = FALSE)
add_lmer("ssls_crosslevel", score ~ cohort90 + female + sclass1 + sclass2 + sclass4 + schtype + schurban + schdenom +
           cohort90:schtype + (1 + cohort90 | schoolid), "ssls", "P5.4",
         course_ref = "cohort90 x schtype -0.599 (0.104)",
         match = "matches (-0.5990 (0.1038)); without schdenom (ssls_crosslevel_nodenom) -0.5994 (0.1038) also matches; without sclass -0.678 (0.109), no match")
add_lr("ssls_crosslevel_vs_ssls_school", "ssls_school", "ssls_crosslevel", 1)

# ssls_crosslevel_nodenom -- the same without schdenom (also rounds to the reference).
#   lmer(score ~ cohort90 + female + sclass1 + sclass2 + sclass4 + schtype + schurban +
#          cohort90:schtype + (1 + cohort90 | schoolid), data = ssls, REML = FALSE)
add_lmer("ssls_crosslevel_nodenom", score ~ cohort90 + female + sclass1 + sclass2 + sclass4 + schtype + schurban +
           cohort90:schtype + (1 + cohort90 | schoolid), "ssls", "P5.4",
         course_ref = "-0.599 (0.104)", match = "also matches (-0.5994 (0.1038))")

# ssls_share -- P5.4 compositional effect of the school share of social class 1.
#   lmer(score ~ cohort90 + female + sclass1 + sclass2 + sclass4 + schtype + schurban + share1 +
#          (1 + cohort90 | schoolid), data = ssls, REML = FALSE)
add_lmer("ssls_share", score ~ cohort90 + female + sclass1 + sclass2 + sclass4 + schtype + schurban + share1 +
           (1 + cohort90 | schoolid), "ssls", "P5.4",
         course_ref = "intercept 19.234, sclass1 10.77, share 20.515", match = "matches")

# ssls_share_int -- P5.4 adding cohort90 x share1.
#   lmer(score ~ cohort90 + female + sclass1 + sclass2 + sclass4 + schtype + schurban + share1 +
#          cohort90:share1 + (1 + cohort90 | schoolid), data = ssls, REML = FALSE)
add_lmer("ssls_share_int", score ~ cohort90 + female + sclass1 + sclass2 + sclass4 + schtype + schurban + share1 +
           cohort90:share1 + (1 + cohort90 | schoolid), "ssls", "P5.4",
         course_ref = "intercept 19.7395, cohort90 1.5727, share 18.9302, interaction -1.2341", match = "matches")
add_lr("ssls_share_int_vs_ssls_share", "ssls_share", "ssls_share_int", 1)

# =============================================================================================
# Exam (mlmRev::Exam, the MLwiN tutorial data)
# =============================================================================================

# exam_null --   lmer(normexam ~ 1 + (1 | school), data = exam, REML = FALSE)
add_lmer("exam_null", normexam ~ 1 + (1 | school), "exam", "exam",
         course_ref = "MLwiN: b0 -0.013, s2_u 0.169, s2_e 0.848, -2LL 11010.65", match = "matches", group_eff = TRUE)
# exam_ri --     lmer(normexam ~ standLRT + (1 | school), data = exam, REML = FALSE)
add_lmer("exam_ri", normexam ~ standLRT + (1 | school), "exam", "exam")
# exam_rs --     lmer(normexam ~ standLRT + (1 + standLRT | school), data = exam, REML = FALSE)
add_lmer("exam_rs", normexam ~ standLRT + (1 + standLRT | school), "exam", "exam",
         course_ref = "MLwiN: s2_u0 0.090, s_u01 0.018, s2_u1 0.015, s2_e 0.554", match = "matches")
add_lr("exam_rs_vs_exam_ri", "exam_ri", "exam_rs", 2)

# =============================================================================================
# Complex level-1 variation (C5.5, P5.5): not fittable in lme4 or nlme (quadratic level-1 variance).
# Direct maximum likelihood written here (het_ml), validated against lme4 / nlme below (ML only).
# =============================================================================================
# Model: y = X b + Z u_j + e_ij, u_j ~ N(0, G), var(e_ij) = W[i, ] %*% phi (linear in phi, MLwiN style:
# s2_e0 + 2 s_e01 x + s2_e1 x^2 uses W = (1, 2x, x^2)). b is profiled out by GLS, G = L L'.
het_ml <- function(y, X, Z, g, W, start_G, start_phi) {
  g <- as.integer(factor(g)); q <- ncol(Z); p <- ncol(X); N <- length(y); J <- max(g)
  stopifnot(q %in% 1:2)
  ltri <- which(lower.tri(diag(q), diag = TRUE))
  gs <- function(v) rowsum(v, g, reorder = TRUE)
  parts <- function(par) {
    L <- matrix(0, q, q); L[ltri] <- par[seq_along(ltri)]; phi <- par[-seq_along(ltri)]
    d <- drop(W %*% phi)
    if (any(!is.finite(d)) || any(d <= 0)) return(NULL)
    w <- 1 / d
    A <- array(0, c(J, q, q)); for (a in 1:q) A[, a, ] <- gs(Z[, a] * w * Z)
    B <- lapply(1:q, function(a) gs(Z[, a] * w * X))
    cc <- gs(Z * w * y)
    LAL <- array(0, c(J, q, q))
    for (a in 1:q) for (b in 1:q) { s <- 0; for (c1 in 1:q) for (c2 in 1:q) s <- s + L[c1, a] * A[, c1, c2] * L[c2, b]; LAL[, a, b] <- s }
    Mi <- array(0, c(J, q, q))
    if (q == 1) { M11 <- 1 + LAL[, 1, 1]; ldM <- log(M11); Mi[, 1, 1] <- 1 / M11 } else {
      M11 <- 1 + LAL[, 1, 1]; M12 <- LAL[, 1, 2]; M22 <- 1 + LAL[, 2, 2]; det <- M11 * M22 - M12^2
      ldM <- log(det); Mi[, 1, 1] <- M22 / det; Mi[, 2, 2] <- M11 / det; Mi[, 1, 2] <- Mi[, 2, 1] <- -M12 / det }
    K <- array(0, c(J, q, q))
    for (a in 1:q) for (b in 1:q) { s <- 0; for (c1 in 1:q) for (c2 in 1:q) s <- s + L[a, c1] * Mi[, c1, c2] * L[b, c2]; K[, a, b] <- s }
    XtX <- crossprod(X * w, X); Xty <- drop(crossprod(X * w, y)); yty <- sum(w * y * y)
    for (a in 1:q) for (b in 1:q) {
      XtX <- XtX - crossprod(B[[a]] * K[, a, b], B[[b]])
      Xty <- Xty - colSums(B[[a]] * (K[, a, b] * cc[, b]))
      yty <- yty - sum(cc[, a] * K[, a, b] * cc[, b])
    }
    list(ldet = sum(log(d)) + sum(ldM), XtX = XtX, Xty = Xty, yty = yty, L = L, phi = phi)
  }
  nll <- function(par) {
    pp <- parts(par); if (is.null(pp)) return(1e100)
    beta <- solve(pp$XtX, pp$Xty)
    0.5 * (N * log(2 * pi) + pp$ldet + pp$yty - sum(beta * pp$Xty))
  }
  L0 <- t(chol(start_G)); par <- c(L0[ltri], start_phi); sc <- abs(par) + 1e-3 * max(abs(par))
  f <- function(s) nll(s * sc)
  ctl <- list(eval.max = 5000, iter.max = 2000, rel.tol = 1e-15, x.tol = 1e-12)
  o <- nlminb(par / sc, f, control = ctl)
  for (it in 1:3) { o2 <- nlminb(o$par, f, control = ctl); done <- (o$objective - o2$objective) < 1e-9; o <- o2; if (done) break }
  pp <- parts(o$par * sc)
  beta <- drop(solve(pp$XtX, pp$Xty)); names(beta) <- colnames(X)
  G <- pp$L %*% t(pp$L); dimnames(G) <- list(colnames(Z), colnames(Z))
  list(loglik = -o$objective, beta = beta, se = sqrt(diag(solve(pp$XtX))), G = G,
       phi = setNames(pp$phi, colnames(W)), n = N, J = J, convergence = o$convergence)
}
add_het <- function(key, section, description, y, X, Z, g, W, start_G, start_phi, course_ref = NULL,
                    match = NULL, note = NULL, group = if (ncol(Z) == 1) "country" else "schoolid") {
  r <- het_ml(y, X, Z, g, W, start_G, start_phi)
  models[[key]] <<- Filter(Negate(is.null), list(
    key = key, type = "direct_ml", section = section, formula = description, course_ref = course_ref,
    match = match, note = note,
    ml = list(call = "het_ml() in make_references.R (ML; nlminb)", reml = FALSE, n_obs = r$n, n_groups = r$J,
              loglik = r$loglik, deviance = -2 * r$loglik, n_params = length(r$beta) + length(r$phi) + ncol(Z) * (ncol(Z) + 1) / 2,
              fixef = fixef_table(r$beta, r$se), level2 = level2_block(r$G, group),
              level1_variance_params = as.list(r$phi), nlminb_convergence = r$convergence)))
  cat(sprintf("%-26s n=%6d  ML loglik %.6f  [%.0f s]\n", key, r$n, r$loglik,
              as.numeric(difftime(Sys.time(), t_start, units = "secs"))))
  r
}

ea <- subset(ess, !is.na(age46) & !is.na(female))
Xe <- cbind("(Intercept)" = 1, age46 = ea$age46, female = ea$female)
Ze <- cbind("(Intercept)" = rep(1, nrow(ea)))
# check: homoscedastic het_ml reproduces lme4's ess_age_female
chk1 <- add_het("check_het_ess_age_female", "validation", "hedonism ~ age46 + female, random intercept, constant level-1 variance (must equal ess_age_female)",
                ea$hedonism, Xe, Ze, ea$country, cbind(s2_e = rep(1, nrow(ea))), matrix(0.09), 0.78)
# check: separate variances by female reproduce nlme's ess_l1_female
chk2 <- add_het("check_het_ess_l1_female", "validation", "as ess_l1_female (must equal the nlme fit)",
                ea$hedonism, Xe, Ze, ea$country, cbind(s2_e_male = 1 - ea$female, s2_e_female = ea$female),
                matrix(0.09), c(0.78, 0.78))
# ess_l1_quadage -- C5.5 level-1 variance quadratic in age46: s2_e0 + 2 s_e01 age46 + s2_e1 age46^2.
rq <- add_het("ess_l1_quadage", "C5.5", "hedonism ~ age46 + female + (1 | country), var(e) = s2_e0 + 2 s_e01 age46 + s2_e1 age46^2 (n = 36,353)",
              ea$hedonism, Xe, Ze, ea$country, cbind(s2_e0 = 1, s_e01 = 2 * ea$age46, s2_e1 = ea$age46^2),
              matrix(0.09), c(0.78, 0, 0),
              course_ref = "level-1 variance 0.64 at 18, 0.78 at 46, 0.97 at 80; LR 268 on 2 df vs the homoscedastic model",
              match = "matches in the age46 + female model (0.640, 0.780, 0.973; LR 268.4); in the age-only model it would be 0.642, 0.783, 0.977, LR 271.3")
add_lr("ess_l1_quadage_vs_ess_age_female", "ess_age_female", "ess_l1_quadage", 2, course_ref = "268")

Xs <- model.matrix(~ cohort90 + female + sclass1 + sclass2 + sclass4 + schtype + schurban + share1 + cohort90:share1, ssls)
Zs <- cbind("(Intercept)" = 1, cohort90 = ssls$cohort90)
Gs <- matrix(c(11, 0.1, 0.1, 0.11), 2)
# check: homoscedastic het_ml with a random slope reproduces lme4's ssls_share_int
chk3 <- add_het("check_het_ssls_share_int", "validation", "as ssls_share_int with constant level-1 variance (must equal ssls_share_int)",
                ssls$score, Xs, Zs, ssls$schoolid, cbind(s2_e = rep(1, nrow(ssls))), Gs, 193)
# ssls_l1_quadcohort -- P5.5 level-1 variance quadratic in cohort90 in the full P5.4 model (ssls_share_int).
rs <- add_het("ssls_l1_quadcohort", "P5.5", "ssls_share_int fixed and random part, var(e) = s2_e0 + 2 s_e01 cohort90 + s2_e1 cohort90^2",
              ssls$score, Xs, Zs, ssls$schoolid,
              cbind(s2_e0 = 1, s_e01 = 2 * ssls$cohort90, s2_e1 = ssls$cohort90^2), Gs, c(193, 0, 0),
              course_ref = "189.39 - 9.80x + 0.219x^2, LR 1174 on 2 df",
              match = "LR matches (1173.95) but the curve does not: the ML optimum is 190.41 - 9.67x + 0.181x^2. The reference curve, with the other parameters re-estimated, has a log-likelihood 0.099 lower (LR 1173.75): the likelihood is nearly flat along this direction. Pin the LR and the variance at the observed cohorts, not the coefficients, or with a loose tolerance.")
add_lr("ssls_l1_quadcohort_vs_ssls_share_int", "ssls_share_int", "ssls_l1_quadcohort", 2, course_ref = "1174")
# ssls_l1_female -- P5.5 separate level-1 variances for boys and girls in the same model.
rf <- add_het("ssls_l1_female", "P5.5", "ssls_share_int fixed and random part, separate level-1 variances for boys and girls",
              ssls$score, Xs, Zs, ssls$schoolid, cbind(s2_e_male = 1 - ssls$female, s2_e_female = ssls$female),
              Gs, c(193, 193))
add_lr("ssls_l1_female_vs_ssls_share_int", "ssls_share_int", "ssls_l1_female", 1)

# =============================================================================================
# Derived quantities
# =============================================================================================
derived <- list()
vpc <- function(key) { V <- V2(key); V[1, 1] / (V[1, 1] + sigma(fitted[[key]]$ml)^2) }
nbar_ess <- mean(table(ess$country))
derived$ess_null <- list(vpc = vpc("ess_null"), mean_group_size = nbar_ess,
                         design_effect = 1 + (nbar_ess - 1) * vpc("ess_null"),
                         se_ratio = sqrt(1 + (nbar_ess - 1) * vpc("ess_null")))
derived$ess_age <- list(residual_vpc = vpc("ess_age"))
V <- V2("ess_rs_age")
lv2 <- function(a) V[1, 1] + 2 * V[1, 2] * (a - 46) + V[2, 2] * (a - 46)^2
derived$ess_rs_age <- list(corr_u0_u1 = V[1, 2] / sqrt(V[1, 1] * V[2, 2]),
                           level2_variance_at_age = list("18" = lv2(18), "46" = lv2(46), "86" = lv2(86)))
V <- V2("ess_rc_female")
derived$ess_rc_female <- list(level2_variance_men = V[1, 1], level2_variance_women = V[1, 1] + 2 * V[1, 2] + V[2, 2])
fe <- fixef(fitted$ess_contextual$ml)
derived$ess_contextual <- list(within = unname(fe["income"]), contextual = unname(fe["income_mean"]),
                               between = unname(fe["income"] + fe["income_mean"]),
                               between_from_gmc = unname(fixef(fitted$ess_contextual_gmc$ml)["income_mean"]))
derived$ess_l1_quadage <- list(level1_variance_at_age = setNames(lapply(c(18, 46, 80), function(a)
  sum(rq$phi * c(1, 2 * (a - 46), (a - 46)^2))), c("18", "46", "80")))
derived$ssls_null <- list(vpc = vpc("ssls_null"))
V <- V2("ssls_rs_cohort")
derived$ssls_rs_cohort <- list(level2_variance_function = list(constant = V[1, 1], x = 2 * V[1, 2], x2 = V[2, 2]))
V <- V2("ssls_rc_sclass")
zc <- function(k) { z <- c(1, 0, 0, 0, 0); if (k == 1) z[3] <- 1; if (k == 2) z[4] <- 1; if (k == 4) z[5] <- 1; z }
derived$ssls_rc_sclass <- list(cohort90 = 0, terms = as.list(rownames(V)),
  level2_variance_by_sclass = setNames(lapply(1:4, function(k) drop(t(zc(k)) %*% V %*% zc(k))), paste0("sclass", 1:4)))
derived$ssls_l1_quadcohort <- list(level1_variance_function = list(constant = unname(rs$phi[1]), x = unname(2 * rs$phi[2]), x2 = unname(rs$phi[3])),
  level1_variance_at_cohort = setNames(lapply(sort(unique(ssls$cohort90)), function(x) sum(rs$phi * c(1, 2 * x, x^2))),
                                       sort(unique(ssls$cohort90))))
derived$exam_null <- list(minus2loglik = -2 * models$exam_null$ml$loglik)

# =============================================================================================
# Write
# =============================================================================================
file_sha256 <- function(p) {
  s <- tryCatch(system2("sha256sum", shQuote(p), stdout = TRUE, stderr = FALSE), error = function(e) NA_character_)
  if (length(s) && !is.na(s[1])) strsplit(s[1], " ")[[1]][1] else NA_character_
}
meta <- list(
  generator = "tests/reference/make_references.R",
  r_version = R.version.string,
  packages = lapply(c(lme4 = "lme4", Matrix = "Matrix", nlme = "nlme", mlmRev = "mlmRev", jsonlite = "jsonlite"),
                    function(p) as.character(packageVersion(p))),
  data = list(ess_hedonism_2002.txt = list(sha256 = file_sha256(ess_file), n = nrow(ess)),
              ssls_5.1.txt = list(sha256 = file_sha256(ssls_file), n = nrow(ssls)),
              exam = list(source = "mlmRev::Exam", n = nrow(exam))),
  conventions = list(
    models = "one entry per key; 'ml' holds the REML = FALSE fit and 'reml' the REML = TRUE fit (lm and direct_ml entries have 'ml' only)",
    loglik = "log-likelihood at the optimum; for REML fits the REML log-likelihood (lme4 logLik / nlme logLik); deviance = -2 * loglik",
    fixef = "estimate and standard error (sqrt of the diagonal of vcov); lm: the usual OLS standard errors (RSS / (n - p))",
    level2 = "random-effects covariance matrix in variance units; names give the order of rows and columns",
    sigma2 = "level-1 (residual) variance; lm entries give sigma2_ml = RSS / n and sigma2_ols = RSS / (n - p)",
    theta = "lme4 relative covariance factor (lower triangle, column-major) at the optimum",
    group_effects = "ranef(m, condVar = TRUE): conditional modes and conditional SDs (sqrt of the postVar diagonal), condcov the full conditional covariance; ESS groups are country codes, SSLS school ids, Exam school ids",
    default_fit = "the same call with lme4's default optimizer (nloptwrap): its log-likelihood, warnings and messages",
    tests = "likelihood ratio tests: lr = 2 * (loglik_full - loglik_restricted), p_chisq the naive chi-square p-value (halve it for a single variance on the boundary)"),
  data_preparation = list(
    ess = "age46 = AGE (999 -> NA); age = age46 + 46; female = FEMALE (9 -> NA); income = INCOME (99 -> NA); eduyrs = EDUYRS (99 -> NA); income_mean = country mean of income over non-missing income (full file); country = factor of the codes; models use complete cases of their variables",
    ess_agesample = "the ESS rows with a known age (36,364)",
    ssls = "schoolid factor; sclass1/2/4 = dummies for sclass 1, 2, 4 (working class 3 the reference); share1 = school mean of sclass1 over all its students",
    exam = "mlmRev::Exam as shipped (standLRT, school)"))

out <- list(meta = meta, models = models, tests = tests, derived = derived)
dir.create(dirname(out_path), showWarnings = FALSE, recursive = TRUE)
writeLines(toJSON(out, digits = NA, auto_unbox = TRUE, pretty = TRUE, null = "null", na = "null"), out_path)
cat(sprintf("wrote %s (%d models, %d tests) in %.1f s\n", out_path, length(models), length(tests),
            as.numeric(difftime(Sys.time(), t_start, units = "secs"))))
