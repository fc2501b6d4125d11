"""Hair and urine drug-test batches: readers, cutoffs, QC, prevalence, relapse (``wbe.lab``)."""

__all__: list[str] = []
