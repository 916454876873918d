"""API encoders against a real HTTP server in a thread (deterministic fake vectors; no real encoder)."""

from __future__ import annotations

import email.utils
import time

import numpy as np
import pytest

from tests.encoders.api_servers import FakeEmbeddings, fake_vector
from xlr.encoders.api import PROBE_TEXT, ApiResponseError, ApiSettings, OpenAIEncoder, parse_embeddings
from xlr.encoders.api_cost import BudgetError, PriceError, estimate_cost, estimate_tokens, parse_prices
from xlr.encoders.api_http import ApiRequestError, Endpoint, _retry_after, redact
from xlr.encoders.cache import EmbeddingCache
from xlr.encoders.catalogue import CATALOGUE, card, catalogue_lines, unsupported
from xlr.encoders.registry import load_encoder

KEY = "sk-xlr-test-0123456789abcdefSECRET"
TEXTS = ["The cat sleeps.", "Η γάτα κοιμάται.", "猫在睡觉。", "Die Katze schläft.", "Le chat dort.", "x" * 90]


@pytest.fixture
def fake():
    with FakeEmbeddings(dim=16).running() as f:
        yield f


def enc(fake, tmp_path, **kw) -> OpenAIEncoder:
    return OpenAIEncoder("fake-model", ApiSettings(base_url=fake.url, **kw), fingerprint_dir=tmp_path / "fp")


def expected(texts, input_type=None, dim=16, model="fake-model"):
    return np.stack([fake_vector(model, input_type, t, dim) for t in texts])


@pytest.mark.parametrize("encoding", ["base64", "float"])
def test_vectors_come_back_in_index_order_either_transport(fake, tmp_path, encoding):
    e = enc(fake, tmp_path, encoding=encoding)
    v = e.encode(TEXTS)
    np.testing.assert_allclose(v, expected(TEXTS), atol=1e-6)
    assert v.dtype == np.float32 and e.identity.dim == 16
    assert {r["encoding_format"] for r in fake.requests} == {encoding}
    assert e.usage_tokens == 3 * (len(TEXTS) + 1)  # the probe is billed too


def test_requests_respect_input_and_token_limits_and_concurrency(tmp_path):
    with FakeEmbeddings(dim=8, delay_s=0.05).running() as fake:
        e = enc(fake, tmp_path, max_inputs=4, max_tokens=40, concurrency=2)
        texts = [f"text number {i}" for i in range(30)] + ["y" * 400]
        v = e.encode(texts)
        np.testing.assert_allclose(v, expected(texts, dim=8), atol=1e-6)
        sizes = [len(r["input"]) for r in fake.requests[1:]]
        assert max(sizes) <= 4 and sum(sizes) == len(texts)
        for r in fake.requests[1:]:  # a long text goes alone, others stay under the token budget
            assert len(r["input"]) == 1 or sum(estimate_tokens(t) for t in r["input"]) <= 40
        assert fake.max_in_flight == 2


def test_input_type_and_dimensions_are_sent_as_asked(fake, tmp_path):
    e = enc(fake, tmp_path, input_type="asymmetric", dimensions=12)
    q = e.encode(TEXTS[:2], role="query")
    d = e.encode(TEXTS[:2], role="document")
    np.testing.assert_allclose(q, expected(TEXTS[:2], "query", 12), atol=1e-6)
    np.testing.assert_allclose(d, expected(TEXTS[:2], "document", 12), atol=1e-6)
    assert all(r["dimensions"] == 12 for r in fake.requests)
    assert e.identity.cache_key("query") != e.identity.cache_key("document")
    plain = enc(fake, tmp_path / "other")
    plain.encode(TEXTS[:1])
    assert "input_type" not in fake.requests[-1] and "dimensions" not in fake.requests[-1]


