# Reference values for wbe.models.farrington from R surveillance::farringtonFlexible
# (tests/models/test_farrington.py). Run from this directory: Rscript make_reference_farrington.R
# Writes farrington_input.csv (series, t, observed) and farrington_reference.csv with, per
# series, config and monitored time point t (1-based): upperbound, alarm, expected, pvalue,
# trend (fitted or not), phi, mu0, trend_coef, score.
# It also writes farrington_reference_tight_glm.csv: the same runs with the IRLS of stats::glm
# converged to machine precision (glm.control(epsilon = 1e-14, maxit = 1000) made the default by
# assignInNamespace; farringtonFlexible's own controls untouched). R's default epsilon = 1e-8
# stops IRLS early, which moves phi by up to 5e-5 and the bound by up to 1.3e-5 (relative).
# (epsilon = 1e-15 makes one fit fail, campyDE help_control1 week 448, inside predict.glm.)
suppressPackageStartupMessages(library(surveillance))
stopifnot(packageVersion("surveillance") >= "1.20")
cat("surveillance", as.character(packageVersion("surveillance")), "\n")

data("salmonella.agona")
data("campyDE")
series <- list(
  salmonella_agona = list(y = as.vector(salmonella.agona$observed), range = 282:312),
  campyDE = list(y = campyDE$case, range = 400:522)
)
configs <- list(
  default = list(),
  help_control1 = list(noPeriods = 1, b = 4, w = 3, weightsThreshold = 1,
                       pastWeeksNotIncluded = 3, pThresholdTrend = 0.05, alpha = 0.1),
  help_control2 = list(noPeriods = 10, b = 4, w = 3, weightsThreshold = 2.58,
                       pastWeeksNotIncluded = 26, pThresholdTrend = 1, alpha = 0.1),
  nbPlugin = list(thresholdMethod = "nbPlugin"),
  muan = list(thresholdMethod = "muan"),
  sqrt = list(powertrans = "1/2"),
  none = list(powertrans = "none", trend = FALSE),
  noreweight = list(reweight = FALSE, limit54 = c(3, 2))
)
inp <- do.call(rbind, lapply(names(series), function(s)
  data.frame(series = s, t = seq_along(series[[s]]$y), observed = series[[s]]$y)))
write.csv(inp, "farrington_input.csv", row.names = FALSE)

fmt12 <- function(x) sprintf("%.12g", x)
run_all <- function() {
  out <- list()
  for (s in names(series)) for (cname in names(configs)) {
    ctrl <- c(list(range = series[[s]]$range), configs[[cname]])
    st <- sts(observed = matrix(series[[s]]$y, ncol = 1), frequency = 52, start = c(2000, 1))
    res <- suppressWarnings(farringtonFlexible(st, control = ctrl))
    cc <- res@control
    out[[length(out) + 1]] <- data.frame(
      series = s, config = cname, t = series[[s]]$range,
      upperbound = fmt12(res@upperbound[, 1]), alarm = as.integer(res@alarm[, 1]),
      expected = fmt12(cc$expected[, 1]), pvalue = fmt12(cc$pvalue[, 1]),
      trend = as.integer(cc$trend[, 1]), phi = fmt12(cc$phiVector[, 1]),
      mu0 = fmt12(cc$mu0Vector[, 1]), trend_coef = fmt12(cc$trendVector[, 1]),
      score = fmt12(cc$score[, 1]))
  }
  do.call(rbind, out)
}
tight_glm <- identical(commandArgs(trailingOnly = TRUE), "tight-glm")
if (!tight_glm) {
  write.csv(run_all(), "farrington_reference.csv", row.names = FALSE, quote = FALSE)
  # the tight-glm pass runs in a fresh R process so that glm.control is only changed there
  stopifnot(system2("Rscript", c("make_reference_farrington.R", "tight-glm")) == 0)
} else {
  glm_control_default <- stats::glm.control
  assignInNamespace("glm.control", function(epsilon = 1e-14, maxit = 1000, trace = FALSE)
    glm_control_default(epsilon = epsilon, maxit = maxit, trace = trace), "stats")
  write.csv(run_all(), "farrington_reference_tight_glm.csv", row.names = FALSE, quote = FALSE)
}
