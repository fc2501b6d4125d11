# Reference numbers for tests/models/test_trends.py (base R only; Kendall/trend/NADA are not
# packaged for this Debian image). Run from this folder:  Rscript make_trend_reference.R
d <- read.csv("trend_input.csv")
out <- list()
for (sid in sort(unique(d$series))) {
  s <- d[d$series == sid, ]
  # Mann-Kendall = Kendall's tau test of value against time, tie-corrected normal
  # approximation with continuity correction (R's cor.test, exact = FALSE)
  ct <- cor.test(s$t_day, s$value, method = "kendall", exact = FALSE, continuity = TRUE)
  # seasonal Kendall: S and tie-corrected Var(S) summed over months (Hirsch et al. 1982)
  S <- 0; V <- 0
  for (m in sort(unique(s$month))) {
    g <- s[s$month == m, ]
    n <- nrow(g)
    if (n < 2) next
    S <- S + sum(sign(outer(g$value, g$value, "-")) * sign(outer(g$t_day, g$t_day, "-")) *
                 upper.tri(diag(n)))
    tv <- table(g$value); tv <- tv[tv > 1]
    V <- V + (n * (n - 1) * (2 * n + 5) - sum(tv * (tv - 1) * (2 * tv + 5))) / 18
  }
  fit <- lm(log(value) ~ t_day, data = s)
  ci <- confint(fit, "t_day", level = 0.95)
  apc <- 100 * (exp(365.25 * c(coef(fit)[["t_day"]], ci[1], ci[2])) - 1)
  out[[length(out) + 1]] <- data.frame(
    series = sid, mk_z = unname(ct$statistic), mk_p = ct$p.value, mk_tau = unname(ct$estimate),
    smk_s = S, smk_var = V, apc = apc[1], apc_lower = apc[2], apc_upper = apc[3],
    apc_p = summary(fit)$coefficients["t_day", 4])
}
res <- do.call(rbind, out)
write.csv(res, "trend_reference.csv", row.names = FALSE)
cat(R.version.string, "\n")

# censored Mann-Kendall: every value below the highest LOQ re-censored to one tied value
# (Helsel 2012, ch. 12), then Kendall's tau test as above
cd <- read.csv("censored_input.csv")
cres <- list()
for (sid in sort(unique(cd$series))) {
  s <- cd[cd$series == sid, ]
  lim <- max(s$value[s$censored == 1])
  v <- ifelse(s$censored == 1 | s$value < lim, -Inf, s$value)
  v[is.infinite(v)] <- lim - 1 - abs(lim)
  ct <- cor.test(s$t_day, v, method = "kendall", exact = FALSE, continuity = TRUE)
  cres[[length(cres) + 1]] <- data.frame(series = sid, z = unname(ct$statistic),
                                         p = ct$p.value, tau = unname(ct$estimate))
}
write.csv(do.call(rbind, cres), "censored_reference.csv", row.names = FALSE)
