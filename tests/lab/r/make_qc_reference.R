# Reference numbers for tests/lab/test_qc.py: weighted calibration fits (R lm with
# weights) and ICH Q2(R1) limits from an unweighted line.
# Run: Rscript tests/lab/r/make_qc_reference.R  (writes qc_calibration_reference.csv and
# qc_limits_reference.csv beside this script). Made with R 4.2.2 (stats::lm only).
args <- commandArgs(trailingOnly = FALSE)
here <- dirname(normalizePath(sub("--file=", "", args[grep("--file=", args)])))

# hand-made calibrators: methamphetamine in hair (ng/mg) vs area ratio, mildly curved
x <- c(0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5)
y <- c(0.0415, 0.1032, 0.2051, 0.4120, 1.0180, 2.0050, 3.9500, 9.4800)

rows <- list()
for (model in c("linear", "quadratic")) {
  for (weighting in c("none", "1/x", "1/x^2")) {
    w <- switch(weighting, "none" = rep(1, length(x)), "1/x" = 1 / x, "1/x^2" = 1 / x^2)
    fit <- if (model == "linear") lm(y ~ x, weights = w) else lm(y ~ x + I(x^2), weights = w)
    b <- coef(fit)
    se <- summary(fit)$coefficients[, 2]
    # back-calculation: invert the curve (rising root for the quadratic)
    back <- if (model == "linear") (y - b[1]) / b[2] else
      (-b[2] + sqrt(b[2]^2 - 4 * b[3] * (b[1] - y))) / (2 * b[3])
    rows[[length(rows) + 1]] <- data.frame(
      model = model, weighting = weighting, level = seq_along(x), nominal = x, response = y,
      b0 = unname(b[1]), b1 = unname(b[2]), b2 = if (model == "linear") NA else unname(b[3]),
      se_b0 = unname(se[1]), se_b1 = unname(se[2]),
      se_b2 = if (model == "linear") NA else unname(se[3]),
      r_squared = summary(fit)$r.squared, back_calculated = back
    )
  }
}
out <- do.call(rbind, rows)
write.csv(out, file.path(here, "qc_calibration_reference.csv"),
          row.names = FALSE)

# ICH Q2(R1): LOD = 3.3 sigma / S, LOQ = 10 sigma / S from an unweighted low-range line
xl <- c(0.5, 1, 2, 3, 4)
yl <- c(1.1, 1.9, 4.2, 5.9, 8.1)
f <- lm(yl ~ xl)
sigma <- summary(f)$sigma
S <- coef(f)[2]
lim <- data.frame(sigma = sigma, slope = unname(S), lod = unname(3.3 * sigma / S),
                  loq = unname(10 * sigma / S))
write.csv(lim, file.path(here, "qc_limits_reference.csv"),
          row.names = FALSE)
cat("R", R.version$major, R.version$minor, "\n")
