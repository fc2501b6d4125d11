# Reference numbers for wbe.aggregate.censored_mean (tests/wbe/test_aggregate.py).
#
# Run from the repository root:
#   Rscript tests/wbe/reference/aggregate_censored_mean.R
# Writes tests/wbe/reference/aggregate_censored_mean_data.csv (the censored data sets)
# and tests/wbe/reference/aggregate_censored_mean_reference.csv (mean and sd by method).
#
# Neither NADA, NADA2 nor EnvStats is packaged for this machine (apt-cache policy
# r-cran-nada r-cran-envstats r-cran-nada2 lists none), so:
#  * MLE: survival::survreg with left-censored log values and a Gaussian error, i.e. the
#    censored log-normal maximum likelihood fit (the fit NADA::cenmle performs);
#    mean = exp(mu + sigma^2 / 2), sd = mean * sqrt(exp(sigma^2) - 1).
#  * ROS: written here from the equations of Helsel & Cohn (1988, Water Resour Res
#    24:1997-2004, doi:10.1029/WR024i012p01997) and Helsel (2012, ch. 6): exceedance
#    probabilities PE_j of the limits, Hirsch-Stedinger plotting positions for detects
#    and non-detects, least-squares line of log(detects) on normal scores, imputation of
#    the non-detects, mean and sd of the filled-in sample. This is an independent
#    implementation, not a translation of the Python code under test (which wraps
#    statsmodels.imputation.ros).
suppressPackageStartupMessages(library(survival))
out_dir <- "tests/wbe/reference"

set.seed(20241123)
make_set <- function(id, n, meanlog, sdlog, limits) {
  x <- rlnorm(n, meanlog, sdlog)
  lim <- limits[sample.int(length(limits), n, replace = TRUE)]
  cens <- x < lim
  data.frame(dataset = id, value = ifelse(cens, NA, signif(x, 4)),
             loq = lim, censored = cens)
}
sets <- rbind(
  make_set("single_loq_n20", 20, log(10), 0.8, c(6)),
  make_set("three_loqs_n30", 30, log(10), 1.0, c(3, 6, 12)),
  make_set("two_loqs_n60", 60, log(5), 1.2, c(4, 8)),
  data.frame(dataset = "helsel_style_n8",
             value = c(NA, NA, 3.2, 4.1, 5.0, 7.9, 12.0, 2.5),
             loq = 2.0, censored = c(TRUE, TRUE, FALSE, FALSE, FALSE, FALSE, FALSE, FALSE))
)

mle <- function(d) {
  obs <- ifelse(d$censored, d$loq, d$value)
  fit <- survreg(Surv(log(obs), !d$censored, type = "left") ~ 1, dist = "gaussian",
                 control = survreg.control(rel.tolerance = 1e-12, maxiter = 200))
  mu <- unname(coef(fit)[1]); s <- fit$scale
  m <- exp(mu + s^2 / 2)
  c(mean = m, sd = m * sqrt(exp(s^2) - 1), mu_log = mu, sigma_log = s)
}

ros <- function(d) {
  obs <- ifelse(d$censored, d$loq, d$value)
  cens <- d$censored
  dl <- sort(unique(obs[cens]))
  if (min(obs[!cens]) < dl[1]) dl <- c(0, dl)  # interval below the lowest limit
  m <- length(dl)
  upper <- c(dl[-1], Inf)
  A <- sapply(seq_len(m), function(j) sum(!cens & obs >= dl[j] & obs < upper[j]))
  B <- sapply(seq_len(m), function(j) sum(!cens & obs < dl[j]) + sum(cens & obs <= dl[j]))
  PE <- numeric(m + 1)  # PE[m + 1] = 0
  for (j in m:1) PE[j] <- PE[j + 1] + (1 - PE[j + 1]) * A[j] / (A[j] + B[j])
  pp <- numeric(length(obs))
  for (j in seq_len(m)) {
    det <- which(!cens & obs >= dl[j] & obs < upper[j])
    det <- det[order(obs[det])]
    if (length(det)) pp[det] <- (1 - PE[j]) + (PE[j] - PE[j + 1]) * seq_along(det) / (A[j] + 1)
    nd <- which(cens & obs == dl[j])
    if (length(nd)) pp[nd] <- (1 - PE[j]) * seq_along(nd) / (length(nd) + 1)
  }
  z <- qnorm(pp)
  fit <- lm(log(obs[!cens]) ~ z[!cens])
  filled <- obs
  filled[cens] <- exp(coef(fit)[1] + coef(fit)[2] * z[cens])
  c(mean = mean(filled), sd = sd(filled), mu_log = unname(coef(fit)[1]),
    sigma_log = unname(coef(fit)[2]))
}

ref <- do.call(rbind, lapply(split(sets, factor(sets$dataset, unique(sets$dataset))),
  function(d) {
    rbind(data.frame(dataset = d$dataset[1], method = "mle", t(mle(d))),
          data.frame(dataset = d$dataset[1], method = "ros", t(ros(d))))
  }))
write.csv(sets, file.path(out_dir, "aggregate_censored_mean_data.csv"), row.names = FALSE)
write.csv(format(ref, digits = 12), file.path(out_dir, "aggregate_censored_mean_reference.csv"),
          row.names = FALSE, quote = FALSE)
print(ref)
print(table(sets$dataset, sets$censored))
