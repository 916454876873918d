"""Language codes the way the field writes them: ISO 639-1, ISO 639-3 and BCP-47 with script and region.

Data sets and model cards name one language many ways: ``en``, ``eng``, ``eng_Latn``, ``eng-Latn``;
``zh``, ``zho_Hans``, ``zho-CN``, ``cmn``; ``ar``, ``ara``, ``arb``; ``no``, ``nb``, ``nob``.  This
module reads all of them with the maintained tables of ``langcodes`` (IANA subtag registry and
Unicode CLDR, shipped by ``language_data``) — no hand lists — and answers three questions:

* **is it the same language?** (:func:`same_language`, :func:`match_key`) for published figures and filters;
* **does a model card cover it?** (:func:`covered`, :func:`uncovered`) for "scored but unsupported" notes;
* **what is it?** (:func:`describe`: English name, script, family) for display and grouping.

The user's own code is never rewritten for display: :attr:`LanguageInfo.code` keeps it, and
:func:`label` shows ``"arb (Arabic)"``.

Rules (each one a table of ``langcodes``):

1. ``_`` and ``-`` separate subtags alike; case does not matter (``zho_Hans`` = ``zh-Hans``).
2. Three-letter codes become their ISO 639-1 form where one exists (``eng`` -> ``en``, ``deu``/``ger`` -> ``de``),
   deprecated codes their replacement (``iw`` -> ``he``, ``tgl`` -> ``fil``, ``kzj`` -> ``dtp``), and an individual
   language of a macrolanguage that CLDR treats as the macrolanguage becomes it (``cmn`` -> ``zh``,
   ``arb`` -> ``ar``, ``swh`` -> ``sw``, ``pes`` -> ``fa``, ``zsm`` -> ``ms``): ``standardize_tag(macro=True)``.
3. Two languages are the same when their language subtags are equal after rule 2, or CLDR's
   language-matching distance between them is at most 1 (only ``nb`` ~ ``no``: Bokmål is the written
   Norwegian that CLDR matches to ``no``; Nynorsk ``nn`` stays apart, distance 20).
4. The script is the one written (``zho_Hant``) or else the likely one for the language and region
   (``zho-TW`` -> ``Hant``, ``zh`` -> ``Hans``, ``sr`` -> ``Cyrl``): CLDR likely subtags.
5. A card entry with no script or region (``zh``) covers every script and region of its language; an
   entry with one (``zh-TW``, ``sr-Latn``) covers only codes of the same likely script.
6. Codes the tables do not know (``xyz``, ``my-lang``) are kept as written and only equal themselves
   (case-insensitive); their name is the code, script and family ``unknown``.

Family: Glottolog 5.1's top-level family (:mod:`xlr.data.language_families`, generated from
glottolog-cldf), because ``langcodes`` has none; ``unknown`` outside that table.

>>> describe("arb").name, describe("arb").script, describe("arb").script_name, describe("arb").family
('Arabic', 'Arab', 'Arabic', 'Afro-Asiatic')
>>> match_key("zho-CN") == match_key("cmn") == match_key("zh_Hans") == "zh"
True
>>> match_key("zho-TW"), label("nob")
('zh-Hant', 'nob (Norwegian Bokmål)')
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

import langcodes
from langcodes.data_dicts import LANGUAGE_DISTANCES

from xlr.data.language_families import FAMILIES

__all__ = [
    "UNKNOWN",
    "LanguageInfo",
    "covered",
    "describe",
    "AmbiguousLanguage",
    "label",
    "match_key",
    "pick",
    "same_language",
    "uncovered",
]

UNKNOWN = "unknown"


class AmbiguousLanguage(ValueError):
    """A code that names several of the available languages equally well (``en`` among ``eng-GB``, ``eng-US``)."""


_FAMILY_OF = {lang: fam for fam, langs in FAMILIES.items() for lang in langs.split()}


@dataclass(frozen=True)
class LanguageInfo:
    """What one written code means.

    ``code`` is the code as written; ``tag`` its canonical BCP-47 form (rule 2; the code itself, lower-cased,
    when unknown); ``language`` the matching language subtag (rules 2-3); ``script`` the ISO 15924 script
    (rule 4; ``""`` when unknown) and ``explicit`` whether the code named a script or region itself.
    """

    code: str
    tag: str
    language: str
    script: str
    explicit: bool
    region: str
    name: str
    script_name: str
    family: str
    known: bool

    @property
    def label(self) -> str:
        """``"arb (Arabic)"``; the bare code when unknown."""
        return f"{self.code} ({self.name})" if self.known else self.code


def _same_as(language: str) -> str:
    """The representative of ``language``'s rule-3 class: the alphabetically first subtag at CLDR distance <= 1."""
    near = LANGUAGE_DISTANCES.get(language, {})
    return min([language] + [other for other, d in near.items() if isinstance(d, int) and d <= 1])


