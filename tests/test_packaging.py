"""The package installs like any other: ``pip install -e .`` gives an ``xlr`` command."""

from __future__ import annotations

import os
import shutil
import site
import subprocess
import sys
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_editable_install_gives_an_xlr_command(tmp_path: Path) -> None:
    # A fresh venv that sees this environment's packages (torch & co. are not downloaded again)
    # but not this checkout: only the editable install can make ``xlr`` importable from elsewhere.
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=False).create(env_dir)  # pip and setuptools come from the outer env
    py = env_dir / "bin" / "python"
    purelib = subprocess.run(
        [str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    (Path(purelib) / "outer-env.pth").write_text("\n".join(site.getsitepackages()) + "\n")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    install = subprocess.run(
        [str(py), "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation", "-e", str(ROOT)],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
    )
    assert install.returncode == 0, install.stderr[-2000:]
    out = subprocess.run(
        [str(env_dir / "bin" / "xlr"), "--help"], capture_output=True, text=True, env=env, cwd=tmp_path
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert "eval" in out.stdout and "search" in out.stdout
    where = subprocess.run(
        [str(py), "-c", "import xlr; print(xlr.__file__)"], capture_output=True, text=True, env=env, cwd=tmp_path
    )
    assert Path(where.stdout.strip()).resolve() == (ROOT / "xlr" / "__init__.py").resolve()
    assert sys.executable  # this test's own interpreter is untouched


# What the core needs at run time: numpy, pandas (and theirs), langcodes + language_data; pip and
# setuptools only to install. Anything else (torch, streamlit, plotly, scipy, tqdm...) must be absent.
CORE_DISTS = ("numpy", "pandas", "python-dateutil", "six", "tzdata", "langcodes", "language_data", "marisa-trie")
INSTALL_DISTS = ("pip", "setuptools")

NOTEBOOK = """
import importlib.util, sys, tempfile
import numpy as np
for heavy in ("torch", "streamlit", "plotly", "scipy", "sentence_transformers", "umap"):
    assert importlib.util.find_spec(heavy) is None, heavy  # really not installed
import xlr
from xlr.encoders.base import BatchEncoder, EncoderIdentity

texts = {"cat": [1, 0, 0], "Katze": [0.9, 0.1, 0], "dog": [0, 1, 0], "Hund": [0.1, 0.9, 0.1],
         "rain": [0, 0, 1], "Regen": [0, 0.2, 0.9]}

class Precomputed(BatchEncoder):
    identity = EncoderIdentity("precomputed", "lookup", "1", "none", True, 3)
    def _encode_batch(self, batch, role):
        return np.array([texts[t] for t in batch], dtype=np.float32)

pairs = [("1", "cat", "Katze"), ("2", "dog", "Hund"), ("3", "rain", "Regen")]
corpus = xlr.Corpus("tiny", [xlr.Document(i, lang, "", t) for i, en, de in pairs for lang, t in (("en", en), ("de", de))])
vectors = xlr.CorpusEmbeddings(corpus, Precomputed(), xlr.EmbeddingCache(tempfile.mkdtemp()))
r = xlr.evaluate(vectors, xlr.EvalSpec(directions=xlr.parse_directions("de-en,en-de"), ks=(1,)))
assert [d.direction.label for d in r] == ["de->en", "en->de"], list(r)
assert all(list(d.ranks) == [1, 1, 1] for d in r)
for name in ("torch", "streamlit", "plotly"):
    assert name not in sys.modules, name
print("ok", xlr.__file__)
"""


def _dist_tops(name: str) -> list[Path]:
    """The top-level files and folders a distribution of this environment installed (None: absent)."""
    import importlib.metadata as md

    try:
        dist = md.distribution(name)
    except md.PackageNotFoundError:
        return []
    tops = {f.parts[0] for f in dist.files or () if f.parts[0] not in ("..", "bin")}
    return [Path(dist.locate_file(t)) for t in sorted(tops)]


@pytest.mark.slow
def test_core_installs_and_evaluates_with_numpy_and_pandas_only(tmp_path: Path) -> None:
    """``pip install .`` in a fresh venv that holds numpy, pandas and langcodes only (offline: no index),
    then a notebook's ``xlr.evaluate`` on precomputed vectors, without torch or streamlit."""
    only = tmp_path / "only"
    only.mkdir()
    for name in (*CORE_DISTS, *INSTALL_DISTS):
        for src in _dist_tops(name):
            if src.exists() and not (only / src.name).exists():
                (only / src.name).symlink_to(src)
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=False).create(env_dir)
    py = env_dir / "bin" / "python"
    purelib = subprocess.run(
        [str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    (Path(purelib) / "only-core.pth").write_text(f"{only}\n")
    src = tmp_path / "src"  # a copy: the build writes build/ and *.egg-info next to pyproject.toml
    shutil.copytree(ROOT / "xlr", src / "xlr", ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, src / name)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV", "PIP_FIND_LINKS")}
    env["PIP_CONFIG_FILE"] = os.devnull  # no machine-wide find-links: only what `only` holds
    install = subprocess.run(
        [str(py), "-m", "pip", "install", "--no-index", "--no-build-isolation", str(src)],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
    )
    assert install.returncode == 0, install.stdout[-2000:] + install.stderr[-2000:]  # deps: numpy+pandas only
    run = subprocess.run([str(py), "-c", NOTEBOOK], capture_output=True, text=True, env=env, cwd=tmp_path)
    assert run.returncode == 0, run.stderr[-3000:]
    where = Path(run.stdout.split()[-1]).resolve()
    assert where.is_relative_to(Path(purelib).resolve()) and (where.parent / "py.typed").is_file()


def test_public_api_names_the_notebook_needs() -> None:
    import xlr
    from xlr.encoders.device import Runtime
    from xlr.report.encoder_table import compare_encoders
    from xlr.retrieval.scoring import ScoringSpec
    from xlr.retrieval.search import search

    assert (xlr.ScoringSpec, xlr.search, xlr.compare_encoders, xlr.Runtime) == (
        ScoringSpec,
        search,
        compare_encoders,
        Runtime,
    )
    assert {"ScoringSpec", "search", "compare_encoders", "Runtime"} <= set(xlr.__all__) <= set(dir(xlr))
    assert (ROOT / "xlr" / "py.typed").is_file()


@pytest.mark.slow
def test_import_xlr_and_its_public_names_load_no_torch_streamlit_or_plotly() -> None:
    code = (
        "import sys, xlr\n"
        "[getattr(xlr, n) for n in xlr.__all__]\n"
        "heavy = {'torch', 'streamlit', 'plotly', 'sentence_transformers', 'scipy'} & set(sys.modules)\n"
        "assert not heavy, heavy\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"} | {"PYTHONPATH": str(ROOT)}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=ROOT)
    assert out.returncode == 0, out.stderr[-2000:]
