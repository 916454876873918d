"""The package installs like any other: ``pip install -e .`` gives an ``xlr`` command."""

from __future__ import annotations

import os
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
