"""Language family per normalised language subtag (generated; do not edit by hand).

Source: Glottolog 5.1 (glottolog/glottolog-cldf, cldf/languages.csv; CC BY 4.0), top-level family
of each language; macrolanguages take their members' most common family. Regenerate with
``tools/build_language_families.py``. Languages outside this table have family ``unknown``.
"""

FAMILIES: dict[str, str] = {  # family -> space-separated language subtags
    "Indo-European": (
        "ae af an ang as ast awa be bg bi bn br bs ca cbk ckb co cs csb cu cy da de dsb dv el en es fa fo fr "
        "fy ga gd gl gsw gu gv hi hr hsb ht hy is it ks ku kw la lb li lt lv mk mo mr nb nds ne nl nn no oc "
        "or orv os pa pi pl pms ps pt rm ro ru sa sc sd sh si sk sl sq sr sv swg tg uk ur wa yi"
    ),
    "Atlantic-Congo": (
        "ak bem ee ff hz ig kg ki kj lg ln lu nd ng nr nso ny rn rw sg sn ss st sw tn ts tw ve wo xh yo zu"
    ),
    "Austronesian": ("ceb ch dtp fil fj id in jv jw max mg mh mi ms na pam sm su tl to ty war"),
    "Afro-Asiatic": ("aa am ar arq arz ha he iw kab mey mt om shi so ti"),
    "Turkic": ("az ba cv kk ky tk tr tt ug uz"),
    "Artificial Language": ("eo ia ie io lfn nov tzl vo"),
    "Sino-Tibetan": ("bo dz ii my wuu yue zh"),
    "Uralic": ("chm et fi hu kv se"),
    "Dravidian": ("kn ml ta te"),
    "Eskimo-Aleut": ("ik iu kl"),
    "Tai-Kadai": ("lo th za"),
    "Algic": ("cr oj"),
    "Austroasiatic": ("km vi"),
    "Nakh-Daghestanian": ("av ce"),
    "Abkhaz-Adyge": ("ab"),
    "Athabaskan-Eyak-Tlingit": ("nv"),
    "Aymaran": ("ay"),
    "Hmong-Mien": ("hmn"),
    "Japonic": ("ja"),
    "Kartvelian": ("ka"),
    "Koreanic": ("ko"),
    "Mande": ("bm"),
    "Mongolic-Khitan": ("mn"),
    "Pidgin": ("ho"),
    "Quechuan": ("qu"),
    "Saharan": ("kr"),
    "Tupian": ("gn"),
    "isolate": ("eu"),
}
