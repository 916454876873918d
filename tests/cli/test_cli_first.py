"""``--first 0`` means all ids, as the dashboard's sidebar says (fast: parsing only)."""

from __future__ import annotations

import pytest

from xlr.cli.main import _parser


def test_first_zero_means_all_ids_like_the_sidebar():
    args = _parser().parse_args(["eval", "--dataset", "tatoeba", "--model", "e5-small", "--first", "0"])
    assert args.first is None
    assert _parser().parse_args(["eval", "--dataset", "x", "--model", "m", "--first", "30"]).first == 30
    with pytest.raises(SystemExit):
        _parser().parse_args(["eval", "--dataset", "x", "--model", "m", "--first", "-3"])
