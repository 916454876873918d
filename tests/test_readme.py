"""The README's library example runs as written, and prints what it promises."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def readme_example() -> str:
    blocks = re.findall(r"```python\n(.*?)```", (ROOT / "README.md").read_text(encoding="utf-8"), flags=re.S)
    assert len(blocks) == 1, "the README has one library example"
    return blocks[0]


def test_readme_example_is_short_and_uses_only_the_public_api() -> None:
    import xlr

    code = readme_example()
    assert len([line for line in code.splitlines() if line.strip()]) <= 10
    used = set(re.findall(r"\bxlr\.(\w+)", code))
    assert used and used <= set(xlr.__all__), used - set(xlr.__all__)


@pytest.mark.slow
def test_readme_example_runs(
    shared_data: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import xlr

    monkeypatch.chdir(tmp_path)  # the example writes results.json
    namespace: dict[str, object] = {}
    exec(compile(readme_example(), "README.md", "exec"), namespace)  # noqa: S102 - our own README
    table = namespace["table"]
    out = capsys.readouterr().out
    assert "de->en" in out and "zh->en" in out and "recall@10" in out
    rows = table[(table.metric == "recall@1")]  # type: ignore[attr-defined]
    assert sorted(zip(rows.source, rows.target)) == [("de", "en"), ("zh", "en")]
    assert (rows.n_queries == 50).all() and ((rows.value > 0.5) & (rows.value <= 1)).all()
    assert xlr.read_results(tmp_path / "results.json") == namespace["results"]
