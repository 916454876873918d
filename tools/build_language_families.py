"""Regenerate ``xlr/data/language_families.py`` from Glottolog's CLDF release.

Usage: ``python tools/build_language_families.py /path/to/glottolog-cldf > xlr/data/language_families.py``,
then ``ruff format xlr/data/language_families.py``
(the repository github.com/glottolog/glottolog-cldf, release 5.1; ``cldf/languages.csv``).

Scope: the ISO 639-1 languages plus every language of the named data sets (Tatoeba 112, NTREX-128,
XQuAD), keyed by the normalised language subtag of :mod:`xlr.data.languages`.  A macrolanguage
(``zh``, ``ar``, ``fa``, ...), which Glottolog does not list, takes the family its member languages
share most often (from ``langcodes``' macrolanguage table).  Glottolog's isolates are filed under ``isolate``.
"""

from __future__ import annotations

import csv
import json
import sys
import textwrap
from collections import Counter, defaultdict
from pathlib import Path

import langcodes
from langcodes.data_dicts import LANGUAGE_ALPHA3, MACROLANGUAGES

TATOEBA = (
    "afr amh ang ara arq arz ast awa aze bel ben ber bos bre bul cat cbk ceb ces cha cmn cor csb cym dan deu dsb "
    "dtp ell epo est eus fao fin fra fry gla gle glg gsw heb hin hrv hsb hun hye ido ile ina ind isl ita jav jpn kab "
    "kat kaz khm kor kur kzj lat lfn lit lvs mal mar max mhr mkd mon nds nld nno nob nov oci orv pam pes pms pol por "
    "ron rus slk slv spa sqi srp swe swg swh tam tat tel tgl tha tuk tur tzl uig ukr urd uzb vie war wuu xho yid yue "
    "zsm eng"
)
NTREX = (
    "afr amh arb aze bak bel bem ben bod bos bul cat ces ckb cym dan deu div dzo ell eng est eus ewe fao fas fij fil "
    "fin fra fuc gle glg guj hau heb hin hmn hrv hun hye ibo ind isl ita jpn kan kat kaz khm kin kir kmr kor lao lav "
    "lit ltz mal mar mey mkd mlg mlt mon mri msa mya nde nep nld nno nob nso nya orm pan pol por prs pus ron rus shi "
    "sin slk slv smo sna snd som spa sqi srp ssw swa swe tah tam tat tel tgk tha tir ton tsn tuk tur uig ukr urd uzb "
    "ven vie wol xho yor yue zho zul gsw"
)
XQUAD = "ar de el en es hi ro ru th tr vi zh"


def key(code: str) -> str:
    return langcodes.Language.get(langcodes.standardize_tag(code, macro=True)).language or code


def main(root: Path) -> None:
    rows = list(csv.DictReader((root / "cldf" / "languages.csv").open(encoding="utf-8")))
    names = {r["ID"]: r["Name"] for r in rows}
    by_iso: dict[str, str] = {}
    for r in rows:
        iso = r["ISO639P3code"]
        if not iso or r["Level"] == "family":
            continue
        if r["Is_Isolate"] == "true":
            by_iso[iso] = "isolate"
        elif r["Family_ID"]:
            by_iso[iso] = names[r["Family_ID"]]
    members: dict[str, list[str]] = defaultdict(list)
    for member, macro in MACROLANGUAGES.items():
        members[key(macro)].append(member)
    wanted = {key(c) for c in (TATOEBA + " " + NTREX + " " + XQUAD).split()}
    wanted |= {k for k in LANGUAGE_ALPHA3 if len(k) == 2}
    out: dict[str, list[str]] = defaultdict(list)
    for k in sorted(wanted):
        alpha3 = langcodes.Language.get(k).to_alpha3()
        fam = by_iso.get(alpha3) or by_iso.get(k)
        if fam is None:
            fams = Counter(
                by_iso[m3] for m in members.get(k, []) if (m3 := langcodes.Language.get(m).to_alpha3()) in by_iso
            )
            fam = fams.most_common(1)[0][0] if fams else None
        if fam is not None:
            out[fam].append(k)
    print('"""Language family per normalised language subtag (generated; do not edit by hand).')
    print()
    print("Source: Glottolog 5.1 (glottolog/glottolog-cldf, cldf/languages.csv; CC BY 4.0), top-level family")
    print("of each language; macrolanguages take their members' most common family. Regenerate with")
    print("``tools/build_language_families.py``. Languages outside this table have family ``unknown``.")
    print('"""')
    print()
    print("FAMILIES: dict[str, str] = {  # family -> space-separated language subtags")
    for fam in sorted(out, key=lambda f: (-len(out[f]), f)):
        text = " ".join(out[fam])
        lines = textwrap.wrap(text, 100)
        print(f"    {json.dumps(fam)}: (")
        for i, line in enumerate(lines):
            sep = " " if i < len(lines) - 1 else ""
            print(f"        {json.dumps(line + sep)}")
        print("    ),")
    print("}")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
