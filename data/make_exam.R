#!/usr/bin/env Rscript
# make_exam.R -- export mlmRev::Exam (the MLwiN tutorial "Exam" data) to lemma_helpers/data/exam.csv
# with MLwiN names (the file ships inside the package, beside its licence notice).
#
# Usage (from the repository root):  Rscript data/make_exam.R [output.csv]
# Needs R with the mlmRev package (Debian/Ubuntu: apt-get install r-base-core r-cran-mlmrev).
# Generated with R 4.2.2 and mlmRev 1.0-8. The output is deterministic: rows sorted by school, then
# student, then the row order of mlmRev::Exam (four school/student pairs occur twice in the data).
# See lemma_helpers/data/EXAM_NOTICE.md for the provenance, the licence and the coding notes.
#
# Coding notes, checked by the stopifnot() calls below:
# * mlmRev's help page swaps two descriptions. `vr` is constant within each school: it is MLwiN's
#   school-level `schav` (average intake band of the school). `intake` varies within schools: it is
#   MLwiN's student-level `vrband` (verbal reasoning band at intake).
# * `vr` labels run the right way: "bottom 25%" schools have the lowest mean standLRT -> schav "low".
# * `intake` labels are reversed: pupils labelled "bottom 25%" have the HIGHEST reading scores (mean
#   standLRT +0.92) and "top 25%" the lowest (-1.33). They are MLwiN's vb1 (top 25%) and vb3
#   (bottom 25%): mlmRev attached the labels to MLwiN's codes 1-3 in the wrong order.
# * `schavg` is MLwiN's `avslrt`, the school mean of standLRT as stored in the data (7 significant
#   digits; it differs from the recomputed mean by less than 1e-6). It is written unchanged.

suppressPackageStartupMessages(library(mlmRev))
args <- commandArgs(trailingOnly = FALSE)
script_dir <- dirname(normalizePath(sub("^--file=", "", args[grep("^--file=", args)][1])))
trailing <- commandArgs(trailingOnly = TRUE)
out_path <- if (length(trailing)) trailing[1] else
  file.path(dirname(script_dir), "lemma_helpers", "data", "exam.csv")

e <- mlmRev::Exam
stopifnot(nrow(e) == 4059, nlevels(e$school) == 65)

# --- checks of the codings described above ---------------------------------------------------
constant_within_school <- function(x) all(tapply(as.integer(x), e$school, function(v) length(unique(v)) == 1))
stopifnot(constant_within_school(e$vr), !constant_within_school(e$intake),
          constant_within_school(e$schgend), constant_within_school(e$schavg))
m_intake <- tapply(e$standLRT, e$intake, mean)    # decreasing: labels reversed
stopifnot(identical(names(m_intake), c("bottom 25%", "mid 50%", "top 25%")), !is.unsorted(-m_intake))
m_vr <- tapply(e$schavg, e$vr, mean)               # increasing: labels right
stopifnot(identical(names(m_vr), c("bottom 25%", "mid 50%", "top 25%")), !is.unsorted(m_vr))
stopifnot(max(abs(ave(e$standLRT, e$school) - e$schavg)) < 1e-6)
stopifnot(identical(levels(e$sex), c("F", "M")), identical(levels(e$schgend), c("mixed", "boys", "girls")),
          identical(levels(e$type), c("Mxd", "Sngl")))

# --- MLwiN names and codes --------------------------------------------------------------------
out <- data.frame(
  school   = as.integer(as.character(e$school)),
  student  = as.integer(as.character(e$student)),
  normexam = e$normexam,
  standlrt = e$standLRT,
  gender   = ifelse(e$sex == "F", "girl", "boy"),
  female   = as.integer(e$sex == "F"),
  schgend  = as.character(e$schgend),
  avslrt   = e$schavg,
  schav    = c("bottom 25%" = "low", "mid 50%" = "mid", "top 25%" = "high")[as.character(e$vr)],
  vrband   = c("bottom 25%" = "vb1", "mid 50%" = "vb2", "top 25%" = "vb3")[as.character(e$intake)],
  type     = c(Mxd = "mixed", Sngl = "single")[as.character(e$type)],
  stringsAsFactors = FALSE
)
out <- out[order(out$school, out$student, seq_len(nrow(out))), ]
rownames(out) <- NULL
stopifnot(!anyNA(out))
# MLwiN meanings, checked on the recoded data
stopifnot(!is.unsorted(tapply(out$avslrt, factor(out$schav, c("low", "mid", "high")), mean)),
          !is.unsorted(-tapply(out$standlrt, factor(out$vrband, c("vb1", "vb2", "vb3")), mean)))

# write.csv prints doubles with 15 significant digits, which reproduces the stored values exactly
# (they have at most 8 significant digits); plain CSV, no quotes, "\n" line endings.
write.csv(out, out_path, row.names = FALSE, quote = FALSE, eol = "\n")
cat(sprintf("wrote %s: %d rows, %d columns\n", out_path, nrow(out), ncol(out)))
