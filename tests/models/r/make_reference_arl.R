# Zero-state average run lengths for tests/models/test_cusum.py from R package spc (Knoth):
# xcusum.arl (one-sided tabular CUSUM, S_t = max(0, S_{t-1} + z_t - k), alarm S_t > h) and
# xewma.arl (two-sided EWMA with fixed asymptotic limits +-L sqrt(lambda/(2-lambda))),
# for N(shift, 1) observations. Run from this directory: Rscript make_reference_arl.R
suppressPackageStartupMessages(library(spc))
cat("spc", as.character(packageVersion("spc")), "\n")
rows <- list(
  data.frame(chart = "cusum", k = 0.5, h = 3, lambda = NA, L = NA, shift = 0,
             arl = xcusum.arl(k = 0.5, h = 3, mu = 0, sided = "one")),
  data.frame(chart = "cusum", k = 0.5, h = 4, lambda = NA, L = NA, shift = 1,
             arl = xcusum.arl(k = 0.5, h = 4, mu = 1, sided = "one")),
  data.frame(chart = "ewma", k = NA, h = NA, lambda = 0.2, L = 2.5, shift = 0,
             arl = xewma.arl(l = 0.2, c = 2.5, mu = 0, sided = "two", limits = "fix")),
  data.frame(chart = "ewma", k = NA, h = NA, lambda = 0.2, L = 2.5, shift = 1,
             arl = xewma.arl(l = 0.2, c = 2.5, mu = 1, sided = "two", limits = "fix"))
)
out <- do.call(rbind, rows)
out$arl <- sprintf("%.6f", out$arl)
write.csv(out, "arl_reference.csv", row.names = FALSE, quote = FALSE)
print(out)
