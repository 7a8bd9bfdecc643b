r"""The ``clean`` protocol of the benchmark suites: a validation split
carved from each user's training interactions, an equal tuning budget per
method selected on validation, several seeds per winner, the test split
evaluated once per final run, and paired bootstrap intervals per claim.

``python -m benchmarks.run SUITE --protocol clean`` drives it
(:mod:`benchmarks.clean.clean_suite`); the search spaces, budgets and
per-dataset settings are in ``benchmarks/configs/clean.json``.
"""
