# Reference numbers for tests/lab/test_relapse.py.
# Simulates biweekly urine-test histories of registered people (relapse times Weibull,
# tests missed at random, some inconclusive, staggered end of follow-up), derives the
# censoring interval (last negative, first positive] of each person independently of wbe,
# and records
#   * the Turnbull NPMLE from survival::survfit(Surv(l, r, type = "interval2") ~ 1),
#   * the Kaplan-Meier curve on first-positive dates with log-log pointwise limits,
#   * the exact Poisson interval of the relapse rate per person-month (poisson.test).
# Run from the repository root:  Rscript tests/lab/r/make_relapse_reference.R
suppressMessages(library(survival))
set.seed(20240607)
n <- 250
origin <- as.Date("2021-01-04")
rows <- list()
for (i in seq_len(n)) {
  t_relapse <- rweibull(1, shape = 0.9, scale = 420)       # days after origin
  follow <- runif(1, 300, 1500)                            # days of follow-up
  days <- seq(0, follow, by = 14)
  keep <- c(TRUE, runif(length(days) - 1) > 0.2)           # 20 % of tests missed
  days <- days[keep]
  res <- ifelse(days >= t_relapse, "positive", "negative")
  if (i %% 40 == 0) res[1] <- "positive"                   # positive at origin
  incon <- runif(length(days)) < 0.03
  res[incon] <- "inconclusive"
  rows[[i]] <- data.frame(subject_key = sprintf("p%03d", i),
                          date = format(origin + days), result = res)
}
hist <- do.call(rbind, rows)
write.csv(hist, "tests/lab/r/relapse_histories.csv", row.names = FALSE, quote = FALSE)

# censoring intervals in days since each person's first test
iv <- do.call(rbind, lapply(split(hist, hist$subject_key), function(h) {
  d <- as.numeric(as.Date(h$date) - min(as.Date(h$date)))
  r <- h$result
  ok <- r != "inconclusive"
  d <- d[ok]; r <- r[ok]
  pos <- d[r == "positive"]
  first_pos <- if (length(pos)) min(pos) else Inf
  neg <- d[r == "negative" & d < first_pos]
  data.frame(subject_key = h$subject_key[1],
             l = if (length(neg)) max(neg) else 0, r = first_pos)
}))
iv <- iv[iv$r > 0, ]                                        # drop positive at origin
write.csv(iv, "tests/lab/r/relapse_intervals_reference.csv", row.names = FALSE, quote = FALSE)

r2 <- ifelse(is.finite(iv$r), iv$r, NA)
tb <- survfit(Surv(iv$l, r2, type = "interval2") ~ 1)
write.csv(data.frame(time = tb$time, surv = signif(tb$surv, 10)),
          "tests/lab/r/relapse_turnbull_reference.csv", row.names = FALSE, quote = FALSE)

ev <- is.finite(iv$r)
tt <- ifelse(ev, iv$r, iv$l)
km <- survfit(Surv(tt, ev) ~ 1, conf.type = "log-log", conf.int = 0.95)
s <- summary(km, censored = FALSE)
write.csv(data.frame(time = s$time, n_risk = s$n.risk, n_event = s$n.event,
                     surv = signif(s$surv, 10), lower = signif(s$lower, 10),
                     upper = signif(s$upper, 10)),
          "tests/lab/r/relapse_km_reference.csv", row.names = FALSE, quote = FALSE)

months <- 365.25 / 12
end_mid <- ifelse(ev, (iv$l + iv$r) / 2, iv$l)
end_right <- ifelse(ev, iv$r, iv$l)
rate <- do.call(rbind, lapply(list(midpoint = end_mid, right = end_right), function(e) {
  pt <- sum(e) / months
  ci <- poisson.test(sum(ev), pt, conf.level = 0.95)$conf.int
  data.frame(events = sum(ev), person_months = signif(pt, 10),
             lower = signif(ci[1], 10), upper = signif(ci[2], 10))
}))
rate$event_time <- rownames(rate)
write.csv(rate, "tests/lab/r/relapse_rate_reference.csv", row.names = FALSE, quote = FALSE)
