# Per-call timing of R surveillance::farringtonFlexible for benchmarks/bench_farrington.py
# (a benchmark helper: not run by the tests, R is not needed by the test suite).
# Usage: Rscript bench_farrington.R SERIES.csv CASES.csv REPEATS
#   SERIES.csv: case, t, observed (weekly counts, t 1-based); CASES.csv: case, first, last
#   (the monitored weeks, 1-based, R's control$range). Default controls otherwise.
# Prints one line per case: "case NAME SECONDS ALARMS" with SECONDS the median elapsed time
# of one farringtonFlexible call over REPEATS calls (after one warm-up call; R start-up and
# package loading are not timed) and ALARMS the 0/1 alarms of the monitored weeks.
suppressPackageStartupMessages(library(surveillance))
args <- commandArgs(trailingOnly = TRUE)
inp <- read.csv(args[1])
cases <- read.csv(args[2])
repeats <- as.integer(args[3])
cat("surveillance", as.character(packageVersion("surveillance")), "\n")
for (i in seq_len(nrow(cases))) {
  name <- cases$case[i]
  y <- inp$observed[inp$case == name]
  st <- sts(observed = matrix(y, ncol = 1), frequency = 52, start = c(2000, 1))
  ctrl <- list(range = cases$first[i]:cases$last[i])
  res <- suppressWarnings(farringtonFlexible(st, control = ctrl))  # warm-up
  secs <- replicate(repeats, system.time(
    suppressWarnings(farringtonFlexible(st, control = ctrl)))[["elapsed"]])
  cat("case", name, sprintf("%.6f", median(secs)),
      paste(as.integer(res@alarm[, 1]), collapse = ""), "\n")
}
