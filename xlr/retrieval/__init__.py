"""Cross-language retrieval itself: directions, scoring rules, the rank kernels, metrics, the
:func:`~xlr.retrieval.evaluate.evaluate` call and its :class:`~xlr.retrieval.results.EvalResults`, ad-hoc search.
"""
