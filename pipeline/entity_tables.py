"""Rows of the places, place_mentions, referenced_documents and glossary tables, and the English
and place_id of named_items: what extract found in the text, joined to the curated catalog, the
division-code reference and generated pinyin. Used by the tables stage."""

from __future__ import annotations

import re

from pipeline import metadata, reference

ADMINISTRATIVE = ("province", "prefecture", "county")


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")


def _suffix(name_zh: str, place_class: str) -> str:
    suffixes = [s for cls in metadata.entities()["place_classes"].values() for s in cls]
    if place_class == "settlement_site":
        return ""
    return max((s for s in suffixes if name_zh.endswith(s)), key=len, default="")


def _levels(found: list[dict]) -> dict[str, tuple[str, str | None]]:
    """{name: (level, admin code)}: 市 resolves to a prefecture or a county-level city by the reference."""
    result: dict[str, tuple[str, str | None]] = {}
    for place in found:
        name, cls = place["name_zh"], place["place_class"]
        if cls == "province":
            result[name] = ("province", reference.province(name))
        elif cls == "city" and (code := reference.prefecture(name)):
            result[name] = ("prefecture", code)
    prefectures = [code for level, code in result.values() if level == "prefecture" and code]
    for place in found:
        name, cls = place["name_zh"], place["place_class"]
        if cls in ("city", "county") and name not in result:
            result[name] = ("county", reference.county(name, prefectures))
        elif name not in result:
            result[name] = (cls, None)
    for code in prefectures:
        for name, county_code in reference.counties_of(code).items():
            result.setdefault(name, ("county", county_code))
    return result


def _curated(mapping: dict) -> dict:
    return {metadata.catalog_key(name): value for name, value in mapping.items()}


def place_rows(extracted: dict) -> tuple[list[dict], dict[str, str]]:
    """Rows of places, and {name as found in the text: place_id}."""
    found = {p["name_zh"]: p for p in extracted["places"]}
    levels = _levels(extracted["places"])
    by_key = _curated(metadata.entities()["places"])
    curated = {name: by_key.get(metadata.catalog_key(name), {}) for name in levels}
    mentions: dict[str, list[dict]] = {}
    for mention in extracted["place_mentions"]:
        mentions.setdefault(mention["name_zh"], []).append(mention)
    ids = {name: _slug(curated.get(name, {}).get("en") or reference.place_pinyin(name, "")) for name in levels}
    by_code = {code: name for name, (_, code) in levels.items() if code}
    rows = []
    for name, (level, code) in levels.items():
        place, entry = found.get(name, {}), curated.get(name, {})
        full_name = entry.get("full_zh", name)
        parent = place.get("parent_zh") or entry.get("parent")
        if parent is None and level == "county" and code:
            parent = by_code.get(code[:4] + "00")
        elif parent is None and level == "prefecture" and code:
            parent = by_code.get(code[:2] + "0000")
        seen = mentions.get(name, [])
        first = seen[0] if seen else {}
        rows.append({
            "place_id": ids[name], "name_zh": full_name, "name_en": entry.get("en"),
            "pinyin": reference.place_pinyin(full_name, _suffix(full_name, level), entry.get("readings")),
            "level": level, "parent_place_id": ids.get(parent) if parent else None,
            "admin_code": code if level in ADMINISTRATIVE else None,
            "mentioned": bool(seen), "mention_count": len(seen),
            "first_quote": first.get("quote"), "first_char_start": first.get("char_start"),
            "first_char_end": first.get("char_end"),
            "found_by": _found_by(place.get("found_by")), "note": entry.get("note"),
        })
    order = {level: i for i, level in enumerate(metadata.label_vocabularies()["place_level"])}
    rows.sort(key=lambda r: (order[r["level"]], r["admin_code"] or "", r["first_char_start"] or 0, r["place_id"]))
    return rows, ids


def _found_by(how: str | None) -> str:
    if how is None:
        return "division_reference"
    return "settlement_site_list" if how.startswith("list:") else how


def place_mention_rows(extracted: dict, ids: dict[str, str]) -> list[dict]:
    """Each mention of a place, joined to places by place_id (the name it was found under is not kept)."""
    return [{**{k: v for k, v in m.items() if k != "name_zh"}, "place_id": ids[m["name_zh"]]}
            for m in extracted["place_mentions"]]


def named_item_rows(extracted: dict, ids: dict[str, str]) -> list[dict]:
    translations = {entry["list_id"]: _curated(entry.get("names_en", {})) for entry in metadata.figures()["lists"]}
    return [{**{k: v for k, v in item.items() if k != "place_name_zh"},
             "name_en": translations.get(item["list_id"], {}).get(metadata.catalog_key(item["name_zh"])),
             "place_id": ids.get(item.get("place_name_zh"))} for item in extracted["named_items"]]


def curated_titles() -> dict:
    """The curated English of cited titles, keyed by metadata.catalog_key of the Chinese."""
    return _curated(metadata.entities()["documents"]["titles"])


def document_rows(extracted: dict) -> list[dict]:
    spec = metadata.entities()["documents"]
    titles, issuers = curated_titles(), _curated(spec["issuers"])
    rows = []
    for ref in extracted["referenced_documents"]:
        title = ref["title_zh"] or ""
        kind = next((k for ending, k in spec["types"].items() if title.endswith(ending)), "other")
        rows.append({**ref, "title_en": titles.get(metadata.catalog_key(title)), "document_type": kind,
                     "issuer_en": issuers.get(metadata.catalog_key(ref["issuer_zh"] or ""))})
    return rows


def glossary_rows(extracted: dict) -> list[dict]:
    found = {row["term_id"]: row for row in extracted["glossary"]}
    return [{**{k: term[k] for k in ("term_id", "term_zh", "term_en", "definition_en", "source")},
             "pinyin": reference.term_pinyin(term["term_zh"], term.get("readings")), **found[term["term_id"]]}
            for term in metadata.glossary() if term["term_id"] in found]
