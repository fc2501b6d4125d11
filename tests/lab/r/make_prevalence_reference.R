# Reference numbers for tests/lab/test_prevalence.py: apparent and true prevalence with
# Wilson and Clopper-Pearson ("c-p") intervals from epiR::epi.prev (Stevenson et al.).
# Run from the repository root:  Rscript tests/lab/r/make_prevalence_reference.R
# Writes tests/lab/r/prevalence_reference.csv (values rounded to 10 significant digits).
suppressMessages(library(epiR))
cases <- data.frame(
  pos    = c(20, 5, 12, 150, 37, 3, 60, 250),
  tested = c(100, 50, 80, 400, 120, 25, 90, 1000),
  se     = c(0.90, 0.95, 0.80, 0.99, 0.85, 0.95, 0.90, 0.98),
  sp     = c(0.95, 0.99, 0.97, 0.98, 0.90, 0.90, 0.92, 0.995)
)
out <- list()
for (method in c("wilson", "c-p")) {
  for (level in c(0.95, 0.90)) {
    for (i in seq_len(nrow(cases))) {
      r <- suppressWarnings(epi.prev(pos = cases$pos[i], tested = cases$tested[i],
                                     se = cases$se[i], sp = cases$sp[i], method = method,
                                     units = 1, conf.level = level))
      out[[length(out) + 1]] <- data.frame(
        method = method, level = level, pos = cases$pos[i], tested = cases$tested[i],
        se = cases$se[i], sp = cases$sp[i],
        ap_est = r$ap$est, ap_lower = r$ap$lower, ap_upper = r$ap$upper,
        tp_est = r$tp$est, tp_lower = r$tp$lower, tp_upper = r$tp$upper)
    }
  }
}
res <- do.call(rbind, out)
res$epiR_version <- as.character(packageVersion("epiR"))
num <- vapply(res, is.numeric, logical(1))
res[num] <- lapply(res[num], signif, digits = 10)
write.csv(res, "tests/lab/r/prevalence_reference.csv",
          row.names = FALSE, quote = FALSE)