def test_identity_holds_endpoint_model_dimensions_fingerprint_never_the_key(fake, tmp_path, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    e = enc(fake, tmp_path, dimensions=12)
    v = e.identity.version
    assert fake.url in v and "model=fake-model" in v and "dimensions=12" in v and f"fingerprint={e.fingerprint}" in v
    assert fake.headers[0]["Authorization"] == f"Bearer {KEY}"  # the key was really sent...
    cache = EmbeddingCache(tmp_path / "cache")
    cache.embed(e, TEXTS, role="query")
    for f in (tmp_path).rglob("*"):  # ...and is written nowhere
        if f.is_file():
            assert KEY.encode() not in f.read_bytes(), f
    assert KEY not in repr(e.identity.describe())


def test_other_model_behind_the_name_gets_another_cache_key(fake, tmp_path):
    a = enc(fake, tmp_path)
    b = OpenAIEncoder("fake-model-v2", ApiSettings(base_url=fake.url), fingerprint_dir=tmp_path / "fp", name="x")
    assert a.fingerprint != b.fingerprint
    again = OpenAIEncoder("fake-model", ApiSettings(base_url=fake.url), fingerprint_dir=tmp_path / "fp2")
    assert again.fingerprint == a.fingerprint  # same vectors -> same fingerprint, wherever it is stored


def test_401_echoing_the_key_is_one_redacted_sentence(tmp_path, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    with FakeEmbeddings(echo_auth_401=True).running() as fake:
        e = enc(fake, tmp_path)  # built without sending anything: the probe goes with the first use
        assert not fake.requests
        with pytest.raises(ApiRequestError) as info:
            _ = e.identity
    msg = str(info.value)
    assert "HTTP 401" in msg and "OPENAI_API_KEY" in msg and "\n" not in msg
    assert KEY not in msg and KEY[-8:] not in msg
    assert len(fake.requests) == 1  # a 401 is not retried


def test_unreachable_endpoint_is_one_sentence_within_the_deadline(tmp_path):
    import socket

    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()  # nothing listens there now
    with pytest.raises(ApiRequestError, match=r"failed the fingerprint probe after 3 tries: connection failed"):
        _ = OpenAIEncoder(
            "m", ApiSettings(base_url=f"http://127.0.0.1:{port}/v1", retries=2, backoff=0.01), fingerprint_dir=tmp_path
        ).identity


def test_bad_settings_and_urls_are_refused():
    with pytest.raises(ValueError, match="input_type"):
        ApiSettings(input_type="both")
    with pytest.raises(ValueError, match="max_inputs"):
        ApiSettings(max_inputs=0)
    with pytest.raises(ApiRequestError, match="credentials"):
        Endpoint(f"https://user:{KEY}@api.example.com/v1")
    try:
        Endpoint(f"https://user:{KEY}@api.example.com/v1")
    except ApiRequestError as exc:
        assert KEY not in str(exc)
    with pytest.raises(ValueError, match="needs a model name"):
        load_encoder("openai:")


def test_parse_embeddings_rejects_wrong_count_dimension_and_values():
    ok = {"data": [{"index": 0, "embedding": [1.0, 0.0]}], "usage": {"total_tokens": 5}}
    vecs, tokens = parse_embeddings(ok, 1, 2, "here")
    assert vecs.shape == (1, 2) and tokens == 5
    with pytest.raises(ApiResponseError, match="2 embeddings came back for 1 texts"):
        parse_embeddings({"data": ok["data"] * 2}, 1, 2, "here")
    with pytest.raises(ApiResponseError, match="2 dimensions where 3 were expected"):
        parse_embeddings(ok, 1, 3, "here")
    with pytest.raises(ApiResponseError, match="NaN"):
        parse_embeddings({"data": [{"index": 0, "embedding": [float("nan"), 1.0]}]}, 1, 2, "here")
    with pytest.raises(ApiResponseError, match="repeated index"):
        parse_embeddings({"data": [{"index": 0, "embedding": [1.0]}, {"index": 0, "embedding": [1.0]}]}, 2, 1, "h")


def test_retry_after_and_redaction_helpers():
    assert _retry_after("3") == 3.0 and _retry_after(None) is None and _retry_after("soon") is None
    later = email.utils.formatdate(time.time() + 30, usegmt=True)
    assert 20 < _retry_after(later) <= 31
    assert redact(f"key {KEY} and masked sk-...{KEY[-8:]}", KEY) == "key *** and masked sk-...***"


def test_cost_estimate_prices_and_budget(monkeypatch):
    assert estimate_tokens("abcd") == 3 and estimate_tokens("Η") == 3
    est = estimate_cost("openai:text-embedding-3-small", "text-embedding-3-small", ["a" * 400] * 10)
    assert est.tokens == 1020 and est.usd == pytest.approx(1020 * 0.02 / 1e6)
    assert "OpenAI list price" in est.sentence()
    monkeypatch.setenv("XLR_API_PRICES", "my-model=2.5")
    mine = estimate_cost("openai:my-model", "my-model", ["abcd"])
    assert mine.usd_per_million == 2.5 and "user price" in mine.sentence()
    unknown = estimate_cost("openai:nope", "nope", ["abcd"])
    assert unknown.usd is None and "cost unknown" in unknown.sentence()
    assert estimate_cost("openai:nope", "nope", ["abcd"], local=True).usd == 0.0
    with pytest.raises(BudgetError, match=r"cost \$0.000020 is over the limit of \$1e-05 .*; nothing was sent"):
        est.check(0.00001)
    with pytest.raises(BudgetError, match="cannot be estimated"):
        unknown.check(1.0)
    est.check(None)
    with pytest.raises(PriceError, match="entry 2"):
        parse_prices("a=1,b=cheap")


def test_catalogue_lists_the_compared_models_with_facts():
    wanted = [
        "sentence-transformers/LaBSE",
        "sentence-transformers/distiluse-base-multilingual-cased-v2",
        "sentence-transformers/paraphrase-multilingual-MiniLM-L12-v2",
        "sentence-transformers/paraphrase-multilingual-mpnet-base-v2",
        "intfloat/multilingual-e5-small",
        "intfloat/multilingual-e5-base",
        "intfloat/multilingual-e5-large",
        "intfloat/multilingual-e5-large-instruct",
        "BAAI/bge-m3",
        "Alibaba-NLP/gte-multilingual-base",
    ]
    for m in wanted:
        c = card(m)
        assert c is not None, m
        assert c.dim > 0 and c.max_tokens > 0 and c.licence and c.size, m
    assert card("use-m3").needs == "bundled" and card("labse").needs == "downloads on first use"
    assert card("st:intfloat/multilingual-e5-base").prefix_mode == "query"
    assert unsupported("use-m3", ["el", "en"]) == ("el",)
    assert unsupported("st:sentence-transformers/paraphrase-multilingual-mpnet-base-v2", ["el", "sw"]) == ("sw",)
    text = "\n".join(catalogue_lines())
    for m in wanted:
        assert m in text
    assert "openai:<model>  [API key]" in text and "use-m3  [bundled]" in text
    for c in CATALOGUE.values():  # published figures only with a cited source
        assert not c.published or c.source


def test_probe_text_is_multilingual():
    assert any(ord(ch) > 0x4E00 for ch in PROBE_TEXT) and "Η" in PROBE_TEXT


def test_summary_line_for_a_picker():
    from xlr.encoders.catalogue import summary

    assert summary("use-m3").startswith("use-m3: 512-d, 128 tokens max, Apache-2.0") and " el " not in summary("use-m3")
    assert summary("openai:whatever") == ""


def test_cli_models_prints_the_catalogue_in_process(capsys):
    from xlr.cli.main import main

    assert main(["models"]) == 0
    out = capsys.readouterr().out
    assert "use-m3  [bundled]" in out and "openai:<model>  [API key]" in out and "BAAI/bge-m3" in out


def test_texts_to_encode_counts_each_namespace_once(fake, tmp_path):
    from pathlib import Path

    from xlr.data.corpus import load_corpus
    from xlr.retrieval.directions import all_directions
    from xlr.retrieval.encode_plan import texts_to_encode
    from xlr.retrieval.evaluate import EvalSpec

    corpus = load_corpus(Path(__file__).parents[1] / "fixtures" / "tiny.jsonl")
    spec = EvalSpec(all_directions(corpus))
    sym = texts_to_encode(corpus, spec, enc(fake, tmp_path))
    asym = texts_to_encode(corpus, spec, enc(fake, tmp_path / "a", input_type="asymmetric"))
    linked = {d.text for d in corpus.documents if d.id != "Q3"}  # Q3 has no counterpart: never encoded
    assert len(sym) == len(set(sym)) and set(sym) == linked
    assert len(asym) == 2 * len(sym)  # every document is a query and a pool document, in two namespaces


def test_total_timeout_bounds_a_whole_encoding_pass(tmp_path):
    with FakeEmbeddings(dim=8, delay_s=0.2).running() as fake:
        e = enc(fake, tmp_path, max_inputs=1, concurrency=1, total_timeout=0.5)
        with pytest.raises(ApiRequestError, match="time limit") as info:
            e.encode([f"t{i}" for i in range(20)])
        assert len(fake.requests) < 1 + 20  # it stopped long before sending every text
        assert "\n" not in str(info.value)


def test_instruct_prefix_on_both_sides_and_in_the_cache_key():
    """multilingual-e5-large-instruct: the bitext instruction before queries and documents alike."""
    from dataclasses import replace

    from xlr.encoders.base import INSTRUCT_PREFIX, BatchEncoder, EncoderIdentity

    class Echo(BatchEncoder):
        def __init__(self) -> None:
            self.identity = EncoderIdentity("echo", "test", "1", "instruct", False, 1)
            self.seen: list[str] = []

        def _encode_batch(self, texts, role):
            self.seen += texts
            return np.ones((len(texts), 1), dtype=np.float32)

    enc = Echo()
    enc.encode(["a"], role="query")
    enc.encode(["b"], role="document")
    assert enc.seen == [INSTRUCT_PREFIX + "a", INSTRUCT_PREFIX + "b"]
    assert INSTRUCT_PREFIX == "Instruct: Retrieve parallel sentences.\nQuery: "
    key = enc.identity.cache_key("query")
    assert key == enc.identity.cache_key("document") != replace(enc.identity, prefix_mode="none").cache_key("query")
    assert card("st:intfloat/multilingual-e5-large-instruct").prefix_mode == "instruct"


def test_fingerprint_file_is_read_and_written_under_a_lock(tmp_path, monkeypatch):
    """Bug: two processes probing at once both read an empty store and wrote their own
    fingerprint: the same model got two cache keys (and was paid for twice).  Under the lock
    the second reads what the first wrote and takes its fingerprint."""
    import threading

    from xlr.encoders import api

    real_write = api.atomic_write_text

    def slow_write(path, text):  # widen the read-modify-write window
        time.sleep(0.3)
        real_write(path, text)

    monkeypatch.setattr(api, "atomic_write_text", slow_write)
    rng = np.random.default_rng(0)
    base = rng.standard_normal(16)
    vecs = [base, base + 1e-3 * rng.standard_normal(16)]  # the same model: cosine > SAME_MODEL_COSINE
    got: list[str] = [""] * 2

    def probe(i):
        got[i] = api._fingerprint(vecs[i], tmp_path / "fp", "scope")

    threads = [threading.Thread(target=probe, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert got[0] == got[1]
