"""The Ray engine against the local engine: real encoders, real data, a real local Ray (2 CPUs).

Slow tier except the tests that need no Ray running (``--engine ray`` without Ray installed).
"""

from __future__ import annotations

import os
import signal
import sys
from functools import partial
from pathlib import Path

import numpy as np
import pytest

from bench.procs import ray_pids
from xlr.cli.main import main
from xlr.data.registry import resolve_dataset
from xlr.encoders.cache import EmbeddingCache
from xlr.encoders.corpus_vectors import CorpusEmbeddings
from xlr.engines.ray_engine import (
    RaySpec,
    RayUnavailable,
    evaluate_ray,
    ray_gold_ranks,
    ray_rank,
    ray_session,
    require_ray,
)
from xlr.retrieval.directions import all_directions, default_directions
from xlr.retrieval.evaluate import EvalSpec, evaluate, results_table
from xlr.retrieval.ranks import gold_ranks, top_k
from xlr.retrieval.scoring import ScoringSpec

TILE = 8  # small score tiles, so that every direction's pool is split over several shards
SPEC = RaySpec(num_cpus=2, shards=3, tile=TILE, batch_size=8)


@pytest.fixture(scope="module")
def ray_local():
    with ray_session(RaySpec(num_cpus=2)) as ray:
        yield ray


def _local(corpus, encoder, cache_dir: Path, spec: EvalSpec):
    emb = CorpusEmbeddings(corpus, encoder, EmbeddingCache(cache_dir))
    return evaluate(corpus, emb, spec, ranker=partial(gold_ranks, tile=TILE))


def _assert_identical(got, want, ks):
    assert [r.direction for r in got] == [r.direction for r in want]
    for a, b in zip(got, want):
        assert a.query_ids == b.query_ids
        np.testing.assert_array_equal(a.ranks, b.ranks, err_msg=a.direction.label)
    assert results_table(got, ks).equals(results_table(want, ks))


@pytest.mark.slow
def test_xquad_42_directions_identical_to_local(ray_local, shared_data, tmp_path, use_m3):
    data = resolve_dataset(str(shared_data / "xquad-7lang.jsonl"))
    spec = EvalSpec(directions=all_directions(data.corpus), first=20)
    assert len(spec.directions) == 42
    seen = []
    got, _, stats = evaluate_ray(
        data.corpus, "use-m3", EmbeddingCache(tmp_path / "ray"), spec, SPEC, progress=lambda d, t: seen.append((d, t))
    )
    assert stats.encoded == 140 and seen[-1] == (140, 140)  # 20 ids x 7 languages, each encoded once, on actors
    _assert_identical(got, _local(data.corpus, use_m3, tmp_path / "local", spec), spec.ks)


@pytest.mark.slow
def test_tatoeba_identical_to_local(ray_local, shared_data, tmp_path, e5):
    data = resolve_dataset("tatoeba")
    spec = EvalSpec(directions=default_directions(data.corpus), first=12)
    got, _, stats = evaluate_ray(data.corpus, "e5-small", EmbeddingCache(tmp_path / "ray"), spec, SPEC)
    assert stats.encoded > 0
    _assert_identical(got, _local(data.corpus, e5, tmp_path / "local", spec), spec.ks)
    # a second run finds every text in the shared cache: nothing is encoded again
    again, _, stats2 = evaluate_ray(data.corpus, "e5-small", EmbeddingCache(tmp_path / "ray"), spec, SPEC)
    assert stats2.encoded == 0 and stats2.cached == stats.encoded
    _assert_identical(again, got, spec.ks)


@pytest.mark.slow
def test_killed_encoder_actor_mid_run_still_gives_identical_results(ray_local, shared_data, tmp_path, use_m3):
    data = resolve_dataset("tatoeba")
    spec = EvalSpec(directions=default_directions(data.corpus), first=40)
    killed: list[int] = []

    def progress(done: int, total: int) -> None:
        if not killed and done >= 16 and done < total // 2:
            pids = ray_pids(b"EncodeActor")  # our encoder actors' processes
            assert pids, "no encoder actor process found"
            os.kill(pids[0], signal.SIGKILL)
            killed.append(pids[0])

    spec_small = RaySpec(num_cpus=2, actors=2, shards=3, tile=TILE, batch_size=4)
    got, _, stats = evaluate_ray(
        data.corpus, "use-m3", EmbeddingCache(tmp_path / "ray"), spec, spec_small, progress=progress
    )
    assert killed, "the run ended before an actor could be killed"
    with pytest.raises(ProcessLookupError):
        os.kill(killed[0], 0)  # really gone
    assert stats.encoded + stats.cached >= stats.encoded > 0
    _assert_identical(got, _local(data.corpus, use_m3, tmp_path / "local", spec), spec.ks)


@pytest.mark.slow
def test_ray_gold_ranks_equal_local_with_exact_ties(ray_local):
    rng = np.random.default_rng(5)
    base = rng.integers(-1, 2, (5, 12)).astype(np.float32) + np.eye(5, 12, dtype=np.float32)
    base /= np.linalg.norm(base, axis=1, keepdims=True)
    pool = base[rng.integers(0, 5, 300)]
    queries = base[rng.integers(0, 5, 70)]
    gold = rng.integers(0, 300, 70)
    want = gold_ranks(queries, pool, gold, tile=16)
    got = ray_gold_ranks(queries, pool, gold, spec=RaySpec(shards=4, tile=16))
    np.testing.assert_array_equal(got, want)
    with pytest.raises(ValueError, match="cosine only"):
        ray_gold_ranks(queries, pool, gold, scoring=ScoringSpec("csls"), spec=RaySpec())


