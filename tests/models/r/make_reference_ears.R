# Reference values for wbe.models.ears from R surveillance::earsC (tests/models/test_ears.py).
# Run from this directory: Rscript make_reference_ears.R
# Writes ears_input.csv (series, t, observed) and ears_reference.csv
# (series, config, method, baseline, alpha, min_sigma, t, upperbound, alarm); t is 1-based.
suppressPackageStartupMessages(library(surveillance))
stopifnot(packageVersion("surveillance") >= "1.20")
cat("surveillance", as.character(packageVersion("surveillance")), "\n")

data("salmonella.agona")
agona <- as.vector(salmonella.agona$observed)
data("campyDE")
ww <- read.csv("wastewater_series.csv")
# sparse: a hand-made count series with all-zero baselines (exercises minSigma)
series <- list(
  salmonella_agona = agona,
  campyDE = campyDE$case,
  wastewater = ww$concentration_ng_per_l,
  sparse = c(rep(0, 9), 1, rep(0, 8), 2, rep(0, 11), 5, 0, 0, 1, rep(0, 6), 3, 0)
)
configs <- list(
  default = list(),
  b10_a01 = list(baseline = 10, alpha = 0.01),
  minsigma = list(minSigma = 0.5)
)
inp <- do.call(rbind, lapply(names(series), function(s)
  data.frame(series = s, t = seq_along(series[[s]]), observed = series[[s]])))
write.csv(inp, "ears_input.csv", row.names = FALSE)

out <- list()
for (s in names(series)) {
  y <- series[[s]]
  for (cname in names(configs)) for (m in c("C1", "C2", "C3")) {
    ctrl <- c(list(method = m), configs[[cname]])
    res <- earsC(sts(observed = matrix(y, ncol = 1), frequency = 52), control = ctrl)
    rng <- res@control$range
    a <- if (is.null(res@control$alpha)) NA else res@control$alpha
    out[[length(out) + 1]] <- data.frame(
      series = s, config = cname, method = m, baseline = res@control$baseline,
      alpha = a, min_sigma = res@control$minSigma,
      t = rng, upperbound = sprintf("%.12g", res@upperbound[, 1]),
      alarm = as.integer(res@alarm[, 1]))
  }
}
write.csv(do.call(rbind, out), "ears_reference.csv", row.names = FALSE, quote = FALSE)
