"""The price of a speed-up per language: settings, the per-direction test, marginals, the sentence."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from strategy_fakes import synthetic_corpus

from xlr.encoders.cache import EmbeddingCache
from xlr.report.matrix import difference_matrix
from xlr.report.price import Setting, SettingError, marginal_deltas, price_of_speed, speed_table
from xlr.retrieval.directions import parse_directions
from xlr.retrieval.evaluate import EvalSpec


@pytest.mark.parametrize(
    "text, want",
    [
        ("torch/fp32", Setting()),
        ("onnx/int8", Setting("onnx", "int8")),
        ("TORCH/fp32/ubinary", Setting(vectors="ubinary")),
        ("openvino/fp32/int8/rescore40", Setting("openvino", "fp32", "int8", 40)),
    ],
)
def test_settings_parse(text, want):
    assert Setting.parse(text) == want


@pytest.mark.parametrize(
    "text, match",
    [
        ("onnx", "expected backend/precision"),
        ("torch/int8", "runs fp32/fp16/bf16 weights"),
        ("onnx/fp16", "runs fp32/int8 weights"),
        ("tensorrt/fp32", "unknown backend"),
        ("torch/fp32/float16", "unknown vector precision"),
        ("torch/fp32/int8/forty", "rescoreN"),
        ("torch/fp32/float32/rescore4", "rescoring applies"),
    ],
)
def test_bad_settings_are_one_sentence(text, match):
    with pytest.raises(SettingError if "vector" not in match and "rescoring" not in match else ValueError, match=match):
        Setting.parse(text)


def test_price_of_binary_vectors_per_direction_and_language():
    corpus, (enc, _) = synthetic_corpus(80, langs=("de", "en", "zh"), rotate=(), noise=0.6, encoders=2)
    spec = EvalSpec(directions=tuple(parse_directions("de-en,zh-en,en-de")))
    made = []

    def make(setting):
        made.append(setting)
        return enc

    report = price_of_speed(
        corpus, make, spec, Setting(), Setting(vectors="ubinary"), EmbeddingCache(None), n_resamples=200,
        timing_texts=20,
    )  # fmt: skip
    assert made == [Setting(), Setting(vectors="ubinary")]
    assert (report.baseline, report.candidate) == ("fake0", "fake0+ubinary")
    want = difference_matrix(
        list(report.results), "fake0", "fake0+ubinary", "recall@1", n_resamples=200, random_state=0
    )
    assert report.directions.equals(want)
    d = report.directions
    assert list(zip(d["source"], d["target"])) == [("de", "en"), ("zh", "en"), ("en", "de")]
    m = report.marginals.set_index(["language", "role"])
    en_doc = d[d["target"] == "en"]["delta"]
    assert m.loc[("en", "document"), "mean_delta"] == pytest.approx(en_doc.mean())
    assert m.loc[("en", "document"), "n_directions"] == 2
    assert m.loc[("en", "query"), "worst"] == "en->de"
    assert report.speed[0].bytes_per_vector == 64 and report.speed[1].bytes_per_vector == 2
    assert report.speed[0].texts == 0 and np.isnan(report.speed_ratio)  # one engine: nothing to time
    s = report.sentence()
    assert s.startswith("fake0+ubinary costs ") or s.startswith("fake0+ubinary gains ")
    assert "over 3 directions" in s and s.endswith("significantly worse after Holm")
    assert list(speed_table(report)["setting"]) == ["torch fp32", "torch fp32 ubinary"]


def test_marginal_deltas_name_the_worst_direction():
    table = pd.DataFrame(
        {
            "source": ["am", "am", "sw"],
            "target": ["en", "fr", "en"],
            "delta": [-0.04, 0.01, -0.002],
            "effect": ["degraded", "no significant change", "no significant change"],
        }
    )
    m = marginal_deltas(table).set_index(["language", "role"])
    assert m.loc[("am", "query"), "mean_delta"] == pytest.approx(-0.015)
    assert m.loc[("am", "query"), ["worst", "worst_effect"]].tolist() == ["am->en", "degraded"]
    assert m.loc[("en", "document"), "worst_delta"] == pytest.approx(-0.04)


def test_the_same_setting_twice_is_refused():
    corpus, (enc,) = synthetic_corpus(10, encoders=1)
    spec = EvalSpec(directions=tuple(parse_directions("de-en")))
    with pytest.raises(SettingError, match="the same"):
        price_of_speed(corpus, lambda s: enc, spec, Setting(), Setting(), EmbeddingCache(None))


def test_the_sentence_names_the_mean_and_the_largest_loss():
    from xlr.report.price import PriceReport, SpeedFacts

    d = pd.DataFrame(
        {
            "source": ["am", "de", "sw"],
            "target": ["en", "en", "en"],
            "delta": [-0.04, 0.01, 0.021],
            "effect": ["degraded", "no significant change", "no significant change"],
        }
    )
    speed = (SpeedFacts("torch fp32", 100, 2.0, 1536, None), SpeedFacts("onnx int8", 100, 0.5, 1536, None))
    rep = PriceReport("m", "m[onnx int8]", "recall@1", d, marginal_deltas(d), speed, ())
    assert rep.sentence() == (
        "m[onnx int8] costs 0.3 points of recall@1 on average over 3 directions, but 4.0 in am->en (significant); "
        "1 direction significantly worse after Holm; 4.00x the speed of m"
    )


def test_weights_of_an_exported_backend_are_its_export_or_unknown(tmp_path):
    """The dashboard's encoder object never loads (a child process encodes): its export is found by path."""
    from types import SimpleNamespace

    from xlr.report.price import _weights_bytes

    folder = tmp_path / "model"
    folder.mkdir()
    (folder / "model.safetensors").write_bytes(b"w" * 90)
    enc = SimpleNamespace(export_dir=None, export_target=tmp_path / "export", _folder=folder)
    assert _weights_bytes(enc) is None  # not exported yet: unknown, never the torch weights
    enc.export_target.mkdir()
    (enc.export_target / "model.onnx").write_bytes(b"q" * 40)
    assert _weights_bytes(enc) == 40
    assert _weights_bytes(SimpleNamespace(export_dir=None, export_target=None, _folder=folder)) == 90  # torch


