"""Tables, files and figures of results: encoders side by side, result files (JSON, CSV), language
matrices and marginals, model-card support flags, strategies tables, and the dashboard's plots.
"""
