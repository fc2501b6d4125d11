# Zero-state average run lengths for tests/models/test_cusum.py from R package spc (Knoth):
# xcusum.arl (one-sided tabular CUSUM, S_t = max(0, S_{t-1} + z_t - k), alarm S_t > h) and
# xewma.arl (two-sided EWMA with fixed asymptotic limits +-L sqrt(lambda/(2-lambda))),
# for N(shift, 1) observations. Run from this directory: Rscript make_reference_arl.R
# Writes arl_reference.csv (the four cases above) and arl_reference_grid.csv: a grid of
# in- and out-of-control ARLs (CUSUM one-sided; EWMA two-sided, and upper-only as wbe's
# ewma, i.e. spc's one-sided chart with its reflecting barrier moved far below, zr = -6),
# and critical values for target in-control ARLs (xcusum.crit, xewma.crit). The upper EWMA
# uses r = 100 quadrature nodes: spc's default r = 40 is off by 2e-4 at lambda = 0.05, L = 3.
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

grid <- list()
add <- function(...) grid[[length(grid) + 1]] <<- data.frame(...)
for (k in c(0.25, 0.5, 1)) for (h in c(2, 4, 6)) for (mu in c(0, 0.5, 1, 2)) {
  add(kind = "arl", chart = "cusum", sided = "upper", k = k, h = h, lambda = NA, L = NA,
      shift = mu, target = NA, value = sprintf("%.10g", xcusum.arl(k = k, h = h, mu = mu, sided = "one")))
}
for (l in c(0.05, 0.1, 0.2, 0.5)) for (L in c(2, 2.7, 3)) for (mu in c(0, 0.5, 1, 2)) {
  add(kind = "arl", chart = "ewma", sided = "two", k = NA, h = NA, lambda = l, L = L,
      shift = mu, target = NA,
      value = sprintf("%.10g", xewma.arl(l = l, c = L, mu = mu, sided = "two", limits = "fix")))
  add(kind = "arl", chart = "ewma", sided = "upper", k = NA, h = NA, lambda = l, L = L,
      shift = mu, target = NA,
      value = sprintf("%.10g", xewma.arl(l = l, c = L, mu = mu, zr = -6, sided = "one", limits = "fix", r = 100)))
}
for (L0 in c(100, 365, 1000)) {
  for (k in c(0.25, 0.5, 1))
    add(kind = "crit", chart = "cusum", sided = "upper", k = k, h = NA, lambda = NA, L = NA,
        shift = 0, target = L0, value = sprintf("%.10g", xcusum.crit(k = k, L0 = L0, sided = "one")))
  for (l in c(0.1, 0.2, 0.5)) {
    add(kind = "crit", chart = "ewma", sided = "two", k = NA, h = NA, lambda = l, L = NA,
        shift = 0, target = L0,
        value = sprintf("%.10g", xewma.crit(l = l, L0 = L0, sided = "two", limits = "fix")))
    add(kind = "crit", chart = "ewma", sided = "upper", k = NA, h = NA, lambda = l, L = NA,
        shift = 0, target = L0,
        value = sprintf("%.10g", xewma.crit(l = l, L0 = L0, zr = -6, sided = "one", limits = "fix", r = 100)))
  }
}
write.csv(do.call(rbind, grid), "arl_reference_grid.csv", row.names = FALSE, quote = FALSE)
