# Trend-test p-values implied by R surveillance::farringtonFlexible, for
# tests/models/test_farrington.py. R does not report the p-value of the time trend, only whether
# the trend was kept (control$trend), kept iff p < pThresholdTrend (help page). The p-value is
# therefore recovered black-box: bisection on pThresholdTrend (log scale, 1e-12..1, 50 halvings)
# for the smallest threshold at which R keeps the trend. NA where R drops the trend even with
# pThresholdTrend = 1 (the 'mu0 <= max baseline' rule). IRLS converged to machine precision
# (as in farrington_reference_tight_glm.csv). Run from this directory:
#   Rscript make_reference_farrington_trend_p.R      (about 2 minutes)
suppressPackageStartupMessages(library(surveillance))
stopifnot(packageVersion("surveillance") >= "1.20")
cat("surveillance", as.character(packageVersion("surveillance")), "\n")
glm_control_default <- stats::glm.control
assignInNamespace("glm.control", function(epsilon = 1e-14, maxit = 1000, trace = FALSE)
  glm_control_default(epsilon = epsilon, maxit = maxit, trace = trace), "stats")

data("salmonella.agona")
y <- as.vector(salmonella.agona$observed)
st <- sts(observed = matrix(y, ncol = 1), frequency = 52, start = c(2000, 1))
configs <- list(
  default = list(),
  help_control1 = list(noPeriods = 1, b = 4, w = 3, weightsThreshold = 1,
                       pastWeeksNotIncluded = 3, alpha = 0.1),
  noreweight = list(reweight = FALSE, limit54 = c(3, 2))
)
kept <- function(t, cfg, p) {
  ctrl <- c(list(range = t, pThresholdTrend = p), cfg)
  suppressWarnings(farringtonFlexible(st, control = ctrl))@control$trend[1, 1] == 1
}
out <- list()
for (cname in names(configs)) for (t in 282:312) {
  p <- NA
  if (kept(t, configs[[cname]], 1)) {
    lo <- log(1e-12); hi <- 0
    for (i in 1:50) {
      mid <- (lo + hi) / 2
      if (kept(t, configs[[cname]], exp(mid))) hi <- mid else lo <- mid
    }
    p <- exp((lo + hi) / 2)
  }
  out[[length(out) + 1]] <- data.frame(series = "salmonella_agona", config = cname, t = t,
                                       trend_pvalue = sprintf("%.12g", p))
}
write.csv(do.call(rbind, out), "farrington_trend_pvalue.csv", row.names = FALSE, quote = FALSE)
