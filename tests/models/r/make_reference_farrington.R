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
# ---------------------------------------------------------------------------------------
# Hard cases (issue 13), R as installed only: farrington_hard_input.csv (series, t, observed;
# NA = missing) and farrington_hard_reference.csv (as above plus 'error' = 1 where R stops
# with an error). Real series shipped with R surveillance whose baselines are all or nearly
# all zero, short (b < 3) or under-dispersed, and constructed series: all-zero baseline then
# counts, a single count at the edge of the baseline (no finite trend MLE), under-dispersed
# low counts, and missing values inside baselines.
# ---------------------------------------------------------------------------------------
data("shadar"); data("ha.sts"); data("measlesDE"); data("salmNewport"); data("momo")
data("fluBYBW"); data("stsNewport")
n6 <- 6 * 52
all_zero <- c(rep(0, n6 - 4), 0, 1, 2, 6)
sparse <- rep(0, n6); sparse[c(40, 97, 150, 203, 229)] <- 1; sparse[(n6 - 2):n6] <- c(2, 1, 4)
edge <- rep(0, n6); edge[n6 - 52 + 3] <- 1; edge[n6] <- 5   # only count at the newest baseline week of t = n6
set.seed(13)
under <- rep(c(1, 2, 2, 1, 2, 1, 2, 2, 1, 2, 1, 1, 2), length.out = n6); under[n6 - 1:0] <- c(3, 5)
agona <- as.vector(salmonella.agona$observed)
miss1 <- agona; miss1[c(37, 74, 111, 148, 185, 222, 259)] <- NA; miss1[240:247] <- NA
miss2 <- agona; miss2[setdiff(1:260, seq(30, 260, by = 9))] <- NA   # few baseline points left
hard_series <- list(
  shadar = list(y = as.vector(shadar$observed), range = 264:295),
  ha_lich = list(y = as.vector(ha.sts@observed[, "lich"]), range = 264:290),
  ha_trko = list(y = as.vector(ha.sts@observed[, "trko"]), range = 264:290),
  ha_mahe = list(y = as.vector(ha.sts@observed[, "mahe"]), range = 264:290),
  measles_saarland = list(y = as.vector(measlesDE@observed[, "Saarland"]), range = 108:156),
  measles_bremen = list(y = as.vector(measlesDE@observed[, "Bremen"]), range = 108:156),
  salmnewport_saarland = list(y = as.vector(salmNewport@observed[, "Saarland"]), range = 400:528),
  salmnewport_bremen = list(y = as.vector(salmNewport@observed[, "Bremen"]), range = 400:528),
  momo_0_1 = list(y = as.vector(momo@observed[, 1]), range = 700:782),
  flubybw_23 = list(y = as.vector(fluBYBW@observed[, 23]), range = 300:416),
  flubybw_9 = list(y = as.vector(fluBYBW@observed[, 9]), range = 300:416),
  stsnewport = list(y = as.vector(stsNewport@observed[, 1]), range = 700:773),
  all_zero = list(y = all_zero, range = 300:n6),
  sparse_ones = list(y = sparse, range = 280:n6),
  edge_count = list(y = edge, range = (n6 - 3):n6),
  underdispersed = list(y = under, range = 280:n6),
  missing_agona = list(y = miss1, range = 282:312),
  missing_many = list(y = miss2, range = 270:312)
)
hard_configs <- list(
  default = list(),
  noreweight = list(reweight = FALSE, limit54 = c(3, 2)),
  nbPlugin = list(thresholdMethod = "nbPlugin"),
  b2_p1 = list(b = 2, pThresholdTrend = 1),
  b1 = list(b = 1)
)
run_hard <- function() {
  out <- list()
  for (s in names(hard_series)) for (cname in names(hard_configs)) {
    rng <- hard_series[[s]]$range
    ctrl <- c(list(range = rng), hard_configs[[cname]])
    if (max(ctrl$b, 5, na.rm = TRUE) == 5 && is.null(ctrl$b) && min(rng) <= 263) next
    st <- sts(observed = matrix(hard_series[[s]]$y, ncol = 1), frequency = 52, start = c(2000, 1))
    res <- try(suppressWarnings(farringtonFlexible(st, control = ctrl)), silent = TRUE)
    if (inherits(res, "try-error")) {
      out[[length(out) + 1]] <- data.frame(series = s, config = cname, t = rng, upperbound = NA,
        alarm = NA, expected = NA, pvalue = NA, trend = NA, phi = NA, mu0 = NA, trend_coef = NA,
        score = NA, error = 1)
      next
    }
    cc <- res@control
    out[[length(out) + 1]] <- data.frame(
      series = s, config = cname, t = rng,
      upperbound = fmt12(res@upperbound[, 1]), alarm = as.integer(res@alarm[, 1]),
      expected = fmt12(cc$expected[, 1]), pvalue = fmt12(cc$pvalue[, 1]),
      trend = as.integer(cc$trend[, 1]), phi = fmt12(cc$phiVector[, 1]),
      mu0 = fmt12(cc$mu0Vector[, 1]), trend_coef = fmt12(cc$trendVector[, 1]),
      score = fmt12(cc$score[, 1]), error = 0)
  }
  do.call(rbind, out)
}

tight_glm <- identical(commandArgs(trailingOnly = TRUE), "tight-glm")
if (!tight_glm) {
  write.csv(run_all(), "farrington_reference.csv", row.names = FALSE, quote = FALSE)
  hard_inp <- do.call(rbind, lapply(names(hard_series), function(s)
    data.frame(series = s, t = seq_along(hard_series[[s]]$y), observed = hard_series[[s]]$y)))
  write.csv(hard_inp, "farrington_hard_input.csv", row.names = FALSE, quote = FALSE)
  write.csv(run_hard(), "farrington_hard_reference.csv", row.names = FALSE, quote = FALSE)
  # the tight-glm pass runs in a fresh R process so that glm.control is only changed there
  stopifnot(system2("Rscript", c("make_reference_farrington.R", "tight-glm")) == 0)
} else {
  glm_control_default <- stats::glm.control
  assignInNamespace("glm.control", function(epsilon = 1e-14, maxit = 1000, trace = FALSE)
    glm_control_default(epsilon = epsilon, maxit = maxit, trace = trace), "stats")
  write.csv(run_all(), "farrington_reference_tight_glm.csv", row.names = FALSE, quote = FALSE)
}