@pytest.mark.slow
def test_cli_engine_ray_writes_the_local_rows_and_ranks(ray_local, shared_data, tmp_path):
    import json

    outs = {}
    for engine in ("local", "ray"):
        out = tmp_path / f"{engine}.json"
        args = ["eval", "--dataset", "xquad", "--model", "use-m3", "--first", "15", "--all-directions"]
        args += ["--no-progress", "--cache-dir", str(tmp_path / engine), "--json", str(out), "--engine", engine]
        assert main(args) == 0
        outs[engine] = json.loads(out.read_text())
    assert outs["ray"]["rows"] == outs["local"]["rows"]
    assert outs["ray"]["per_query"] == outs["local"]["per_query"]


def test_without_ray_engine_ray_is_one_sentence(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "ray", None)  # hides an installed Ray: ``import ray`` fails
    with pytest.raises(RayUnavailable, match=r"not installed: pip install 'xlr\[ray\]'"):
        require_ray()
    fixture = Path(__file__).resolve().parents[1] / "fixtures" / "tiny.jsonl"
    code = main(["eval", "--dataset", str(fixture), "--model", "use-m3", "--engine", "ray", "--no-progress"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2
    assert err == [
        "xlr: error: --engine ray needs Ray, which is not installed: "
        "pip install 'xlr[ray]' (or pip install -r requirements-ray.txt)"
    ]


def test_ray_address_without_engine_ray_is_refused(capsys):
    fixture = Path(__file__).resolve().parents[1] / "fixtures" / "tiny.jsonl"
    assert main(["eval", "--dataset", str(fixture), "--model", "use-m3", "--ray-address", "auto"]) == 2
    assert "--ray-address needs --engine ray" in capsys.readouterr().err


def test_ray_spec_rejects_nonsense():
    with pytest.raises(ValueError, match="actors"):
        RaySpec(actors=0)
    with pytest.raises(ValueError, match="batch_size"):
        RaySpec(batch_size=0)


@pytest.mark.slow
def test_bench_ray_smoke_agrees_with_the_local_kernels(tmp_path, shared_data):
    from dataclasses import replace

    from bench import Config, failures, run

    cfg = replace(Config.smoke_config(), only=("ray",), cache_dir=tmp_path / "cache", work_dir=tmp_path)
    results = run(cfg, tmp_path / "out", log=lambda _msg: None)
    assert failures(results) == {}
    sec = results["benchmarks"]["ray"]
    assert all(sec["agreement"][k] is True for k in sec["agreement"] if "identical" in k)
    assert {f["unit"] for f in sec["figures"]} == {"s", "GiB"}


@pytest.mark.slow
def test_real_valued_scores_over_two_shards_are_bit_identical(ray_local):
    """Rounding matters here (unlike on a grid): tasks must score the local kernel's tiles with its BLAS threads."""
    rng = np.random.default_rng(0)
    pool = rng.standard_normal((40_000, 384)).astype(np.float32)
    pool /= np.linalg.norm(pool, axis=1, keepdims=True)
    queries = pool[:1500] + 0.9 * rng.standard_normal((1500, 384)).astype(np.float32)
    queries = (queries / np.linalg.norm(queries, axis=1, keepdims=True)).astype(np.float32)
    gold = np.arange(1500)
    ranks, idx, val = ray_rank(queries, pool, gold, k=10, spec=RaySpec(shards=2))
    np.testing.assert_array_equal(ranks, gold_ranks(queries, pool, gold))
    want_idx, want_val = top_k(queries, pool, 10)
    np.testing.assert_array_equal(idx, want_idx)
    np.testing.assert_array_equal(val, want_val)


@pytest.mark.slow
def test_api_settings_reach_the_actors_and_a_foreign_encoder_is_refused(ray_local, tmp_path):
    """The actors build the driver's encoder: an ``openai:`` encoder with the driver's endpoint and
    dimensions (the actors could not reach any other endpoint), and never one with other cache keys."""
    import dataclasses

    from tests.encoders.api_servers import FakeEmbeddings
    from xlr.data.records import Corpus, Document
    from xlr.encoders.api import ApiSettings
    from xlr.encoders.registry import load_encoder
    from xlr.engines.ray_engine import EncoderMismatch

    docs = [Document(f"i{i}", lang, "", f"{lang} sentence {i}") for i in range(12) for lang in ("de", "en")]
    corpus = Corpus("api", docs)
    spec = EvalSpec(directions=default_directions(corpus), first=12)
    with FakeEmbeddings(dim=24).running() as server:
        api = ApiSettings(base_url=server.url, dimensions=8, retries=0, timeout=10)
        got, enc, stats = evaluate_ray(
            corpus, "openai:fake-model", EmbeddingCache(tmp_path / "ray"), spec, SPEC, api=api
        )
        assert stats.encoded == 24 and enc.identity.dim == 8
        assert {r["dimensions"] for r in server.requests} == {8}  # every request came with the driver's settings
        local = load_encoder("openai:fake-model", api=api)
        _assert_identical(got, _local(corpus, local, tmp_path / "local", spec), spec.ks)
        # an encoder whose identity the actors cannot rebuild (another version): refused, nothing written
        foreign = load_encoder("openai:fake-model", api=api)
        foreign.identity = dataclasses.replace(foreign.identity, version="elsewhere")
        with pytest.raises(Exception, match="is not the driver's") as err:
            evaluate_ray(
                corpus, "openai:fake-model", EmbeddingCache(tmp_path / "r2"), spec, SPEC, api=api, encoder=foreign
            )
        assert isinstance(err.value, EncoderMismatch) or "EncoderMismatch" in repr(err.value)
