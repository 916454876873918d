"""Language codes as the field writes them: normalisation, matching, model-card coverage, display."""

from __future__ import annotations

import pytest

from xlr.data.languages import covered, describe, label, match_key, same_language, uncovered
from xlr.encoders.catalogue import unsupported

# (written code, match key, English name, script, family)
TABLE = [
    ("en", "en", "English", "Latn", "Indo-European"),
    ("eng", "en", "English", "Latn", "Indo-European"),
    ("eng_Latn", "en", "English", "Latn", "Indo-European"),
    ("eng-Latn", "en", "English", "Latn", "Indo-European"),
    ("EN", "en", "English", "Latn", "Indo-European"),
    ("zh", "zh", "Chinese", "Hans", "Sino-Tibetan"),
    ("zho_Hans", "zh", "Chinese", "Hans", "Sino-Tibetan"),
    ("zho-CN", "zh", "Chinese", "Hans", "Sino-Tibetan"),
    ("zh-cn", "zh", "Chinese", "Hans", "Sino-Tibetan"),
    ("cmn", "zh", "Chinese", "Hans", "Sino-Tibetan"),
    ("zho_Hant", "zh-Hant", "Chinese", "Hant", "Sino-Tibetan"),
    ("zho-TW", "zh-Hant", "Chinese", "Hant", "Sino-Tibetan"),
    ("arb", "ar", "Arabic", "Arab", "Afro-Asiatic"),
    ("ara", "ar", "Arabic", "Arab", "Afro-Asiatic"),
    ("ar", "ar", "Arabic", "Arab", "Afro-Asiatic"),
    ("nob", "nb", "Norwegian Bokmål", "Latn", "Indo-European"),
    ("no", "nb", "Norwegian", "Latn", "Indo-European"),
    ("nno", "nn", "Norwegian Nynorsk", "Latn", "Indo-European"),
    ("deu", "de", "German", "Latn", "Indo-European"),
    ("ell", "el", "Greek", "Grek", "Indo-European"),
    ("swh", "sw", "Swahili", "Latn", "Atlantic-Congo"),
    ("swa", "sw", "Swahili", "Latn", "Atlantic-Congo"),
    ("amh", "am", "Amharic", "Ethi", "Afro-Asiatic"),
    ("tel", "te", "Telugu", "Telu", "Dravidian"),
    ("srp_Latn", "sr-Latn", "Serbian", "Latn", "Indo-European"),
    ("srp_Cyrl", "sr", "Serbian", "Cyrl", "Indo-European"),
    ("eus", "eu", "Basque", "Latn", "isolate"),
]


@pytest.mark.parametrize(("code", "key", "name", "script", "family"), TABLE)
def test_normalisation_table(code: str, key: str, name: str, script: str, family: str) -> None:
    info = describe(code)
    assert (match_key(code), info.name, info.script, info.family) == (key, name, script, family)
    assert info.code == code  # the user's own code is kept for display
    assert info.known


def test_same_language_across_forms() -> None:
    assert same_language("zho-CN", "cmn") and same_language("zho_Hans", "zh-TW")
    assert same_language("arb", "ar") and same_language("nob", "no")
    assert not same_language("nno", "nob")  # Nynorsk is not Bokmål
    assert not same_language("yue", "cmn")  # Cantonese is not Mandarin
    assert not same_language("arz", "arb")  # Egyptian Arabic is its own language in ISO 639-3


def test_unknown_codes_are_kept_and_only_equal_themselves() -> None:
    info = describe("my-lang")
    assert (info.known, info.name, info.script_name, info.family) == (False, "my-lang", "unknown", "unknown")
    assert same_language("XYZ", "xyz") and not same_language("xyz", "en")
    assert label("xyz") == "xyz"
    assert describe("").known is False


def test_labels_show_the_users_code() -> None:
    assert label("arb") == "arb (Arabic)"
    assert label("zho-CN") == "zho-CN (Chinese)"
    assert describe("arb").script_name == "Arabic"


def test_card_coverage_by_script() -> None:
    assert covered("deu", ("de", "en")) and not covered("ell", ("de", "en"))
    assert covered("zho_Hant", ("zh",))  # a card's bare language covers every script
    assert not covered("zho_Hant", ("zh-CN",)) and covered("zho-TW", ("zh-CN", "zh-TW"))
    assert covered("nob", ("no",)) and covered("no", ("nb",)) and not covered("nno", ("nb",))
    assert uncovered(["deu", "ell", "eng", "ell"], ("de", "en")) == ("ell",)
    assert uncovered(["ell"], None) == ()


def test_use_m3_card_matches_three_letter_codes() -> None:
    assert unsupported("use-m3", ("deu", "eng")) == ()
    assert unsupported("use-m3", ("ell", "eng")) == ("ell",)
    assert unsupported("use-m3", ("zho-CN", "arb", "cmn", "zho_Hant")) == ()
    assert unsupported("use-m3", ("swh", "amh")) == ("amh", "swh")
    assert unsupported("paraphrase-multilingual-MiniLM-L12-v2", ()) == ()
    assert unsupported("st:sentence-transformers/paraphrase-multilingual-MiniLM-L12-v2", ("nob", "ell")) == ()
