# Reference values for wbe.models.farrington from R surveillance::farringtonFlexible
# (tests/models/test_farrington.py). Run from this directory: Rscript make_reference_farrington.R
# Writes farrington_input.csv (series, t, observed) and farrington_reference.csv with, per
# series, config and monitored time point t (1-based): upperbound, alarm, expected, pvalue,
# trend (fitted or not), phi, mu0, trend_coef, score.
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

f <- function(x) sprintf("%.12g", x)
out <- list()
for (s in names(series)) for (cname in names(configs)) {
  ctrl <- c(list(range = series[[s]]$range), configs[[cname]])
  st <- sts(observed = matrix(series[[s]]$y, ncol = 1), frequency = 52, start = c(2000, 1))
  res <- suppressWarnings(farringtonFlexible(st, control = ctrl))
  cc <- res@control
  out[[length(out) + 1]] <- data.frame(
    series = s, config = cname, t = series[[s]]$range,
    upperbound = f(res@upperbound[, 1]), alarm = as.integer(res@alarm[, 1]),
    expected = f(cc$expected[, 1]), pvalue = f(cc$pvalue[, 1]),
    trend = as.integer(cc$trend[, 1]), phi = f(cc$phiVector[, 1]),
    mu0 = f(cc$mu0Vector[, 1]), trend_coef = f(cc$trendVector[, 1]), score = f(cc$score[, 1]))
}
write.csv(do.call(rbind, out), "farrington_reference.csv", row.names = FALSE, quote = FALSE)
