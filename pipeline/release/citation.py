"""How to cite the dataset and its source, declared once: CITATION.cff (the release's copy and the one at
the repository root, where GitHub's "Cite this repository" reads it), .zenodo.json, and the BibTeX and
APA forms on the page, in the dataset card and in the README.

Everything comes from pyproject.toml (title, version, description, keywords, licence), raw/manifest.yaml
(the source letter: title, publisher, date, index number, disclosure catalogue, address) and the
catalog's English for the document (`figures.yaml` `document:`). The date is the release's.
"""

from __future__ import annotations

import json
from datetime import date
from functools import cache
from typing import Any

import yaml

from pipeline import config, metadata
from pipeline.release import project

TITLE = "Baoshan resettlement sites: every figure in one government reply"
LICENCE_ID = "CC-BY-4.0"
LICENCE_URL = "https://creativecommons.org/licenses/by/4.0/"
ROOT_CITATION = config.ROOT / "CITATION.cff"
ROOT_ZENODO = config.ROOT / ".zenodo.json"


@cache
def manifest() -> dict[str, Any]:
    from pipeline.stages.ingest import load_manifest

    return load_manifest()


def source() -> dict[str, Any]:
    """The source letter, as the manifest and the catalog describe it publicly."""
    raw, english = manifest(), metadata.figures()["document"]
    return {"title_zh": raw["title_zh"], "title_en": raw["title_en"],
            "publisher_zh": raw["publisher_zh"], "publisher_en": english["publisher_en"],
            "date": raw["publication_date"], "index_number": raw["index_number"],
            "catalogue_zh": raw["catalogue_zh"], "catalogue_en": english["catalogue_en"],
            "platform": raw["platform"], "url": raw.get("source_url")}


def title() -> str:
    return f"{config.DATASET_NAME}: {TITLE}"


def source_reference() -> dict[str, Any]:
    """The source letter as a CFF reference."""
    letter = source()
    publisher = f"{letter['publisher_zh']} ({letter['publisher_en']})"
    reference: dict[str, Any] = {
        "type": "government-document",
        "title": letter["title_zh"],
        "authors": [{"name": publisher}],
        "publisher": {"name": publisher},
        "date-published": letter["date"],
        "year": int(letter["date"][:4]),
        "collection-title": f"{letter['catalogue_zh']} ({letter['catalogue_en']})",
        "identifiers": [{"type": "other", "value": letter["index_number"], "description": "Index number (索引号)"}],
        "languages": ["zh"],
        "notes": f"{letter['title_en']}. Published on {letter['platform']}, in the disclosure catalogue "
                 f"{letter['catalogue_zh']} ({letter['catalogue_en']}), index number {letter['index_number']}.",
    }
    if letter["url"]:
        reference["url"] = letter["url"]
    return reference


def cff(released: str) -> dict[str, Any]:
    """CITATION.cff (CFF 1.2.0) as a mapping."""
    version = config.version()
    authors = [{"name": project.AUTHOR}]
    keywords = list(project.pyproject().get("keywords", []))
    result: dict[str, Any] = {
        "cff-version": "1.2.0",
        "message": "If you use this dataset, please cite it as below, and cite the source letter it is based on.",
        "type": "dataset",
        "title": title(),
        "version": version,
        "date-released": released,
        "license": LICENCE_ID,
        "abstract": project.description(),
        "authors": authors,
        "keywords": keywords,
        "preferred-citation": {"type": "data", "title": title(), "authors": [*authors], "version": version,
                               "date-released": released, "year": int(released[:4]), "license": LICENCE_ID,
                               "keywords": [*keywords]},
        "references": [source_reference()],
    }
    if project.release_base_url():
        url = f"{project.release_base_url()}/v{version}/"
        result["url"] = result["preferred-citation"]["url"] = url
    return result


def cff_text(released: str) -> str:
    return yaml.dump(cff(released), Dumper=NoAliases, allow_unicode=True, sort_keys=False, width=1000)


class NoAliases(yaml.SafeDumper):
    """Every value written out in full: no `&id001` anchors, which some CFF readers do not follow."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def bibtex(released: str) -> str:
    """The dataset as a BibTeX @misc entry (Croissant's `citeAs` takes this form too)."""
    version = config.version()
    fields = [("title", title()), ("author", f"{{{project.AUTHOR}}}"), ("year", released[:4]),
              ("version", version), ("note", f"Data set, version {version}, released {released}. Based on "
                                             f"{source()['publisher_en']}, {source()['title_en']}, "
                                             f"{source()['date']}, index number {source()['index_number']}"),
              ("license", LICENCE_ID)]
    if project.release_base_url():
        fields.append(("url", f"{project.release_base_url()}/v{version}/"))
    body = ",\n".join(f"  {key} = {{{value}}}" for key, value in fields)
    return f"@misc{{{project.release_name(version)},\n{body}\n}}"


def apa(released: str) -> str:
    """The dataset in APA style (7th edition, data set)."""
    version = config.version()
    url = f" {project.release_base_url()}/v{version}/" if project.release_base_url() else ""
    return f"{project.AUTHOR}. ({released[:4]}). {title()} (Version {version}) [Data set].{url}"


def apa_date(iso: str) -> str:
    """2021-07-29 as APA writes it: 2021, July 29."""
    day = date.fromisoformat(iso)
    return f"{day.year}, {day:%B} {day.day}"


def source_apa() -> str:
    """The source letter in APA style."""
    letter = source()
    url = f" {letter['url']}" if letter["url"] else ""
    return (f"{letter['publisher_zh']} [{letter['publisher_en']}]. ({apa_date(letter['date'])}). {letter['title_zh']} "
            f"[{letter['title_en']}] (Index No. {letter['index_number']}).{url}")


def zenodo(released: str) -> dict[str, Any]:
    """.zenodo.json for Zenodo's GitHub integration."""
    letter = source()
    related = [{"identifier": f"{project.release_base_url()}/v{config.version()}/", "relation": "isIdenticalTo",
                "resource_type": "dataset", "scheme": "url"}] if project.release_base_url() else []
    if letter["url"]:
        related.append({"identifier": letter["url"], "relation": "isDerivedFrom", "resource_type": "publication",
                        "scheme": "url"})
    result: dict[str, Any] = {
        "title": title(),
        "upload_type": "dataset",
        "description": project.description(),
        "creators": [{"name": project.AUTHOR}],
        "license": LICENCE_ID.lower(),
        "keywords": list(project.pyproject().get("keywords", [])),
        "version": config.version(),
        "publication_date": released,
        "language": "eng",
        "references": [source_apa()],
        "notes": f"Based on {letter['title_zh']} ({letter['title_en']}), published by {letter['publisher_zh']} "
                 f"({letter['publisher_en']}) on {letter['date']}, index number {letter['index_number']}, "
                 f"disclosure catalogue {letter['catalogue_zh']} ({letter['catalogue_en']}).",
    }
    if related:
        result["related_identifiers"] = related
    return result


def zenodo_text(released: str) -> str:
    return json.dumps(zenodo(released), ensure_ascii=False, indent=2) + "\n"
