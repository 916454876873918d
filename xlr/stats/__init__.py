"""Paired statistics of two encoders on the same queries: bootstrap intervals, McNemar's exact
test, sign-flip permutation tests and Holm's correction across directions.
"""
