"""Embedding precision: int8/ubinary codes and ranks against naive references on fixed vectors."""

from __future__ import annotations

import math

import numpy as np
import pytest

from xlr.retrieval.quantized import (
    VectorPrecisionError,
    VectorSpec,
    bytes_per_vector,
    calibrate,
    dequantize,
    hamming_gold_ranks,
    quantize,
    quantized_ranker,
)
from xlr.retrieval.ranks import gold_ranks


def _unit(n: int, d: int, seed: int) -> np.ndarray:
    x = np.random.default_rng(seed).standard_normal((n, d)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def _naive_int8(x: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> list[list[int]]:
    out = []
    for row in x.tolist():
        codes = []
        for v, a, b in zip(row, lo.tolist(), hi.tolist()):
            step = (b - a) / 255 or 1.0
            codes.append(min(255, max(0, math.floor((v - a) / step))) - 128)
        out.append(codes)
    return out


def _naive_rank(scores: list[float], gold: int) -> int:
    return sum(s >= scores[gold] for s in scores)  # pessimistic: ties with the gold count against it


def test_int8_codes_match_the_formula_elementwise() -> None:
    cal = _unit(50, 12, 0)
    x = _unit(7, 12, 1) * 1.5  # some values outside the calibration range: clipped
    c = calibrate(cal)
    got = quantize(x, "int8", c.ranges)
    ref = _naive_int8(x, cal.min(axis=0), cal.max(axis=0))
    assert got.dtype == np.int8
    # float32 rounding of step may move a value sitting on a bucket edge by one code
    assert np.abs(got.astype(int) - np.array(ref)).max() <= 1
    assert (got == np.array(ref)).mean() > 0.97


def test_ubinary_packs_positive_signs() -> None:
    x = np.array([[0.5, -0.1, 0.0, 2.0, -3.0, 1.0, 1.0, -1.0, 0.2, -0.2]], dtype=np.float32)
    got = quantize(x, "ubinary")
    assert got.dtype == np.uint8 and got.shape == (1, 2)
    assert got.tolist() == [[0b10010110, 0b10000000]]
    assert bytes_per_vector("ubinary", 10) == 2 and bytes_per_vector("int8", 10) == 10
    assert bytes_per_vector("float32", 10) == 40
    assert dequantize(got, "ubinary", 10).tolist() == [[1, 0, 0, 1, 0, 1, 1, 0, 1, 0]]


def test_int8_ranks_equal_a_naive_reference() -> None:
    q, p = _unit(20, 16, 2), _unit(30, 16, 3)
    p[5] = p[4]  # an exact tie in the pool
    gold = np.arange(20) % 30
    gold[0] = 5
    cal = calibrate(p)
    ranks = quantized_ranker(VectorSpec("int8"), cal)(q, p, gold)
    qc, pc = quantize(q, "int8", cal.ranges).tolist(), quantize(p, "int8", cal.ranges).tolist()
    for i in range(20):
        scores = [float(sum(a * b for a, b in zip(qc[i], row))) for row in pc]
        assert ranks[i] == _naive_rank(scores, int(gold[i]))
    assert ranks[0] >= 2  # the gold ties with document 4: counted against it


def test_ubinary_ranks_equal_a_naive_hamming_reference() -> None:
    q, p = _unit(25, 13, 4), _unit(40, 13, 5)  # 13 bits: packbits pads the last byte
    gold = np.arange(25)
    ranks = quantized_ranker(VectorSpec("ubinary"), None)(q, p, gold)
    qb, pb = (q > 0).tolist(), (p > 0).tolist()
    for i in range(25):
        neg_hamming = [-float(sum(a != b for a, b in zip(qb[i], row))) for row in pb]
        assert ranks[i] == _naive_rank(neg_hamming, i)
    # the popcount kernel gives the same ranks
    assert hamming_gold_ranks(quantize(q, "ubinary"), quantize(p, "ubinary"), gold).tolist() == ranks.tolist()


def test_degenerate_binary_vectors_rank_last() -> None:
    q = np.ones((3, 8), dtype=np.float32) / np.sqrt(8)
    ranks = quantized_ranker(VectorSpec("ubinary"), None)(q, q.copy(), np.arange(3))
    assert ranks.tolist() == [3, 3, 3]


def test_rescoring_equals_a_naive_two_stage_search() -> None:
    q, p = _unit(30, 16, 6), _unit(60, 16, 7)
    gold = np.arange(30)
    cal = calibrate(p)
    for precision in ("int8", "ubinary"):
        r = 5
        ranks = quantized_ranker(VectorSpec(precision, rescore=r), cal)(q, p, gold)
        coarse = quantized_ranker(VectorSpec(precision), cal)(q, p, gold)
        qs = quantize(q, precision, cal.ranges).astype(np.float64)
        pc = quantize(p, precision, cal.ranges)
        if precision == "ubinary":
            qs = np.unpackbits(qs.astype(np.uint8), axis=1)[:, :16] * 2.0 - 1
            stored = np.unpackbits(pc, axis=1)[:, :16].astype(np.float64)
            ps = stored * 2 - 1
        else:
            ps = pc.astype(np.float64)
            stored = dequantize(pc, "int8", 16, cal.ranges).astype(np.float64)
        for i in range(30):
            s = (qs[i] * ps).sum(axis=1)
            cand = sorted(range(60), key=lambda j: (-s[j], j))[:r]
            if i in cand:
                fine = [float(q[i].astype(np.float64) @ stored[j]) for j in cand]
                assert ranks[i] == _naive_rank(fine, cand.index(i))
            else:
                assert ranks[i] == max(coarse[i], r + 1)


def test_float32_is_the_plain_kernel_and_specs_are_checked() -> None:
    q = _unit(5, 8, 8)
    assert quantized_ranker(VectorSpec(), None) is gold_ranks
    for bad in (("float16", 0), ("int8", -1), ("float32", 10)):
        with pytest.raises(VectorPrecisionError):
            VectorSpec(*bad)
    with pytest.raises(VectorPrecisionError, match="calibration"):
        quantized_ranker(VectorSpec("int8"), None)
    with pytest.raises(VectorPrecisionError, match="at least 2"):
        calibrate(q[:1])


def test_the_key_differs_per_setting_and_calibration() -> None:
    a, b = calibrate(_unit(10, 8, 10)), calibrate(_unit(10, 8, 11))
    keys = {
        a.key("ns", VectorSpec("int8")),
        a.key("ns", VectorSpec("ubinary")),
        a.key("ns", VectorSpec("int8", rescore=20)),
        b.key("ns", VectorSpec("int8")),
        a.key("other", VectorSpec("int8")),
    }
    assert len(keys) == 5
    assert a.key("ns", VectorSpec("int8")) == calibrate(_unit(10, 8, 10)).key("ns", VectorSpec("int8"))
    assert {VectorSpec().label, VectorSpec("int8").label, VectorSpec("ubinary", 8).label} == {
        "",
        "int8",
        "ubinary-rescore8",
    }


@pytest.mark.slow
def test_codes_equal_sentence_transformers_quantize_embeddings() -> None:
    from sentence_transformers.quantization import quantize_embeddings

    cal, x = _unit(200, 32, 12), _unit(50, 32, 13) * 1.2
    ref = quantize_embeddings(x, "int8", calibration_embeddings=cal)
    assert np.array_equal(quantize(x, "int8", calibrate(cal).ranges), ref)
    assert np.array_equal(quantize(x, "ubinary"), quantize_embeddings(x, "ubinary"))


def _anisotropic(n: int, d: int, seed: int) -> np.ndarray:
    """Unit vectors sharing a large common component, as multilingual-e5's do."""
    x = _unit(n, d, seed) * 0.3 + 1.0
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def test_cbinary_ranks_equal_a_naive_centred_hamming_reference() -> None:
    q, p = _anisotropic(25, 13, 20), _anisotropic(40, 13, 21)
    gold = np.arange(25)
    cal = calibrate(p)
    mu = p.astype(np.float64).mean(axis=0)
    assert np.allclose(cal.center, mu, atol=1e-6)
    ranks = quantized_ranker(VectorSpec("cbinary"), cal)(q, p, gold)
    qb, pb = (q - mu > 0).tolist(), (p - mu > 0).tolist()
    for i in range(25):
        neg_hamming = [-float(sum(a != b for a, b in zip(qb[i], row))) for row in pb]
        assert ranks[i] == _naive_rank(neg_hamming, i)
    qc, pc = quantize(q, "cbinary", center=cal.center), quantize(p, "cbinary", center=cal.center)
    assert pc.shape == (40, 2) and bytes_per_vector("cbinary", 13) == 2
    assert hamming_gold_ranks(qc, pc, gold).tolist() == ranks.tolist()
    # on these vectors plain ubinary is all ones: every document ties, every gold ranks last
    assert quantized_ranker(VectorSpec("ubinary"), None)(q, p, gold).tolist() == [40] * 25


def test_cbinary_rescoring_scores_the_centred_query_against_the_sign_code() -> None:
    q, p = _anisotropic(30, 16, 22), _anisotropic(60, 16, 23)
    gold, r = np.arange(30), 5
    cal = calibrate(p)
    ranks = quantized_ranker(VectorSpec("cbinary", rescore=r), cal)(q, p, gold)
    coarse = quantized_ranker(VectorSpec("cbinary"), cal)(q, p, gold)
    mu = cal.center.astype(np.float64)
    qs, ps = np.where(q - mu > 0, 1.0, -1.0), np.where(p - mu > 0, 1.0, -1.0)
    for i in range(30):
        s = (qs[i] * ps).sum(axis=1)
        cand = sorted(range(60), key=lambda j: (-s[j], j))[:r]
        if i in cand:
            fine = [float((q[i].astype(np.float64) - mu) @ ps[j]) for j in cand]
            assert ranks[i] == _naive_rank(fine, cand.index(i))
        else:
            assert ranks[i] == max(coarse[i], r + 1)
    with pytest.raises(VectorPrecisionError, match="calibration"):
        quantized_ranker(VectorSpec("cbinary"), None)
    with pytest.raises(VectorPrecisionError, match="mean"):
        quantize(q, "cbinary")