def test_a_mean_gain_with_a_loss_somewhere_calls_the_loss_a_loss():
    """The sentence "gains 2.0 points on average, but 3.3 in ar->en" read as a gain of 3.3 in ar->en (it was a loss)."""
    from xlr.report.price import PriceReport, SpeedFacts

    d = pd.DataFrame(
        {
            "source": ["ar", "de", "fr"],
            "target": ["en", "en", "en"],
            "delta": [-0.033, 0.033, 0.1],
            "effect": ["no significant change"] * 3,
        }
    )
    speed = (SpeedFacts("torch fp32", 0, 0.0, 1536, None), SpeedFacts("torch fp32 ubinary", 0, 0.0, 48, None))
    rep = PriceReport("m", "m+ubinary", "recall@1", d, marginal_deltas(d), speed, ())
    assert rep.sentence() == (
        "m+ubinary gains 3.3 points of recall@1 on average over 3 directions, but loses 3.3 in ar->en "
        "(not significant); 0 directions significantly worse after Holm"
    )


def test_two_settings_of_one_engine_are_not_timed_against_each_other():
    """Only the vectors differ: both settings encode with the same engine, so a timed "speed ratio" is noise
    (xlr price printed "1.24x the speed of minilm-en+int8" for torch/fp32/int8 vs torch/fp32/ubinary). The
    dashboard says so and times nothing; the CLI's report must not claim a speed-up either."""
    corpus, (enc,) = synthetic_corpus(30, langs=("de", "en"), encoders=1)
    spec = EvalSpec(directions=tuple(parse_directions("de-en")))
    report = price_of_speed(
        corpus, lambda s: enc, spec, Setting(vectors="int8"), Setting(vectors="ubinary"), EmbeddingCache(None),
        n_resamples=100, timing_texts=10,
    )  # fmt: skip
    assert [s.texts for s in report.speed] == [0, 0] and "the speed of" not in report.sentence()
    assert speed_table(report)["speed ratio"].isna().all()
