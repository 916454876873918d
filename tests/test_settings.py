"""One settings module reads every ``XLR_*`` variable; CLI, library and dashboard agree."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_precision_from_the_environment_reaches_the_cli_and_the_library(monkeypatch):
    """Bug: $XLR_PRECISION was honoured by the dashboard only."""
    from xlr.cli.runtime import runtime_from
    from xlr.encoders.device import Runtime

    monkeypatch.setenv("XLR_PRECISION", "BF16")
    monkeypatch.setenv("XLR_DEVICE", "cuda")
    args = argparse.Namespace(device=None, precision=None, encode_batch_size=None)
    assert runtime_from(args) == Runtime("cuda", "bf16")
    assert Runtime.from_options() == Runtime("cuda", "bf16")  # what the library's encoders start from
    assert Runtime.from_options("cpu", "fp32") == Runtime("cpu", "fp32")  # an explicit option wins


def test_the_dashboard_reads_the_same_settings(monkeypatch):
    from xlr import settings
    from xlr.dashboard.state import initial_settings

    monkeypatch.setenv("XLR_PRECISION", "fp16")
    monkeypatch.setenv("XLR_DEVICE", "cuda:1")
    s, warnings = initial_settings(settings.environment(), {}, "tatoeba")
    assert (s.device, s.precision, warnings) == ("cuda:1", "fp16", [])


def test_a_bad_value_is_one_sentence_naming_the_variable(monkeypatch):
    from xlr import settings

    monkeypatch.setenv("XLR_PRECISION", "fp8")
    with pytest.raises(ValueError, match=r"^\$XLR_PRECISION='fp8': expected fp32, fp16 or bf16$"):
        settings.precision()
    monkeypatch.setenv("XLR_THREADS", "two")
    with pytest.raises(ValueError, match=r"XLR_THREADS"):
        settings.threads()


def test_no_other_module_reads_an_xlr_variable():
    """Every ``XLR_*`` variable is read in xlr/settings.py, and each one read is documented there."""
    from xlr import settings

    reads = re.compile(r"""(?:environ(?:\.get)?[\[(]|getenv\()\s*["'](XLR_\w+)""")
    offenders = []
    for path in sorted((ROOT / "xlr").rglob("*.py")):
        if path.name != "settings.py":
            offenders += [f"{path.relative_to(ROOT)}: {m}" for m in reads.findall(path.read_text(encoding="utf-8"))]
    assert offenders == [], "read XLR_* variables through xlr.settings (env(name), listed in VARIABLES)"
    mentioned = set(re.findall(r"XLR_[A-Z_]+[A-Z]", "\n".join(p.read_text() for p in (ROOT / "xlr").rglob("*.py"))))
    assert mentioned <= set(settings.VARIABLES), sorted(mentioned - set(settings.VARIABLES))
