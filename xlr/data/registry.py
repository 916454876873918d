"""Named data sets, the local data directory, and safe downloads.

Data directory: ``$XLR_DATA_DIR`` if set, else ``user_cache_dir("xlr")/data`` (:func:`xlr.paths.user_cache_dir`),
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
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from xlr import settings
from xlr.data.aligned import aligned_files, load_aligned
from xlr.data.corpus import detect_format
from xlr.data.datasets import DATASETS, WIKI6_SIZE, DatasetShape, DatasetSpec, RemoteFile
from xlr.data.download import DatasetUnavailable, Progress, download, file_sha256
from xlr.data.languages import pick
from xlr.data.loaders import XQUAD_FILE, load_jsonl, load_xquad
from xlr.data.records import Corpus, QuerySet
from xlr.data.tatoeba import TATOEBA_FILE, load_tatoeba
from xlr.paths import user_cache_dir, user_path

__all__ = [
    "DATASETS",
    "DatasetShape",
    "DatasetSpec",
    "DatasetUnavailable",
    "LoadedDataset",
    "RemoteFile",
    "WIKI6_SIZE",
    "wrong_size",
    "data_dir",
    "download",
    "ensure_dataset",
    "file_sha256",
    "resolve_dataset",
    "select_languages",
    "selected_files",
]


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
    return env if env is not None else user_cache_dir() / "data"


def _spec(name: str) -> DatasetSpec:
    if name not in DATASETS:
        raise ValueError(f"unknown data set {name!r}; known: {', '.join(DATASETS)}")
    return DATASETS[name]


Languages = str | Sequence[str] | None
"""A selection: ``None`` (the data set's default), ``"all"``, or codes in any form (``sw``, ``swh``, ``zho-CN``)."""


def _codes(languages: str | Sequence[str]) -> list[str]:
    parts = languages.split(",") if isinstance(languages, str) else list(languages)
    return [p.strip() for p in parts if p.strip()]


def select_languages(spec: DatasetSpec, languages: Languages = None) -> tuple[str, ...]:
    """The file languages of ``spec`` that ``languages`` names (see :data:`Languages`), in ``spec`` order.

    Codes are matched with :func:`xlr.data.languages.pick` (``sw`` finds Tatoeba's ``swh``); English is
    part of every Tatoeba pair, so ``en``/``eng`` there select nothing more.  An unknown code raises
    ``ValueError`` listing the data set's languages.
    """
    every = spec.languages
    if languages is None:
        return spec.default_languages or every
    if isinstance(languages, str) and languages.strip().lower() == "all":
        return every
    chosen = set()
    for code in _codes(languages):
        found = pick(code, every)
        if found is None:
            if spec.kind == "tatoeba" and pick(code, ["eng"]) == "eng":
                continue
            raise ValueError(f"data set {spec.name!r} has no language {code!r} (languages: {', '.join(every)})")
        chosen.add(found)
    if not chosen:
        raise ValueError(f"no language of data set {spec.name!r} chosen (languages: {', '.join(every)})")
    return tuple(c for c in every if c in chosen)


def selected_files(spec: DatasetSpec, languages: Languages = None) -> tuple[RemoteFile, ...]:
    """The files of ``spec`` a selection needs (:func:`select_languages`), in ``spec`` order."""
    if not spec.languages:
        return spec.files
    keep = set(select_languages(spec, languages))
    return tuple(f for f in spec.files if not f.lang or f.lang in keep)


def _present(path: Path, remote: RemoteFile) -> bool:
    return path.is_file() and (remote.size is None or path.stat().st_size == remote.size)


LOCAL_ALIASES = {"tatoeba/": "tatoeba-112/"}
"""Second local folders: a data directory laid out like ``../shared/data`` keeps the five default Tatoeba
pairs in ``tatoeba/`` and the whole 112-language test set (same upstream, same names) in ``tatoeba-112/``."""


def local_path(base: Path, remote: RemoteFile) -> Path:
    """Where ``remote`` is read under ``base``: ``base/relpath``, or its :data:`LOCAL_ALIASES` twin when only
    the twin is there. A file at ``base/relpath`` always comes first; a twin of another size than the pinned
    one is returned too, so that :func:`wrong_size` names it (it is never used, nor downloaded over)."""
    path = base / remote.relpath
    for prefix, alias in LOCAL_ALIASES.items():
        if not path.exists() and remote.relpath.startswith(prefix):
            twin = base / (alias + remote.relpath[len(prefix) :])
            if twin.is_file():
                return twin
    return path


def wrong_size(path: Path, remote: RemoteFile) -> str:
    """``found PATH, N bytes, expected M: delete it or download again`` when ``path`` is a file of another
    size than the pinned one; ``""`` otherwise (absent, or the right size, or no pinned size)."""
    if remote.size is None or not path.is_file() or path.stat().st_size == remote.size:
        return ""
    return f"found {path}, {path.stat().st_size:,} bytes, expected {remote.size:,}: delete it or download again"


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
    languages: Languages = None,
) -> list[Path]:
    """Paths of every file of data set ``name`` under ``root`` (default :func:`data_dir`) for the chosen
    ``languages`` (:func:`select_languages`; default the data set's default selection).

    Files present (with the pinned size when known; the hash is checked only on download)
    are used without network access; a file of another size than the pinned one is neither used
    nor downloaded over: :func:`wrong_size` names it. Missing ones are downloaded from upstream or, with
    ``base_url`` (default ``$XLR_DATA_BASE_URL``), from ``base_url + "/" + relpath``.
    ``progress(done, total)`` counts bytes over all downloaded files (``total`` is ``None``
    when a size is unknown). ``timeout``, ``deadline`` and ``min_rate`` limit each download
    (see :func:`xlr.data.download.download`). With ``download_missing=False`` or on the first failed
    download, :class:`DatasetUnavailable` lists each missing ``URL -> exact path``.
    An unknown name raises ``ValueError`` listing the known ones.
    """
    spec = _spec(name)
    base = user_path(root) if root is not None else data_dir()
    mirror = base_url if base_url is not None else settings.data_base_url()
    files = selected_files(spec, languages)
    paths = [local_path(base, f) for f in files]
    todo = [
        (f, p, f"{mirror.rstrip('/')}/{f.relpath}" if mirror else f.url)
        for f, p in zip(files, paths, strict=True)
        if not _present(p, f)
    ]
    if not todo:
        return paths
    missing = [(url, p) for _, p, url in todo]
    wrong = [w for f, p, _ in todo if (w := wrong_size(p, f))]
    if wrong:  # never downloaded over, never said to be missing: the user decides
        raise DatasetUnavailable(f"data set {name!r}: {'; '.join(wrong)}", tuple(missing))
    if not download_missing:
        note = ""
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
    if kind == "aligned":
        return tuple(aligned_files(folder)[1].values())
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
    languages: Languages = None,
    pattern: str | None = None,
) -> LoadedDataset:
    """Load a registered data set by name, or a local file/folder.

    ``languages`` picks a subset (:data:`Languages`): of a named data set only those files are downloaded
    and read; of a path, the corpus (and questions) keep only those languages (a Tatoeba folder keeps its
    English too).  ``pattern`` reads the language of a line-aligned file name (:mod:`xlr.data.aligned`).

    A registered name (checked first) goes through :func:`ensure_dataset` and the
    corpus is named after it. Otherwise an existing path is loaded by format (see
    :func:`xlr.data.corpus.detect_format`): a JSONL file, an XQuAD folder or file (queries
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
                languages=languages,
            )
        )
        queries = None
        if spec.kind == "jsonl":
            corpus = load_jsonl(files[0], lenient=lenient)
        elif spec.kind == "xquad":
            corpus, queries = load_xquad(files)
        elif spec.kind == "aligned":
            urls = {Path(f.relpath).name: f.url for f in spec.files}
            corpus = load_aligned(files, pattern=spec.pattern, name=key, urls=urls)
        else:
            corpus = load_tatoeba(files)
        _check_shape(spec, corpus, files, base_url)
        data = LoadedDataset(key, replace(corpus, name=key), queries, files)
        return _keep_languages(data, languages) if spec.kind == "jsonl" else data
    path = user_path(key)
    if not path.exists():
        raise ValueError(
            f"unknown data set {key!r}: not a registered name ({', '.join(DATASETS)}) and no such file or folder"
        )
    kind = detect_format(path) if pattern is None or path.is_file() else "aligned"
    queries = None
    if kind == "jsonl":
        corpus, files = load_jsonl(path, lenient=lenient), (path,)
    elif kind == "aligned":
        files = tuple(aligned_files(path, pattern)[1].values())
        corpus = load_aligned(path, pattern=pattern)
    else:
        files = (path,) if path.is_file() else _folder_files(path, kind)
        if kind == "xquad":
            corpus, queries = load_xquad(path)
        else:
            corpus = load_tatoeba(path)
    return _keep_languages(
        LoadedDataset(corpus.name, corpus, queries, files), languages, keep_english=kind == "tatoeba"
    )


def _keep_languages(data: LoadedDataset, languages: Languages, *, keep_english: bool = False) -> LoadedDataset:
    """``data`` with only the chosen languages (codes in any form; ``None``/``"all"``: everything)."""
    if languages is None or (isinstance(languages, str) and languages.strip().lower() == "all"):
        return data
    have = data.corpus.languages
    keep = []
    for code in _codes(languages):
        found = pick(code, have)
        if found is None:
            raise ValueError(f"{data.name!r} has no language {code!r} (languages: {', '.join(have)})")
        keep.append(found)
    if keep_english and (en := pick("en", have)) is not None:
        keep.append(en)
    corpus = replace(data.corpus.subset(langs=keep), report=data.corpus.report)
    queries = data.queries
    if queries is not None:
        queries = replace(queries, queries=tuple(q for q in queries.queries if q.lang in set(keep)))
    return replace(data, corpus=corpus, queries=queries)
