"""xlr: evaluate multilingual text encoders on cross-language retrieval.

The pure core (no streamlit): corpora and data sets, encoders and their
embedding cache, gold ranks and metrics, strategies and significance tests,
figures.  ``xlr.ui`` is the only module that imports streamlit.
"""

from __future__ import annotations

__version__ = "0.1.0"
__all__ = ["__version__"]
