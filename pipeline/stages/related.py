"""Stage 2b, related: the other public texts that report the letter's figures -> their figures, with provenance.

Each text in raw/related/ has its entry in raw/manifest.yaml (`related_documents`) and its catalog folder,
pipeline/catalog/documents/<document_id>/. A text is read like the letter: its hash must match its entry,
the tokenizer finds every number, an anchor (never a value) says which mention is which figure, and a
quantity that is neither a figure nor a classified non-figure fails the build. Every problem names its
document; the letter's own stages do not read this one, so the letter's tables do not depend on it.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
from pathlib import Path

from pipeline import config, metadata, reference, translation
from pipeline.errors import InputError, ValidationFailed, join_capped, report
from pipeline.numbers import decimals, iso_date, iter_mentions
from pipeline.stages.extract import Resolver, SpanIndex, account
from pipeline.stages.ingest import decode, load_manifest, read_raw, split_sentences

FULLWIDTH_DIGITS = str.maketrans("０１２３４５６７８９", "0123456789")
RELATED_RAW = "related"  # raw/related/: the other texts, byte for byte
SECTION = "body"  # another text has no layout of the letter's: it is one section


def raw_path(entry: dict) -> Path:
    return config.RAW_DIR / RELATED_RAW / entry["file"]


def read_text(entry: dict) -> tuple[str, str, bytes]:
    """The document's text, its encoding and its bytes; one InputError (exit 2) naming the document."""
    path = raw_path(entry)
    where = f"document {entry['document_id']} (raw/{RELATED_RAW}/{entry['file']})"
    if path.is_symlink():
        raise InputError(f"{where} is a link; a source text is a regular file in raw/{RELATED_RAW}/.")
    if not path.is_file():
        raise InputError(f"{where} is missing or not a regular file; restore it (git checkout), or remove its entry "
                         "from raw/manifest.yaml together with its catalog folder.")
    try:
        raw = read_raw(path)
    except InputError as error:
        raise InputError(f"{where}: {error.args[0]}") from None
    digest = hashlib.sha256(raw).hexdigest()
    if digest != entry["sha256"] or len(raw) != entry["bytes"]:
        raise InputError(
            f"{where} does not match its entry in raw/manifest.yaml (sha256 {digest}, {len(raw)} bytes; the entry "
            f"has {entry['sha256']}, {entry['bytes']} bytes). A source text stays byte for byte what was "
            "retrieved; if you replaced it on purpose, record the new hash and size in its entry and commit both.")
    try:
        text, encoding = decode(raw, entry.get("encoding"))
    except InputError as error:
        raise InputError(f"{where}: {error.args[0]}") from None
    if not text.strip():
        raise InputError(f"{where} holds no text, only blanks; a related text reports figures of the letter.")
    return text, encoding, raw


def catalog_of(entry: dict) -> dict:
    """The document's catalog folder, which must name this document and no other."""
    document_id = entry["document_id"]
    try:
        catalog = metadata.related_catalog(document_id)
    except ValidationFailed as error:
        raise ValidationFailed(f"document {document_id}: {error.args[0]}") from None
    if catalog["document_id"] != document_id:
        raise ValidationFailed(
            f"check related_catalog failed: document {document_id}: its catalog "
            f"({metadata.catalog_file(f'{metadata.RELATED_FOLDER}/{document_id}/figures.yaml')}) names document "
            f"{catalog['document_id']!r}; a folder holds the catalog of the document it is named after.")
    return catalog