@lru_cache(maxsize=4096)
def describe(code: str) -> LanguageInfo:
    """Parse ``code`` (any of the forms above) into a :class:`LanguageInfo`; never raises for a string.

    >>> describe("zho_Hant").tag, describe("eng-Latn").tag, describe("zho-CN").script
    ('zh-Hant', 'en', 'Hans')
    """
    written = code.strip()
    raw = written.replace("_", "-")
    try:
        tag = langcodes.standardize_tag(raw, macro=True)
        lang = langcodes.Language.get(tag)
    except (ValueError, LookupError):
        return _unknown(written)
    if not lang.language or not lang.is_valid() or lang.language in {"und", "zxx", "mul", "mis"}:
        return _unknown(written)
    script = lang.script or (langcodes.Language.get(tag).maximize().script or "")
    explicit = bool(lang.script or lang.territory)
    # "eng-Latn": the written script is the language's default, so the canonical tag drops it
    if lang.script and not lang.territory:
        default = langcodes.Language.get(lang.language).maximize().script
        if default == lang.script:
            tag, explicit = lang.language, False
    return LanguageInfo(
        code=written,
        tag=tag,
        language=_same_as(lang.language),
        script=script,
        explicit=explicit,
        region=lang.territory or "",
        name=langcodes.Language.get(lang.language).display_name(),
        script_name=langcodes.Language.get(f"und-{script}").script_name() if script else UNKNOWN,
        family=_FAMILY_OF.get(lang.language, UNKNOWN),
        known=True,
    )


def _unknown(written: str) -> LanguageInfo:
    low = written.lower()
    return LanguageInfo(written, low, low, "", False, "", written, UNKNOWN, UNKNOWN, False)


@lru_cache(maxsize=4096)
def match_key(code: str) -> str:
    """A key equal for two codes of the same language and script, for dictionaries and filters.

    The language subtag (rules 2-3), plus ``-<Script>`` when the script differs from the language's default
    (``zh-Hant``, ``sr-Latn``); the region is dropped.  Unknown codes: the code lower-cased.

    >>> [match_key(c) for c in ("en", "eng", "eng_Latn", "ar", "ara", "arb", "no", "nob", "srp_Latn")]
    ['en', 'en', 'en', 'ar', 'ar', 'ar', 'nb', 'nb', 'sr-Latn']
    """
    info = describe(code)
    if not info.known:
        return info.language
    default = langcodes.Language.get(info.language).maximize().script
    return info.language if info.script in {"", default} else f"{info.language}-{info.script}"


def same_language(a: str, b: str) -> bool:
    """Whether ``a`` and ``b`` name the same language, whatever the script or region (rules 2, 3, 6)."""
    return describe(a).language == describe(b).language


def covered(code: str, card: Iterable[str]) -> bool:
    """Whether a model card listing ``card`` (codes in any form) covers ``code`` (rule 5).

    >>> covered("deu", ("de", "en")), covered("ell", ("de", "en")), covered("zho_Hant", ("zh-CN",))
    (True, False, False)
    """
    q = describe(code)
    for entry in card:
        c = describe(entry)
        if c.language != q.language:
            continue
        if not c.explicit or c.script == q.script:
            return True
    return False


def uncovered(codes: Iterable[str], card: Iterable[str] | None) -> tuple[str, ...]:
    """The codes among ``codes`` that ``card`` does not cover, as written, sorted and unique.

    ``card=None`` (a card that lists too many languages to enumerate) covers everything.
    """
    if card is None:
        return ()
    entries = tuple(card)
    return tuple(sorted({c for c in codes if not covered(c, entries)}))


def label(code: str) -> str:
    """The user's code with the English name, for display: ``"zho-CN (Chinese)"``."""
    return describe(code).label


def pick(code: str, available: Iterable[str]) -> str | None:
    """The one code of ``available`` that ``code`` names, as ``available`` writes it; ``None`` when none does.

    An exact match wins; then the codes with the same :func:`match_key` (``sw`` -> ``swa``, ``en`` ->
    ``eng_Latn``); among several, the one without a script or region of its own (``en`` -> ``eng`` beside
    ``eng-GB``); then the codes of the same language (``zh`` -> ``zho_Hant`` when it is the only Chinese).
    Still several: :class:`AmbiguousLanguage` listing them.

    >>> pick("sw", ["swa", "eng"]), pick("en", ["eng", "eng-GB", "eng-US"]), pick("el", ["deu"])
    ('swa', 'eng', None)
    """
    langs = list(dict.fromkeys(available))
    if code in langs:
        return code
    key = match_key(code)
    for group in (
        [a for a in langs if match_key(a) == key],
        [a for a in langs if same_language(a, code)],
    ):
        if len(group) > 1:
            plain = [a for a in group if not describe(a).explicit]
            group = plain if len(plain) == 1 else group
        if len(group) == 1:
            return group[0]
        if group:
            raise AmbiguousLanguage(f"language {code!r} could be any of {', '.join(group)}: name one of them")
    return None
