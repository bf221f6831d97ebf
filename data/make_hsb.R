#!/usr/bin/env Rscript
# make_hsb.R -- export mlmRev::Hsb82 (the High School and Beyond data of Raudenbush and Bryk) to
# lemma_helpers/data/hsb.csv, the data of the course's final project (docs/project/).
#
# Usage (from the repository root):  Rscript data/make_hsb.R [output.csv]
# Needs R with the mlmRev package (Debian/Ubuntu: apt-get install r-base-core r-cran-mlmrev).
# Generated with R 4.2.2 and mlmRev 1.0-8. The output is deterministic: rows sorted by school (as a
# number), then the row order of mlmRev::Hsb82; `student` numbers the rows within each school.
# See lemma_helpers/data/HSB_NOTICE.md for the provenance and the licence (GPL >= 2, as mlmRev).
#
# Coding, checked by the stopifnot() calls below: `minority` and `female` are 0/1 codes of mlmRev's
# minrty (No/Yes) and sx (Male/Female); `sector` is "public" or "catholic"; `meanses` (the school
# mean of ses, as stored in the data) and `sector` are constant within each school; `cses` is ses
# minus meanses.

suppressPackageStartupMessages(library(mlmRev))
args <- commandArgs(trailingOnly = FALSE)
script_dir <- dirname(normalizePath(sub("^--file=", "", args[grep("^--file=", args)][1])))
trailing <- commandArgs(trailingOnly = TRUE)
out_path <- if (length(trailing)) trailing[1] else
  file.path(dirname(script_dir), "lemma_helpers", "data", "hsb.csv")

h <- mlmRev::Hsb82
stopifnot(nrow(h) == 7185, nlevels(h$school) == 160)
constant_within_school <- function(x) all(tapply(as.numeric(x), h$school, function(v) length(unique(v)) == 1))
stopifnot(constant_within_school(h$meanses), constant_within_school(h$sector),
          identical(levels(h$minrty), c("No", "Yes")), identical(levels(h$sx), c("Male", "Female")),
          identical(levels(h$sector), c("Public", "Catholic")),
          max(abs(h$ses - h$meanses - h$cses)) < 1e-6)

school <- as.integer(as.character(h$school))
ord <- order(school, seq_len(nrow(h)))
h <- h[ord, ]
school <- school[ord]
out <- data.frame(
  school   = school,
  student  = ave(seq_along(school), school, FUN = seq_along),
  mathach  = h$mAch,
  ses      = h$ses,
  female   = as.integer(h$sx == "Female"),
  minority = as.integer(h$minrty == "Yes"),
  sector   = ifelse(h$sector == "Catholic", "catholic", "public"),
  meanses  = h$meanses,
  cses     = h$cses,
  stringsAsFactors = FALSE
)
rownames(out) <- NULL
stopifnot(!anyNA(out), nrow(out) == 7185)
write.csv(out, out_path, row.names = FALSE, quote = FALSE, eol = "\n")
cat(sprintf("wrote %s: %d rows, %d columns\n", out_path, nrow(out), ncol(out)))
