# Reference quantiles for wbe.back_calculate(method="analytic") (closed-form log-normal
# propagation). Independent oracle: R's qlnorm of the product of independent log-normal
# factors, written from the definition (log of a product = sum of independent normals).
#
# Example (tests/wbe/test_backcalc.py::test_analytic_matches_r_reference):
#   concentration 150 ng/L, flow 200000 m3/day, population 400000 inhabitants,
#   error factors (observed = true x eps) sampling, chemical analysis, flow: log-normal with
#   mean 1 and CV 0.10, 0.10, 0.10; correction factor log-normal mean 2.56, sd 0.64;
#   population log-normal mean 400000, CV 0.2; typical dose 30 mg (fixed).
# Run: Rscript make_reference_lognormal.R  (writes lognormal_reference.csv)

ln_from_cv <- function(mean, cv) {
  s <- sqrt(log(1 + cv^2))
  c(meanlog = log(mean) - s^2 / 2, sdlog = s)
}
samp <- ln_from_cv(1, 0.10); anal <- ln_from_cv(1, 0.10); flow <- ln_from_cv(1, 0.10)
cf <- ln_from_cv(2.56, 0.64 / 2.56); pop <- ln_from_cv(400000, 0.2)
base_load <- 150 * 200000 * 1e-3  # mg/day

# load = base / (eps_s eps_a eps_f): log-mean subtracts, log-variances add
load_ml <- log(base_load) - samp[["meanlog"]] - anal[["meanlog"]] - flow[["meanlog"]]
load_sl2 <- samp[["sdlog"]]^2 + anal[["sdlog"]]^2 + flow[["sdlog"]]^2
cons_ml <- load_ml + cf[["meanlog"]]; cons_sl2 <- load_sl2 + cf[["sdlog"]]^2
k_ml <- cons_ml + log(1000) - pop[["meanlog"]]; k_sl2 <- cons_sl2 + pop[["sdlog"]]^2
d_ml <- k_ml - log(30); d_sl2 <- k_sl2

p <- c(0.025, 0.25, 0.5, 0.75, 0.975)
rows <- list(
  load_mg_per_day = c(load_ml, load_sl2),
  consumption_mg_per_day = c(cons_ml, cons_sl2),
  consumption_mg_per_day_per_1000 = c(k_ml, k_sl2),
  doses_per_day_per_1000 = c(d_ml, d_sl2)
)
out <- do.call(rbind, lapply(names(rows), function(v) {
  data.frame(variable = v, probability = p,
             quantile = qlnorm(p, meanlog = rows[[v]][1], sdlog = sqrt(rows[[v]][2])))
}))
write.csv(out, "lognormal_reference.csv", row.names = FALSE)
