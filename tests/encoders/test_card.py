"""One encoder card per encoder: loader, pinned revision, languages as the card writes them, ST prompts,
dtype at load, out-of-memory by type."""

from __future__ import annotations

import dataclasses
import re

import numpy as np
import pytest

from xlr.encoders.base import BatchEncoder, BatchTooLarge, EncoderIdentity, EncoderUnavailable
from xlr.encoders.catalogue import CATALOGUE, EncoderCard, card, short_names, st_card, unsupported
from xlr.encoders.registry import load_encoder


def test_one_frozen_record_per_encoder_with_loader_and_card_facts():
    assert dataclasses.is_dataclass(EncoderCard)
    c = CATALOGUE["labse"]
    with pytest.raises(dataclasses.FrozenInstanceError):
        c.name = "x"  # type: ignore[misc]
    # registry facts and catalogue facts on the same record
    assert c.loader is not None and c.model == "sentence-transformers/LaBSE" and c.dim == 768 and c.published
    for name in short_names():
        assert CATALOGUE[name].runnable and CATALOGUE[name].description, name
    assert card("sentence-transformers/LaBSE") is c and card("st:sentence-transformers/LaBSE") is c


def test_hub_models_run_by_short_name_are_pinned_to_a_commit():
    for name in ("labse", "distiluse-v2"):
        rev = CATALOGUE[name].revision
        assert rev is not None and re.fullmatch(r"[0-9a-f]{40}", rev), name


def test_languages_stay_as_the_card_writes_them_and_match_by_primary_subtag():
    use = CATALOGUE["use-m3"]
    assert "zh-cn" in use.languages and "zh-tw" in use.languages  # type: ignore[operator]
    assert unsupported("use-m3", ["zh", "el", "en"]) == ("el",)
    assert "pt-br" in CATALOGUE["distiluse-v2"].languages  # type: ignore[operator]


def test_a_card_extends_without_touching_the_records():
    extra = dataclasses.replace(CATALOGUE["labse"], notes="more")
    assert extra.revision == CATALOGUE["labse"].revision and extra.notes == "more"


def test_load_encoder_builds_from_the_card(monkeypatch):
    seen = []

    class Enc(BatchEncoder):
        identity = EncoderIdentity("mine", "test", "1", "none", True, 2)

    def loader(c: EncoderCard) -> Enc:
        seen.append(c.revision)
        return Enc()

    monkeypatch.setitem(CATALOGUE, "mine", EncoderCard("mine", "org/mine", loader, revision="abc"))
    assert isinstance(load_encoder("mine"), Enc) and seen == ["abc"]
    with pytest.raises(EncoderUnavailable, match="cannot be run by xlr"):
        CATALOGUE["laser2"].load()
    with pytest.raises(EncoderUnavailable, match="unknown encoder 'laser2'"):
        load_encoder("laser2")


def test_st_names_take_the_catalogued_card():
    assert st_card("st:sentence-transformers/LaBSE").revision == CATALOGUE["labse"].revision
    assert st_card("st:intfloat/multilingual-e5-small").prefix_mode == "query"
    bare = st_card("st:/models/mine")
    assert bare.model == "/models/mine" and bare.revision is None and bare.prefix_mode == "none"


def test_prompts_go_through_sentence_transformers_by_name_when_shipped():
    from xlr.encoders.st_options import prompt_kwargs

    shipped = {"query": "query: ", "document": "passage: "}
    assert prompt_kwargs(shipped, "query: ") == {"prompt_name": "query"}
    assert prompt_kwargs(shipped, "passage: ") == {"prompt_name": "document"}
    assert prompt_kwargs({}, "query: ") == {"prompt": "query: "}
    assert prompt_kwargs(shipped, "") == {"prompt": ""}  # a model's default prompt never slips in


def test_precision_is_a_load_time_dtype():
    torch = pytest.importorskip("torch")
    from xlr.encoders.st_options import dtype_kwargs

    assert dtype_kwargs("fp32") == {}
    assert dtype_kwargs("fp16") == {"dtype": torch.float16}
    assert dtype_kwargs("bf16") == {"dtype": torch.bfloat16}


class _FakeST:
    """A SentenceTransformer stand-in: records how it is called; out of memory above ``fits`` texts."""

    prompts = {"query": "query: ", "document": "passage: "}
    fits = 1

    def __init__(self) -> None:
        self.calls: list[tuple[str, int, dict]] = []

    def _encode(self, role, texts, **kw):
        torch = pytest.importorskip("torch")
        if len(texts) > self.fits:
            raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2 GiB")
        self.calls.append((role, len(texts), kw))
        return np.ones((len(texts), 4), dtype=np.float32)

    def encode_query(self, texts, **kw):
        return self._encode("query", texts, **kw)

    def encode_document(self, texts, **kw):
        return self._encode("document", texts, **kw)


def test_out_of_memory_is_caught_by_type_and_halves_the_batch():
    from xlr.encoders.st_options import st_encode

    model = _FakeST()
    with pytest.raises(BatchTooLarge, match="CUDA out of memory"):
        st_encode(model, ["a", "b"], "query", "query: ")
    assert st_encode(model, ["a"], "document", "passage: ").shape == (1, 4)
    assert model.calls[-1][0] == "document" and model.calls[-1][2]["prompt_name"] == "document"

    class Other(_FakeST):
        def _encode(self, role, texts, **kw):
            raise RuntimeError("OutOfMemoryError in the name only")

    with pytest.raises(RuntimeError, match="in the name only"):  # not an OOM by type: not retried
        st_encode(Other(), ["a"], "query", "")


@pytest.mark.slow
def test_sentence_transformer_encoder_loads_in_dtype_and_prompts_by_role(monkeypatch, tmp_path):
    """The real SentenceTransformerEncoder around a stand-in model: dtype passed at load, never
    converted after; prompts by role; an out-of-memory batch halved."""
    torch = pytest.importorskip("torch")
    import sentence_transformers

    from xlr.encoders import st_encoder
    from xlr.encoders.device import Runtime

    made: list[dict] = []

    class Loaded(_FakeST):
        max_seq_length = 16

        def __init__(self, path, **kw):
            super().__init__()
            made.append(kw)

        def get_embedding_dimension(self):
            return 4

        def half(self):
            raise AssertionError("converted after loading")

        to = half

    (tmp_path / "config.json").write_text("{}")  # a model folder (the stand-in reads nothing from it)
    monkeypatch.setattr(sentence_transformers, "SentenceTransformer", Loaded)
    monkeypatch.setattr(st_encoder, "check_precision", lambda device, precision: None)
    monkeypatch.setattr(st_encoder, "resolve_device", lambda device: "cpu")
    enc = st_encoder.SentenceTransformerEncoder(
        str(tmp_path), name="fake", prefix_mode="asymmetric", runtime=Runtime("auto", "fp16")
    )
    out = enc.encode(["a", "b", "c"], role="query", batch_size=3)
    assert made[0]["model_kwargs"] == {"dtype": torch.float16}
    assert out.shape == (3, 4)
    assert {(role, kw["prompt_name"]) for role, _, kw in enc.model.calls} == {("query", "query")}
    enc.encode(["d"], role="document")
    assert enc.model.calls[-1][2] == {
        "batch_size": 1,
        "convert_to_numpy": True,
        "show_progress_bar": False,
        "prompt_name": "document",
    }
