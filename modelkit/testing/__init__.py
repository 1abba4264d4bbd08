"""Testing: running data tests and unit tests.

A data test's failing-rows query is wrapped into one verdict row and judged by its config;
``batch`` runs many data tests in one ``union all`` statement; ``unittests`` renders a model
with fixture rows in place of its inputs and compares the result with the expected rows.
"""