def resolve(resolver: Resolver, catalog: dict, entry: dict, sentences: list[dict]) -> tuple[list[dict], dict]:
    """Each declared figure's mention, period and area; and the claims that account for mentions."""
    sentence_at = SpanIndex(sentences)
    figures, claims = [], {}
    for spec in catalog["figures"]:
        who = f"{spec['figure_id']} ({spec['metric_en']})"
        mention = resolver.figure(spec["find"], SECTION, who, spec["unit"], claims, spec["figure_id"])
        if mention is None:
            continue
        sentence = sentence_at.at(mention.char_start)
        figure = {
            "document_id": entry["document_id"], "figure_id": spec["figure_id"],
            "metric_zh": spec["metric_zh"], "metric_en": spec["metric_en"],
            "population_zh": spec["population_zh"], "population_en": spec["population_en"],
            "letter_population": spec.get("population"),
            "value": mention.value, "value_max": mention.value_max, "unit": spec["unit"],
            "qualifier": spec.get("qualifier") or mention.qualifier, "decimals": decimals(mention.text),
            "area_zh": spec.get("area_zh") or catalog["area_zh"], "area_en": spec.get("area_en") or catalog["area_en"],
            "note_en": spec.get("note_en"), "note_zh": spec.get("note_zh"),
            "quote": mention.text, "char_start": mention.char_start, "char_end": mention.char_end,
            "sentence_id": sentence["sentence_id"], "sentence_zh": sentence["text_zh"],
            "sentence_char_start": sentence["char_start"], "sentence_char_end": sentence["char_end"],
            **period(resolver, spec, entry, sentence, who),
        }
        figures.append(figure)
    for spec in catalog.get("non_figures", []):
        mention = resolver.one(spec["find"], SECTION, f"non-figure {spec['find']!r}")
        if mention is None:
            continue
        index = resolver.index_of[mention.char_start]
        if mention.kind != "quantity":
            resolver.errors.append(f"non-figure {spec['find']!r}: {mention.text!r} is a {mention.kind}, which the "
                                   "tokenizer already accounts for; remove the entry")
            continue
        if index in claims:
            resolver.errors.append(f"non-figure {spec['find']!r}: {mention.text!r} is already claimed by "
                                   f"{claims[index][0]}")
            continue
        claims[index] = (spec["kind"], spec["reason"])
    return figures, claims


def period(resolver: Resolver, spec: dict, entry: dict, sentence: dict, who: str) -> dict:
    """as_of and where it comes from: a date, year or range of years of the text (as_of_find); the document's
    publication date (as_of: publication_date); or a period the catalog states (as_of: an ISO period) for
    a date the text writes without its year, with as_of_find at that date: every number of the date must be
    one of the period's, so the period stays tied to the text."""
    none = {"as_of": None, "as_of_basis": None, "as_of_quote": None, "as_of_char_start": None, "as_of_char_end": None}
    declared = spec.get("as_of")
    if declared == "publication_date":
        if entry.get("publication_date") is None:
            resolver.periods.append(f"{who}: as_of is publication_date, but its manifest entry gives none")
        return {**none, "as_of": entry.get("publication_date"), "as_of_basis": "publication_date"}
    mention = resolver.one(spec["as_of_find"], SECTION, f"{who}: as_of_find")
    if mention is None:
        return none
    numbers = [int(n) for n in re.findall(r"\d+", mention.text.translate(FULLWIDTH_DIGITS))]
    if declared is not None:
        parts = [int(n) for n in re.findall(r"\d+", declared)]
        if not numbers or any(n not in parts for n in numbers):
            resolver.periods.append(f"{who}: as_of {declared!r} does not hold the date the text gives, "
                                    f"{mention.text!r}")
            return none
        as_of, basis = declared, "curated"
    else:
        as_of = iso_date(mention.text) if mention.kind in ("date", "year") else \
            f"{mention.value:.0f}/{mention.value_max:.0f}" if mention.kind == "date_range" else None
        basis = None
        if as_of is None:
            resolver.periods.append(f"{who}: as_of_find points at {mention.text!r}, a {mention.kind} without a "
                                    "year; give the period as as_of (an ISO period holding the date's numbers)")
            return none
    inside = sentence["char_start"] <= mention.char_start < sentence["char_end"]
    return {"as_of": as_of, "as_of_basis": basis or ("stated_in_sentence" if inside else "stated_in_text"),
            "as_of_quote": mention.text, "as_of_char_start": mention.char_start, "as_of_char_end": mention.char_end}


def english(figures: list[dict], mention_rows: list[dict], sentences: list[dict], catalog: dict) -> list[str]:
    """Each figure's sentence in English, rendered from the folder's translations.yaml; the problems."""
    with_figures = {figure["sentence_id"] for figure in figures}
    chosen = [s for s in sentences if s["sentence_id"] in with_figures]
    rendered, problems = translation.translate(chosen, mention_rows, catalog["translations"], decimals,
                                               reference.romanize)
    for figure in figures:
        figure["sentence_en"] = rendered.get(figure["sentence_id"])
    return problems


