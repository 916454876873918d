"""The MTEB results reader on excerpts of embeddings-benchmark/results in its own layout."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from xlr.data.records import CorpusError
from xlr.report.mteb_results import published_for, published_table, read_mteb_results

RESULTS = Path(__file__).resolve().parents[1] / "fixtures" / "mteb_results" / "results"
E5 = "intfloat/multilingual-e5-small"


def test_reads_the_repository_layout_with_versions_and_revisions():
    figs = read_mteb_results(RESULTS)
    models = {f.model for f in figs}
    assert models == {E5, "sentence-transformers/LaBSE"}  # model_meta.json, else the folder name
    f1 = published_for(figs, E5, "cmn", "eng", "f1")
    assert f1 is not None and f1.value == 0.901667
    assert (f1.task, f1.dataset_revision, f1.mteb_version) == (
        "Tatoeba",
        "69e8f12da6e31d59addadda9a9c8a2e601a0e282",
        "1.36.32",
    )
    assert f1.model_revision == "fd1525a9fd15316a2d503bf26ab031a61d056e98" and f1.subset == "cmn-eng"
    slk = published_for(figs, E5, "slk", "eng", "accuracy")
    assert slk is not None and slk.mteb_version == "1.39.7"  # a score's own version wins over the file's range
    labse = published_for(figs, "sentence-transformers/LaBSE", "ar", "en", "precision")
    assert labse is not None and labse.value == 0.877 and labse.mteb_version == "1.12.75"


def test_pair_and_direction_conventions():
    figs = read_mteb_results(RESULTS)
    # cmn-eng: Mandarin is MTEB's sentence1 (the queries): it serves zh->en written any way, never en->zh
    for source, target in (("zh", "en"), ("cmn", "eng"), ("zho_Hans", "eng_Latn"), ("zho-CN", "en")):
        assert published_for(figs, E5, source, target, "accuracy").value == 0.924
    assert published_for(figs, E5, "en", "zh", "accuracy") is None
    assert published_for(figs, E5, "sw", "en", "f1").subset == "swh-eng"
    assert published_for(figs, E5, "zh-Hant", "en", "f1") is None  # Traditional Chinese is not cmn-Hans
    assert published_for(figs, E5, "ar", "en") is None  # not in this excerpt for e5


def test_published_table_beside_a_run():
    t = published_table(
        read_mteb_results(RESULTS),
        {"e5-small": E5, "labse": "sentence-transformers/LaBSE"},
        [("zh", "en"), ("sw", "en"), ("fr", "en")],
    )
    rows = {(r["model"], r["direction"]): r for r in t.to_dict("records")}
    assert set(rows) == {("e5-small", "zh->en"), ("e5-small", "sw->en"), ("e5-small", "fr->en"), ("labse", "sw->en")}
    r = rows[("e5-small", "sw->en")]
    assert (r["mteb_accuracy"], r["mteb_f1"], r["mteb_precision"], r["mteb_recall"]) == (
        0.758974,
        0.702833,
        0.678419,
        0.758974,
    )
    assert r["mteb_version"] == "1.36.32" and r["pair"] == "swh-eng"


def test_older_layout_and_task_filter(tmp_path):
    folder = tmp_path / "results" / "org__model" / "rev1"
    folder.mkdir(parents=True)
    old = {
        "mteb_dataset_name": "Tatoeba",
        "dataset_revision": "r0",
        "mteb_version": "1.0.3",
        "test": {"deu-eng": {"accuracy": 0.5, "f1": 0.4}, "evaluation_time": 3.2},
    }
    (folder / "Tatoeba.json").write_text(json.dumps(old))
    (folder / "Other.json").write_text(
        json.dumps({"task_name": "Other", "scores": {"test": [{"hf_subset": "deu-eng", "accuracy": 0.1}]}})
    )
    figs = read_mteb_results(tmp_path, task="Tatoeba")
    assert {(f.model, f.model_revision, f.subset, f.metric, f.value) for f in figs} == {
        ("org/model", "rev1", "deu-eng", "accuracy", 0.5),
        ("org/model", "rev1", "deu-eng", "f1", 0.4),
    }
    (folder / "Broken.json").write_text("{not json")
    with pytest.raises(CorpusError, match="Broken.json.*not an MTEB results file"):
        read_mteb_results(tmp_path)
