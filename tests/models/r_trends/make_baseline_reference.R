# Reference numbers for tests/models/test_baseline.py (base R). Run from this folder:
#   Rscript make_baseline_reference.R
d <- read.csv("baseline_input.csv")
d$date <- as.Date(d$date)
out <- list()
for (site in sort(unique(d$site))) {
  for (as_of in c("2023-12-31", "2024-06-30")) {
    a <- as.Date(as_of)
    w <- d[d$site == site & d$date > a - 365 & d$date <= a, ]
    # first observation after as_of, its percentile rank among the previous 365 days
    nxt <- d[d$site == site & d$date > a, ][1, ]
    h <- d[d$site == site & d$date < nxt$date & d$date >= nxt$date - 365, ]
    out[[length(out) + 1]] <- data.frame(
      site = site, as_of = as_of, baseline_p10 = unname(quantile(w$value, 0.10, type = 7)),
      n_values = nrow(w), next_date = format(nxt$date), next_value = nxt$value,
      next_percentile = 100 * ecdf(h$value)(nxt$value))
  }
}
write.csv(do.call(rbind, out), "baseline_reference.csv", row.names = FALSE)
