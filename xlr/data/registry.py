"""Named data sets, the local data directory, and safe downloads.

Data directory: ``$XLR_DATA_DIR`` if set, else ``platformdirs.user_cache_dir("xlr")/data``,
laid out like ``../shared/data``: ``sample-6lang.jsonl`` at the top, ``xquad/`` and
``tatoeba/`` holding the upstream file names. A file already there (with the pinned size,
when known) is used without any network access; a missing one is downloaded from its
upstream address, or from a mirror laid out like the data directory
(``base_url``/``$XLR_DATA_BASE_URL`` + ``/`` + relative path).

Downloads stream to a ``*.part`` file beside the destination and are moved into place only
after the length and the SHA-256 check out; any failure removes the partial file and raises
:class:`DatasetUnavailable`, whose message names the URL and the exact local path where the
file can be put by hand.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from pathlib import Path

import platformdirs

from xlr import settings
from xlr.data.corpus import detect_format
from xlr.data.download import DatasetUnavailable, Progress, download, file_sha256
from xlr.data.loaders import XQUAD_FILE, load_jsonl, load_xquad
from xlr.data.records import Corpus, QuerySet
from xlr.data.tatoeba import TATOEBA_FILE, load_tatoeba

__all__ = [
    "DATASETS",
    "DatasetShape",
    "DatasetSpec",
    "DatasetUnavailable",
    "LoadedDataset",
    "RemoteFile",
    "data_dir",
    "download",
    "ensure_dataset",
    "file_sha256",
    "resolve_dataset",
]


@dataclass(frozen=True)
class RemoteFile:
    """A file of a data set: where it lives under the data directory and upstream.

    ``size`` (bytes) and ``sha256`` (hex) are checked after a download when known.
    """

    relpath: str
    url: str
    size: int | None = None
    sha256: str | None = None


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
    """A registered data set; ``kind`` is ``"jsonl"``, ``"xquad"`` or ``"tatoeba"``.

    ``shape``, when given, is checked after loading: a file of the right size but other
    content is refused (:class:`DatasetUnavailable`), never used.
    """

    name: str
    description: str
    files: tuple[RemoteFile, ...]
    kind: str
    shape: DatasetShape | None = None


WIKI6_SIZE = 7_514_418
_XQUAD = "https://raw.githubusercontent.com/google-deepmind/xquad/master/"
_LASER = "https://raw.githubusercontent.com/facebookresearch/LASER/main/data/tatoeba/v1/"
_XQUAD_PINS = {  # lang: (size, sha256) of the upstream files (copies in ../shared/data)
    "ar": (1582988, "abdabd7afed5c635d99cca0f3f0d0c9d9ed0bc77451e963c2e4e0638c29e486d"),
    "de": (669810, "990b5d746746ed65ed4702ea5f35f99ffa4e2f1c390c07d003642acd937916f9"),
    "el": (1918889, "821cf0f88e73fa258fd2f548b19b6ec39f7025059e16f6f9fc8cd797c9c3663e"),
    "en": (609383, "e4c57d1c9143aaa1c5d265ba5987a65f4e69528d2a98f29d6e75019b10344f29"),
    "es": (684322, "dcbae93ec3a9f4b9e78fd834a171d6f96c1a875e10e15b7530b7e4ef4971e37e"),
    "ru": (1896368, "208d5b1aa154c52b1b5c5eda16281e455e8fd198cdb9af3f469f0d6037d973bf"),
    "zh": (808652, "691d0b3359bc6b8faa8de931dfdfe21d50a65861ae348e32a0d1a0190b0c8835"),
}
_TATOEBA_PINS = {  # file name: (size, sha256)
    "tatoeba.ara-eng.ara": (
        43582,
        "e67a0ae072b79cd9e8eb09f166c3bc0b23488d39f5720f2ee0a8350ae17b719f",
    ),
    "tatoeba.ara-eng.eng": (
        29068,
        "3c11838c963f598a52dcf2f452b666353538257001db5c59c3a5f54a999b336b",
    ),
    "tatoeba.cmn-eng.cmn": (
        33410,
        "965d033966fcd186c89741ad49ab4b0a0b2bbd33e02666635ff3b2be23c1ac1f",
    ),
    "tatoeba.cmn-eng.eng": (
        35521,
        "29ba36232488f5806aceccac57c59c5e750ddd08edb40eef417e3ada9ff9a239",
    ),
    "tatoeba.deu-eng.deu": (
        57121,
        "edfa6f75a42554df388f45891735d5e4214158a99def4b73b5908af4a3054551",
    ),
    "tatoeba.deu-eng.eng": (
        48446,
        "eb9cc83a42f2c4b22f310d05311207e41abb56c2a084666cac3ee0f84d2d0b84",
    ),
    "tatoeba.ell-eng.ell": (
        52202,
        "4fb3d3d30bdafd15100dfad5c4680f8f2ed5ca87ed0a6122e2fe2aa21fee65e8",
    ),
    "tatoeba.ell-eng.eng": (
        26759,
        "1f630710e718e2f85a4e757d3c7f3d6e78ded0b25c99653b4c552138318d9ffe",
    ),
    "tatoeba.fra-eng.eng": (
        36291,
        "5634220f8a26a9a23b84753a9aec0b0832e6bdaa9da3f83e0bd84c928c3f46e3",
    ),
    "tatoeba.fra-eng.fra": (
        43727,
        "644172ff9642fefa9e41c29b7d6f44196518e84350dc44d4992e943c0cca92b6",
    ),
}

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
            "XQuAD: 240 paragraphs x 7 languages (ar, de, el, en, es, ru, zh) and 1190 questions each",
            tuple(
                RemoteFile(f"xquad/xquad.{lang}.json", f"{_XQUAD}xquad.{lang}.json", size, sha)
                for lang, (size, sha) in _XQUAD_PINS.items()
            ),
            "xquad",
        ),
        DatasetSpec(
            "tatoeba",
            "Tatoeba (LASER test set): 1000 sentence pairs each for ar, zh, de, el, fr with English",
            tuple(
                RemoteFile(f"tatoeba/{name}", f"{_LASER}{name}", size, sha)
                for name, (size, sha) in _TATOEBA_PINS.items()
            ),
            "tatoeba",
        ),
    )
}


@dataclass(frozen=True)
class LoadedDataset:
    """A loaded data set: its corpus, its queries (XQuAD only, else ``None``) and the files read."""

    name: str
    corpus: Corpus
    queries: QuerySet | None
    files: tuple[Path, ...]


def data_dir() -> Path:
    """``$XLR_DATA_DIR`` (when set and non-empty), else ``user_cache_dir("xlr")/data``; not created here."""
    env = settings.data_dir()
    return env if env is not None else Path(platformdirs.user_cache_dir("xlr")) / "data"


def _spec(name: str) -> DatasetSpec:
    if name not in DATASETS:
        raise ValueError(f"unknown data set {name!r}; known: {', '.join(DATASETS)}")
    return DATASETS[name]


def _present(path: Path, remote: RemoteFile) -> bool:
    return path.is_file() and (remote.size is None or path.stat().st_size == remote.size)


def _describe(missing: list[tuple[str, Path]]) -> str:
    if len(missing) == 1:
        return f"download {missing[0][0]} and save it as {missing[0][1]}"
    return "download each and save it at the exact path: " + "; ".join(f"{u} -> {p}" for u, p in missing)


def ensure_dataset(
    name: str,
    *,
    root: str | os.PathLike | None = None,
    download_missing: bool = True,
    base_url: str | None = None,
    progress: Progress | None = None,
    timeout: float = 30,
    deadline: float | None = None,
    min_rate: float | None = None,
) -> list[Path]:
    """Paths of every file of data set ``name`` under ``root`` (default :func:`data_dir`).

    Files present (with the pinned size when known; the hash is checked only on download)
    are used without network access. Missing ones are downloaded from upstream or, with
    ``base_url`` (default ``$XLR_DATA_BASE_URL``), from ``base_url + "/" + relpath``.
    ``progress(done, total)`` counts bytes over all downloaded files (``total`` is ``None``
    when a size is unknown). ``timeout``, ``deadline`` and ``min_rate`` limit each download
    (see :func:`xlr.data.download.download`). With ``download_missing=False`` or on the first failed
    download, :class:`DatasetUnavailable` lists each missing ``URL -> exact path``.
    An unknown name raises ``ValueError`` listing the known ones.
    """
    spec = _spec(name)
    base = Path(root).expanduser() if root is not None else data_dir()
    mirror = base_url if base_url is not None else settings.data_base_url()
    paths = [base / f.relpath for f in spec.files]
    todo = [
        (f, p, f"{mirror.rstrip('/')}/{f.relpath}" if mirror else f.url)
        for f, p in zip(spec.files, paths, strict=True)
        if not _present(p, f)
    ]
    if not todo:
        return paths
    missing = [(url, p) for _, p, url in todo]
    if not download_missing:
        wrong = [f"{p} has {p.stat().st_size} bytes, expected {f.size}" for f, p, _ in todo if p.is_file()]
        note = f" ({'; '.join(wrong)})" if wrong else ""
        count = f"{len(todo)} of {len(paths)} files" if len(paths) > 1 else "the file is"
        raise DatasetUnavailable(
            f"data set {name!r}: {count} missing{note} and downloading is off; {_describe(missing)}",
            tuple(missing),
        )
    known = [f.size for f, _, _ in todo]
    total = sum(s for s in known if s is not None) if None not in known else None
    finished = 0
    for i, (remote, path, url) in enumerate(todo):

        def step(done: int, _total: int | None, _before: int = finished) -> None:
            if progress is not None:
                progress(_before + done, total)

        try:
            download(
                url,
                path,
                size=remote.size,
                sha256=remote.sha256,
                progress=step,
                timeout=timeout,
                deadline=deadline,
                min_rate=min_rate,
            )
        except DatasetUnavailable as exc:
            rest = missing[i + 1 :]
            more = (
                f" ({len(rest)} more {'file' if len(rest) == 1 else 'files'} missing: "
                f"{'; '.join(f'{u} -> {p}' for u, p in rest)})"
                if rest
                else ""
            )
            raise DatasetUnavailable(f"data set {name!r}: {exc}{more}", tuple(missing[i:])) from None
        finished += path.stat().st_size
    return paths


def _folder_files(folder: Path, kind: str) -> tuple[Path, ...]:
    pattern = XQUAD_FILE if kind == "xquad" else TATOEBA_FILE
    return tuple(sorted(p for p in folder.iterdir() if pattern.match(p.name) and p.is_file()))


def _check_shape(spec: DatasetSpec, corpus: Corpus, files: tuple[Path, ...], base_url: str | None) -> None:
    """Refuse a registered data set whose content is not the published one (see :class:`DatasetShape`)."""
    want = spec.shape
    if want is None:
        return
    got = DatasetShape(len(corpus), len(corpus.ids), tuple(corpus.languages))
    if got != want:
        mirror = base_url if base_url is not None else settings.data_base_url()
        missing = tuple(
            (f"{mirror.rstrip('/')}/{f.relpath}" if mirror else f.url, p)
            for f, p in zip(spec.files, files, strict=True)
        )
        raise DatasetUnavailable(
            f"data set {spec.name!r}: {', '.join(str(p) for p in files)} holds {got.describe()}; the published file "
            f"holds {want.describe()}. Delete it and download it again ({_describe(list(missing))})",
            missing,
        )


def resolve_dataset(
    name_or_path: str | os.PathLike,
    *,
    root: str | os.PathLike | None = None,
    lenient: bool = False,
    download_missing: bool = True,
    progress: Progress | None = None,
    base_url: str | None = None,
) -> LoadedDataset:
    """Load a registered data set by name, or a local file/folder.

    A registered name (checked first) goes through :func:`ensure_dataset` and the
    corpus is named after it. Otherwise an existing path is loaded by format (see
    :func:`xlr.corpus.detect_format`): a JSONL file, an XQuAD folder or file (queries
    included), a Tatoeba folder. ``lenient`` applies to JSONL. Anything else raises
    ``ValueError`` listing the known names; load errors raise ``CorpusError``.
    """
    key = os.fspath(name_or_path)
    if key in DATASETS:
        spec = DATASETS[key]
        files = tuple(
            ensure_dataset(
                key,
                root=root,
                download_missing=download_missing,
                base_url=base_url,
                progress=progress,
            )
        )
        queries = None
        if spec.kind == "jsonl":
            corpus = load_jsonl(files[0], lenient=lenient)
        elif spec.kind == "xquad":
            corpus, queries = load_xquad(files)
        else:
            corpus = load_tatoeba(files)
        _check_shape(spec, corpus, files, base_url)
        return LoadedDataset(key, replace(corpus, name=key), queries, files)
    path = Path(key).expanduser()
    if not path.exists():
        raise ValueError(
            f"unknown data set {key!r}: not a registered name ({', '.join(DATASETS)}) and no such file or folder"
        )
    kind = detect_format(path)
    queries = None
    if kind == "jsonl":
        corpus, files = load_jsonl(path, lenient=lenient), (path,)
    else:
        files = (path,) if path.is_file() else _folder_files(path, kind)
        if kind == "xquad":
            corpus, queries = load_xquad(path)
        else:
            corpus = load_tatoeba(path)
    return LoadedDataset(corpus.name, corpus, queries, files)
