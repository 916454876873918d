"""AppTest of the Strategies page's chat strategies against the fake chat server (fast; no model)."""

from __future__ import annotations

from strategy_fakes import reopened, synthetic_app, url_of

from tests.encoders.api_servers import FakeChat

PAGE = "pages/6_Strategies.py"
# the synthetic corpus: texts "<lang> <i>", titles "T<lang> <i>"; fake0 knows every text
WORDS = {"de": "en", "zh": "en"}
TITLES = {f"{lang} {i}": f"Ten {i}" for i in range(80) for lang in ("de", "zh")}


def test_chat_strategies_cost_first_confirmed_then_run(tmp_path, monkeypatch):
    with FakeChat(titles=TITLES, words=WORDS).running() as server:
        at = synthetic_app(tmp_path, monkeypatch, 80, 40, XLR_DASHBOARD_ALLOW_API="1")
        at.run()
        at.switch_page(PAGE).run()
        assert not at.exception, [e.value for e in at.exception]
        at.multiselect(key="strat.pick").set_value([]).run()
        at.text_input(key="strat.chat_model").input("chat:fake-llm").run()
        at.text_input(key="strat.chat_base").input(server.url).run()
        at.multiselect(key="strat.chat_kinds").set_value(["translate-test", "generate-title"]).run()
        assert not at.exception, [e.value for e in at.exception]
        stated = [c.value for c in at.caption if "prompts to send" in c.value]
        assert len(stated) == 2 and all("80 prompts to send" in s for s in stated)
        assert at.button(key="strat.run").disabled and server.attempts == 0  # nothing before the confirmation
        at.checkbox(key="strat.chat_send").check().run()
        assert server.attempts == 0
        at.button(key="strat.run").click().run()
        assert not at.exception, [e.value for e in at.exception]
        assert server.attempts == 160
    table = at.dataframe[0].value
    assert {"translate-test(fake0)", "generate-title"} <= set(table["strategy"])
    rows = table[(table.strategy == "generate-title") & (table.direction != "verdict")]
    assert rows["R@1"].tolist() == ["1.000", "1.000"]


def test_no_chat_where_the_operator_allows_no_api(tmp_path, monkeypatch):
    at = synthetic_app(tmp_path, monkeypatch, 80, 40, XLR_DASHBOARD_ALLOW_API="0")
    at.run()
    at.switch_page(PAGE).run()
    assert not at.exception, [e.value for e in at.exception]
    assert any("Not accepted on this server" in c.value for c in at.caption)
    assert not [w for w in at.text_input if w.key == "strat.chat_model"]


def test_generate_title_matched_by_the_retriever_encoder(tmp_path, monkeypatch):
    import numpy as np

    from xlr.encoders.catalogue import CATALOGUE

    class Known(dict):  # fake0 knows the corpus texts; generated and pool titles get a vector of their own
        def __missing__(self, text):
            return np.random.default_rng(len(text)).standard_normal(16).astype(np.float32)

    with FakeChat(titles=TITLES).running() as server:
        at = synthetic_app(tmp_path, monkeypatch, 80, 40, XLR_DASHBOARD_ALLOW_API="1")
        card = CATALOGUE["fake0"]
        enc = card.loader(card)
        enc.table = Known(enc.table)
        at.run()
        at.switch_page(PAGE).run()
        at.multiselect(key="strat.pick").set_value([]).run()
        at.text_input(key="strat.chat_model").input("chat:fake-llm").run()
        at.text_input(key="strat.chat_base").input(server.url).run()
        at.multiselect(key="strat.chat_kinds").set_value(["generate-title"]).run()
        at.radio(key="strat.chat_title_match").set_value("encoder").run()
        at.checkbox(key="strat.chat_send").check().run()
        at.button(key="strat.run").click().run()
        assert not at.exception, [e.value for e in at.exception]
    table = at.dataframe[0].value
    rows = table[(table.strategy == "generate-title(fake0)") & (table.direction != "verdict")]
    assert rows["R@1"].tolist() == ["1.000", "1.000"]  # "Ten i" matches its title exactly


def test_what_the_retriever_encodes_after_the_answers_is_stated_before_sending(tmp_path, monkeypatch):
    """translate-test embeds every translation and the pools the cache lacks; generate-title matched by
    the encoder embeds every answer and the pool titles; by trigrams nothing: each is said before sending."""
    with FakeChat(titles=TITLES, words=WORDS).running() as server:
        at = synthetic_app(tmp_path, monkeypatch, 80, 40, XLR_DASHBOARD_ALLOW_API="1")
        at.run()
        at.switch_page(PAGE).run()
        at.multiselect(key="strat.pick").set_value([]).run()
        at.text_input(key="strat.chat_model").input("chat:fake-llm").run()
        at.text_input(key="strat.chat_base").input(server.url).run()

        def then() -> list[str]:
            return [c.value for c in at.caption if c.value.startswith("Then ")]

        at.multiselect(key="strat.chat_kinds").set_value(["generate-title"]).run()
        assert then() == []  # trigram matching encodes nothing
        at.radio(key="strat.chat_title_match").set_value("encoder").run()
        (titles,) = then()
        at.multiselect(key="strat.chat_kinds").set_value(["translate-test"]).run()
        (translations,) = then()
        assert not at.exception, [e.value for e in at.exception]
        assert server.attempts == 0
    translations, titles = (t.replace("\\", "") for t in (translations, titles))  # Markdown escapes
    # the Overview encoded the pools already; the translations are new
    assert translations.startswith("Then fake0: 80 texts to encode, ")
    assert translations.endswith(": 80 answers or translations (new texts) and 0 pool texts the cache lacks.")
    lacking = int(titles.split(" and ")[-1].split()[0])
    assert lacking > 0 and titles.startswith(f"Then fake0: {80 + lacking} texts to encode")


def test_the_chat_settings_are_in_the_url_and_a_link_restores_them(tmp_path, monkeypatch):
    at = synthetic_app(tmp_path, monkeypatch, 80, 40, XLR_DASHBOARD_ALLOW_API="1")
    at.run()
    at.switch_page(PAGE).run()
    at.text_input(key="strat.chat_model").input("chat:fake-llm").run()
    at.multiselect(key="strat.chat_kinds").set_value(["generate-title"]).run()
    at.radio(key="strat.chat_title_match").set_value("encoder").run()
    assert not at.exception, [e.value for e in at.exception]
    params = url_of(at)
    assert (params["chat_model"], params["chat"], params["title_match"]) == (
        "chat:fake-llm",
        "generate-title",
        "encoder",
    )
    assert "chat_base" not in params and not any("http" in v for v in params.values())  # no endpoint in links
    fresh = reopened(at, tmp_path, monkeypatch, 80, 40, PAGE, XLR_DASHBOARD_ALLOW_API="1")
    assert fresh.text_input(key="strat.chat_model").value == "chat:fake-llm"
    assert fresh.multiselect(key="strat.chat_kinds").value == ["generate-title"]
    assert fresh.radio(key="strat.chat_title_match").value == "encoder"
