"""Ad-hoc search states its cost before encoding (fast AppTest with lookup encoders)."""

from __future__ import annotations

import pytest
from strategy_fakes import synthetic_app

SEARCH = "pages/4_Ad-hoc_search.py"


@pytest.fixture()
def at(tmp_path, monkeypatch):
    return synthetic_app(tmp_path, monkeypatch, 80, 20)


def test_pool_defaults_to_the_selection_and_the_whole_corpus_says_its_cost_first(at):
    from xlr.dashboard import resources

    at.run()  # the overview encodes the selection (first 20 ids)
    at.switch_page(SEARCH).run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.toggle(key="search.whole").value is False  # the whole corpus is not cached
    query = at.session_state["xlr.context"].data.corpus.documents[0].text  # the fakes know corpus texts only
    at.text_area(key="search.text").set_value(query)
    at.button(key="search.go").click().run()
    assert at.table and not at.warning, "the selection is cached: results at once, no notice"
    running = len(resources.board().running())
    at.toggle(key="search.whole").set_value(True)
    at.button(key="search.go").click().run()
    notice = " ".join(w.value for w in at.warning)
    assert "texts to encode" in notice and "0 texts/s" not in notice, notice
    assert len(resources.board().running()) == running and not at.get("progress")  # nothing started
    assert [b for b in at.button if b.label.startswith("Encode the pool")]
    next(b for b in at.button if b.label.startswith("Encode the pool")).click().run()
    import time

    for _ in range(100):
        if at.table:
            break
        time.sleep(0.1)
        at.run()
    assert at.table and not at.exception
