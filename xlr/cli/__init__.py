"""The command line (``xlr`` / ``python -m xlr``): ``eval``, ``search``, ``compare``, ``strategies``,
``finetune``, ``price``, ``datasets`` and ``models``; each command parses options and calls the library.
"""
