"""The named data sets: their files (pinned sizes and hashes), upstream addresses and default languages.

Loading and downloading live in :mod:`xlr.data.registry`; this module only says what each name is.

* ``wiki6``: Wikipedia first paragraphs, 1973 ids x ar de el en fr zh (one JSONL file); all by default.
* ``xquad``: XQuAD, 240 paragraphs and 1190 questions x 12 languages; default ar de el en es ru zh.
* ``tatoeba``: the LASER Tatoeba test set, up to 1000 pairs for each of 112 languages x English;
  default ara cmn deu ell fra.
* ``ntrex``: NTREX-128, 1997 news sentences x 128 languages, multi-way (line-aligned); all by default.

A file belongs to one language (``RemoteFile.lang``; Tatoeba's two files of a pair belong to its non-English
code): only the files of the chosen languages are downloaded and read (``languages=`` of
:func:`~xlr.data.registry.resolve_dataset`, ``--languages`` of the CLI; ``"all"`` for every one).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from xlr.data.pins_ntrex import NTREX, XQUAD
from xlr.data.pins_tatoeba import TATOEBA

__all__ = ["DATASETS", "WIKI6_SIZE", "DatasetShape", "DatasetSpec", "RemoteFile"]


@dataclass(frozen=True)
class RemoteFile:
    """A file of a data set: where it lives under the data directory and upstream.

    ``size`` (bytes) and ``sha256`` (hex) are checked after a download when known; ``lang`` is the language
    the file belongs to (``""``: needed whatever the selection).
    """

    relpath: str
    url: str
    size: int | None = None
    sha256: str | None = None
    lang: str = ""


@dataclass(frozen=True)
class DatasetShape:
    """What a loaded data set must hold: ``n_documents`` records, ``n_ids`` ids, exactly ``languages``."""

    n_documents: int
    n_ids: int
    languages: tuple[str, ...]

    def describe(self) -> str:
        return f"{self.n_documents} records, {self.n_ids} ids x {len(self.languages)} languages ({', '.join(self.languages)})"


@dataclass(frozen=True)
class DatasetSpec:
    """A registered data set; ``kind`` is ``"jsonl"``, ``"xquad"``, ``"tatoeba"`` or ``"aligned"``.

    ``shape``, when given, is checked after loading: a file of the right size but other
    content is refused (:class:`~xlr.data.download.DatasetUnavailable`), never used.
    ``default_languages`` (file languages, as ``RemoteFile.lang`` writes them; ``None``: all) is what is
    loaded when no selection is given; ``pattern`` reads the language of an ``aligned`` file name.
    """

    name: str
    description: str
    files: tuple[RemoteFile, ...]
    kind: str
    shape: DatasetShape | None = None
    default_languages: tuple[str, ...] | None = None
    pattern: str | None = None

    @property
    def languages(self) -> tuple[str, ...]:
        """Every language a selection can name (file languages, in file order)."""
        return tuple(dict.fromkeys(f.lang for f in self.files if f.lang))


WIKI6_SIZE = 7_514_418
_XQUAD = "https://raw.githubusercontent.com/google-deepmind/xquad/master/"
_LASER = "https://raw.githubusercontent.com/facebookresearch/LASER/main/data/tatoeba/v1/"
_NTREX = "https://raw.githubusercontent.com/MicrosoftTranslator/NTREX/main/NTREX-128/"
NTREX_PATTERN = r"newstest2019-(?:ref|src)\.(?P<lang>[A-Za-z]+(?:-[A-Za-z]+)?)\.txt"
"""NTREX-128 file names: the 127 references and the English source; ``newstest2019-ref-2.spa.txt`` (a second
Spanish reference) is left out."""
_TATOEBA_FILE = re.compile(r"^tatoeba\.([a-z]+)-eng\.[a-z]+$")


def _ntrex_files() -> tuple[RemoteFile, ...]:
    out = []
    for name, (size, sha) in NTREX.items():
        m = re.fullmatch(NTREX_PATTERN, name)
        if m is not None:
            out.append(RemoteFile(f"ntrex/{name}", f"{_NTREX}{name}", size, sha, m.group("lang")))
    return tuple(out)


def _tatoeba_files() -> tuple[RemoteFile, ...]:
    out = []
    for name, (size, sha) in TATOEBA.items():
        m = _TATOEBA_FILE.match(name)
        if m is not None:
            out.append(RemoteFile(f"tatoeba/{name}", f"{_LASER}{name}", size, sha, m.group(1)))
    return tuple(out)


DATASETS: dict[str, DatasetSpec] = {
    spec.name: spec
    for spec in (
        DatasetSpec(
            "wiki6",
            "Wikipedia first paragraphs in ar, de, el, en, fr, zh linked by Wikidata id "
            "(sample-6lang.jsonl: 1973 ids x 6 languages)",
            (
                RemoteFile(
                    "sample-6lang.jsonl",
                    "https://raw.githubusercontent.com/dasmiq/cs6120-assignment5/refs/heads/main/sample-6lang.jsonl",
                    WIKI6_SIZE,  # the seed's download log; no published hash (the manifest records the one read)
                ),
            ),
            "jsonl",
            DatasetShape(11838, 1973, ("ar", "de", "el", "en", "fr", "zh")),
        ),
        DatasetSpec(
            "xquad",
            "XQuAD: 240 paragraphs x 12 languages (ar, de, el, en, es, hi, ro, ru, th, tr, vi, zh) and 1190 "
            "questions each; default ar, de, el, en, es, ru, zh (--languages all for the 12)",
            tuple(
                RemoteFile(f"xquad/{name}", f"{_XQUAD}{name}", size, sha, name.split(".")[1])
                for name, (size, sha) in XQUAD.items()
            ),
            "xquad",
            default_languages=("ar", "de", "el", "en", "es", "ru", "zh"),
        ),
        DatasetSpec(
            "tatoeba",
            "Tatoeba (LASER test set): up to 1000 sentence pairs for each of 112 languages with English; "
            "default ar, zh, de, el, fr (--languages all, or e.g. swh,amh,tel)",
            _tatoeba_files(),
            "tatoeba",
            default_languages=("ara", "cmn", "deu", "ell", "fra"),
        ),
        DatasetSpec(
            "ntrex",
            "NTREX-128: 1997 news sentences (WMT19 test set) x 128 languages, multi-way: every direction",
            _ntrex_files(),
            "aligned",
            pattern=NTREX_PATTERN,
        ),
    )
}
