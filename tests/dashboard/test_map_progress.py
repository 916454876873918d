"""AppTest of the Embedding map's first UMAP (fast): a progress bar with Cancel, then the map.

Issue 19: "The first UMAP took 76 s with a spinner only". The real umap-learn compiles for a minute,
so the projection here is a stand-in that reports epochs through the same ``progress`` and waits
on an event (no timing assumptions)."""

from __future__ import annotations

import threading
import time

import numpy as np
from strategy_fakes import synthetic_app

PAGE = "pages/2_Embedding_map.py"


def test_the_first_umap_shows_its_progress_and_can_be_cancelled(tmp_path, monkeypatch):
    from xlr.report import projection

    gate, calls = threading.Event(), []

    def fake_umap(x, *, random_state, n_neighbors=15, min_dist=0.1, progress=None):
        calls.append(x.shape[0])
        for epoch in range(11):
            if epoch == 3:
                assert gate.wait(30), "the test never opened the gate"
            if progress is not None:
                progress(epoch, 10)
        return np.asarray(x[:, :2], dtype=np.float32)

    monkeypatch.setattr(projection, "umap_2d", fake_umap)
    at = synthetic_app(tmp_path, monkeypatch, 40, 20)
    at.run()
    at.switch_page(PAGE).run()
    assert not at.exception, [e.value for e in at.exception]
    at.radio(key="map.method").set_value("umap").run()
    assert not at.exception, [e.value for e in at.exception]

    def shown(what) -> bool:
        for _ in range(200):
            at.run()
            if what():
                return True
            time.sleep(0.05)
        return False

    def bar() -> str:
        return "".join(str(p.proto.text) for p in at.get("progress"))

    assert shown(lambda: "epoch 2 of 10" in bar()), bar()
    assert not at.get("plotly_chart") and [b for b in at.button if b.label == "Cancel"]
    next(b for b in at.button if b.label == "Cancel").click().run()
    gate.set()
    assert shown(lambda: any("cancelled after" in w.value for w in at.warning))
    assert not at.get("plotly_chart")
    next(b for b in at.button if b.label == "Start the UMAP again").click().run()
    assert shown(lambda: bool(at.get("plotly_chart")))
    assert not at.exception and len(calls) == 2
    at.radio(key="map.method").set_value("pca").run()  # PCA never goes through a job
    at.radio(key="map.method").set_value("umap").run()  # the UMAP is on disk now: no second fit
    assert at.get("plotly_chart") and len(calls) == 2
