"""A real process that embeds texts through the cache (used by bench.encode_hw and tests/encoders/test_cache_processes.py).

``python -m bench.cache_worker CACHE_DIR TEXTS_JSON OUT_NPY ENCODER BATCH_SIZE``: prints
``progress DONE TOTAL`` after each committed batch, saves the vectors to OUT_NPY and prints
the CacheStats as one JSON line last.
"""

from __future__ import annotations

import json
import sys
import warnings
from dataclasses import asdict

import numpy as np

from xlr.encoders.cache import EmbeddingCache
from xlr.encoders.registry import load_encoder


def main() -> None:
    cache_dir, texts_path, out, name, batch = sys.argv[1:6]
    texts = json.loads(open(texts_path, encoding="utf-8").read())
    encoder = load_encoder(name)

    def progress(done: int, total: int) -> None:
        print(f"progress {done} {total}", flush=True)

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        vecs, stats = EmbeddingCache(cache_dir).embed(
            encoder, texts, role="document", batch_size=int(batch), progress=progress
        )
    np.save(out, vecs)
    print(json.dumps(asdict(stats) | {"warnings": [str(w.message) for w in caught]}), flush=True)


if __name__ == "__main__":
    main()
