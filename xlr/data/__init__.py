"""Corpora: documents linked across languages, their loaders (JSONL, XQuAD, Tatoeba, line-aligned
folders), the named data sets and their downloads, and language codes.
"""
