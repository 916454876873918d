"""Retrieval strategies compared with a baseline: scoring rules, post-processing (centering,
Procrustes), input variants, fusion of encoders, fine-tuning, and the evaluated/fit split.
"""
