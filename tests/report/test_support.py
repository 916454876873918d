"""Notes about unsupported languages (fast tier): one short line per encoder, languages not directions."""

from __future__ import annotations

from xlr.report.support import unsupported_notes


def test_one_line_per_encoder_lists_languages_not_directions():
    langs = [f"l{i:02d}" for i in range(20)]
    flags = {
        "use-m3": {f"{s}->{t}": [x for x in (s, t) if x in ("l03", "l07")] for s in langs for t in langs if s != t},
        "minilm-en": {"l01->l02": ["l01", "l02"]},
    }
    flags["use-m3"] = {k: v for k, v in flags["use-m3"].items() if v}
    notes = unsupported_notes(flags)
    assert notes == [
        "use-m3 was not trained on l03, l07 (model card): 74 directions with them are scored but unsupported",
        "minilm-en was not trained on l01, l02 (model card): 1 direction with them is scored but unsupported",
    ]
    assert all("->" not in n and len(n) < 200 for n in notes)