def document(entry: dict) -> dict:
    """One related document read, resolved and accounted for; a ValidationFailed names the document."""
    text, encoding, raw = read_text(entry)
    catalog = catalog_of(entry)
    sections = [{"section_id": SECTION, "char_start": 0, "char_end": len(text)}]
    sentences = split_sentences(text, sections)
    mentions = [m for m in iter_mentions(text) if m.kind != "word"]
    resolver = Resolver(text, mentions, sections)
    resolver.periods = []
    figures, claims = resolve(resolver, catalog, entry, sentences)
    rows, unaccounted = account(mentions, claims, sections, sentences)
    problems = []
    if resolver.errors:
        problems.append("check anchors_resolve failed: these figures could not be found exactly once:\n  "
                        + join_capped(resolver.errors))
    if resolver.periods:
        problems.append("check related_period failed: these figures' periods cannot be read:\n  "
                        + join_capped(resolver.periods))
    if unaccounted:
        problems.append("check every_number_accounted failed: these quantities are neither a figure nor a classified "
                        "non-figure; add them to its catalog folder's figures.yaml:\n  " + join_capped(unaccounted))
    paired = {pair["figure_id"] for pair in catalog["corroborations"]}
    unpaired = [f"{f['figure_id']} ({f['quote']!r})" for f in figures if f["figure_id"] not in paired]
    if unpaired:
        problems.append("check related_figure_paired failed: these figures are set beside no figure of the letter; "
                        "pair them in corroborations.yaml, or account for them under non_figures:\n  "
                        + join_capped(unpaired))
    if not problems:
        problems += english(figures, rows, sentences, catalog)
    if problems:
        raise ValidationFailed(f"document {entry['document_id']} (raw/{RELATED_RAW}/{entry['file']}):\n"
                               + "\n".join(problems))
    mention_rows = [{"document_id": entry["document_id"], "mention_id": row["mention_id"],
                     "sentence_id": row["sentence_id"], "char_start": row["char_start"], "char_end": row["char_end"],
                     "text": row["text"], "value": row["value"], "value_max": row["value_max"], "unit": row["unit"],
                     "qualifier": row["qualifier"], "kind": row["kind"], "figure_id": row["fact_id"],
                     "accounted_as": row["accounted_as"], "note": row["note"]} for row in rows]
    pairs = [{**pair, "document_id": entry["document_id"]} for pair in catalog["corroborations"]]
    return {"entry": {**entry, "encoding": encoding, "raw_bytes": len(raw), "characters": len(text)}, "text": text,
            "figures": figures, "mentions": mention_rows, "corroborations": pairs}


def related() -> dict:
    """Every related document of the manifest; a catalog folder without an entry is an error too."""
    entries = load_manifest().get("related_documents", [])
    known = {entry["document_id"] for entry in entries}
    strays = [name for name in metadata.related_folders() if name not in known]
    if strays:
        raise ValidationFailed(
            "check related_catalog failed: " + ", ".join(
                metadata.catalog_file(f"{metadata.RELATED_FOLDER}/{name}") for name in strays)
            + " names no document of raw/manifest.yaml `related_documents`; add the document's entry, or remove "
              "the folder.")
    documents, failures = [], []
    for entry in entries:  # every document's problems are reported together, each under its name
        try:
            documents.append(document(entry))
        except ValidationFailed as failed:
            failures.append(failed.args[0])
    if failures:
        raise ValidationFailed("\n\n".join(failures))
    return {key: [row for doc in documents for row in doc[key]] for key in ("figures", "mentions", "corroborations")} \
        | {"documents": [doc["entry"] for doc in documents], "texts": {doc["entry"]["document_id"]: doc["text"]
                                                                      for doc in documents}}


def run(out_path: Path | None = None) -> dict:
    out_path = out_path or config.build_paths(config.BUILD_DIR)["related"]
    result = related()
    out_path.parent.mkdir(parents=True, exist_ok=True)
    out_path.write_text(json.dumps(result, ensure_ascii=False, indent=1), encoding="utf-8")
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    result = run(args.out)
    print(f"related: {len(result['documents'])} documents, {len(result['figures'])} figures, "
          f"{len(result['mentions'])} mentions, {len(result['corroborations'])} corroborations")


if __name__ == "__main__":
    report(main)
