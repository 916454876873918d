"""A synthetic stand-in for ``sample-6lang.jsonl``: the published size and shape, made-up text.

The real file is not on this machine and never fetched by tests; this one has exactly
``WIKI6_SIZE`` bytes and ``n_ids`` ids x the six languages, so the wiki6 pin accepts it,
and variants (fewer ids, other size) show what the pin refuses.
"""

from __future__ import annotations

import json
from pathlib import Path

from xlr.data.registry import WIKI6_SIZE

LANGS = ("ar", "de", "el", "en", "fr", "zh")


def wiki6_bytes(n_ids: int = 1973, size: int | None = WIKI6_SIZE, langs: tuple[str, ...] = LANGS) -> bytes:
    """JSONL of ``n_ids`` x ``langs`` records, padded (in the last text) to ``size`` bytes when given."""
    lines = [
        json.dumps({"id": f"Q{i}", "lang": lang, "title": f"t{i}", "url": "", "text": f"text {i} in {lang}"})
        for i in range(n_ids)
        for lang in langs
    ]
    body = "\n".join(lines) + "\n"
    data = body.encode("utf-8")
    if size is not None:
        pad = size - len(data)
        if pad < 0:
            raise ValueError(f"{n_ids} ids need {len(data)} bytes, more than {size}")
        last = json.loads(lines[-1])
        last["text"] += " " + "x" * max(0, pad - 1)
        lines[-1] = json.dumps(last)
        data = ("\n".join(lines) + "\n").encode("utf-8")
        assert len(data) == size, (len(data), size)
    return data


def write_wiki6(path: Path, **kwargs) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(wiki6_bytes(**kwargs))
    return path
