"""The dataset page: one self-contained HTML file that shows every table and proves every figure.

Reads a published dataset directory (output/ or a release) and the raw text it was built from,
and writes site/index.html from the Jinja2 templates in templates/, with static/site.css,
static/site.js and the SVG charts (charts.py) inlined: no network access. The reading view shows
the letter sentence by sentence in Chinese and English with every figure highlighted in both;
every figure in a table, chart or check links to it.
"""

from __future__ import annotations

import argparse
import hashlib
import html
import os
import re
import tempfile
from functools import cache
from pathlib import Path

import jinja2
import pandas as pd
from markupsafe import Markup

from pipeline import config, metadata, numbers, reference, summary, translation
from pipeline.arrow import read_table
from pipeline.errors import InputError
from pipeline.site import charts, front, jsonld, values

HERE = Path(__file__).parent

HEADLINE_FACTS = [  # which figures the overview shows; their values come from the data
    "sites.total", "population.total.households", "population.total.persons",
    "services.elderly_care.coverage", "services.childrens_homes.coverage", "services.cemeteries.coverage",
]

# Tables of figures (facts and its per-section subsets) show what a reader needs first, ids and offsets last.
# The reader's columns are shown; the rest appear with the table's "all columns" switch.
READER_COLUMNS = ["metric_zh", "metric_en", "value", "value_max", "unit_zh", "unit_en", "as_of", "area_zh", "area_en",
                  "note_zh", "note_en"]
FIGURE_COLUMNS_FIRST = [*READER_COLUMNS, "qualifier_zh", "qualifier_en", "as_of_basis_zh", "as_of_basis_en", "quote"]
# How a column name reads as a header: words of the name, these replaced (the hover says what it means).
LABEL_WORDS = {"as of": "period", "ref area": "area", "char": "character", "pct": "%", "id": "ID", "zh": "",
               "en": "", "max": "up to"}
WIDTHS = [("long", 90), ("mid", 25)]  # a column whose longest cell has more characters gets that CSS width
AREA_COLUMNS = [  # shown next to ref_area_code: the name of the area, from places
    {"name": "area_zh", "type": "string", "description": "The area ref_area_code denotes: places.name_zh."},
    {"name": "area_en", "type": "string", "description": "The area ref_area_code denotes: places.name_en."},
]


@cache
def environment() -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(HERE / "templates"), autoescape=True,
                             undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True,
                             keep_trailing_newline=True)
    env.filters["v"] = values.text  # a cell that may be missing: empty, not "nan" or "None"
    return env


def static(name: str) -> Markup:
    """A file of static/, to inline in a <style> or <script> element (which it must not close)."""
    content = (HERE / "static" / name).read_text(encoding="utf-8")
    if re.search(r"</(style|script)", content, re.IGNORECASE):
        raise InputError(f"pipeline/site/static/{name} contains a closing </style> or </script> tag; "
                         "it is inlined into the page, where that would end its element.")
    return Markup(content)


# --- reading view --------------------------------------------------------------------------------

def records(df: pd.DataFrame) -> list[dict]:
    """Rows as dicts with None for missing values, as the translation module expects."""
    return df.astype(object).where(df.notna(), None).to_dict("records")


# How a figure's card introduces another text's figure: "also reported as" only where the two are one
# quantity (pipeline/corroborations.py); a comparable count elsewhere, or context, says so.
LEAD_EN = {"same": "also reported as", "differs": "also reported, with another value, as",
           "different_period": "at another time, reported as", "different_scope": "for another area or population:",
           "context": "related figure, not the same quantity:"}
LEAD_ZH = {"same": "亦见", "differs": "亦见(数值不同)", "different_period": "其他时期见",
           "different_scope": "其他范围见", "context": "相关数字见"}


def web_link(url: object) -> str:
    """An address from a published table as a link's target: only a web address, never javascript: or a
    file, since the table comes from outside the page; empty otherwise."""
    return url if isinstance(url, str) and url.startswith(("https://", "http://")) else ""


def also_reported(tables: dict[str, pd.DataFrame]) -> dict[str, list[dict]]:
    """{fact_id: the other documents' figures paired with it}, each with its document, value and status, for the
    figure's card: "also reported as … by …, date"."""
    documents = tables["documents"].set_index("document_id")
    figures = tables["related_figures"].set_index(["document_id", "figure_id"])
    result: dict[str, list[dict]] = {}
    for pair in records(tables["corroborations"]):
        document = documents.loc[pair["document_id"]]
        figure = figures.loc[(pair["document_id"], pair["figure_id"])]
        result.setdefault(pair["fact_id"], []).append({
            **pair, "value": values.fact_value(figure), "figure": figure, "document": document,
            # A title inside a title takes 〈〉 (GB/T 15834).
            "source_zh": values.text(document["publisher_zh"])
                         + f"《{document['title_zh'].replace('《', '〈').replace('》', '〉')}》",
            "lead_en": LEAD_EN[pair["status"]], "lead_zh": LEAD_ZH[pair["status"]],
            "source_en": (f"by {document['publisher_en']} " if not values.blank(document["publisher_en"]) else "")
                         + f"in “{document['title_en']}”",
            "date": values.text(document["publication_date"]) or "undated",
            "difference": values.number(pair["difference"]) if not values.blank(pair["difference"]) else "",
            "link": web_link(document["source_url"])})
    return result


def other_reports(tables: dict[str, pd.DataFrame], facts: pd.DataFrame, also: dict[str, list[dict]]) -> list[dict]:
    """Each related document with its pairs (`also`, by fact), in documents order, for the page's section on
    other reports."""
    by_document = {}
    for pairs in also.values():
        for pair in pairs:
            fact = facts.loc[pair["fact_id"]]
            by_document.setdefault(pair["document_id"], []).append(
                {**pair, "fact": fact, "letter_value": values.fact_value(fact), "other_value": pair["value"]})
    documents = records(tables["documents"].iloc[1:])
    result = []
    for document in documents:
        pairs = by_document.get(document["document_id"], [])
        statuses = list(dict.fromkeys(pair["status"] for pair in pairs))
        labels = metadata.label_vocabularies()["corroboration_status"]
        result.append({"document": document, "pairs": pairs, "statuses": [labels[status] for status in statuses],
                       "link": web_link(document["source_url"])})
    return result


def fact_card(fact_id: str, facts: pd.DataFrame, areas: pd.DataFrame, also: dict[str, list[dict]]) -> dict:
    fact = facts.loc[fact_id]
    area = areas.loc[fact["ref_area_code"]] if fact["ref_area_code"] in areas.index else None
    return {"fact_id": fact_id, "value": values.fact_value(fact), "fact": fact, "also": also.get(fact_id, []),
            "area_zh": "" if area is None else area["name_zh"], "area_en": "" if area is None else area["name_en"],
            "note": not values.blank(fact["note_en"]),
            "as_of_char_start": values.text(fact["as_of_char_start"]),
            "as_of_char_end": values.text(fact["as_of_char_end"])}


def chinese(sentence: dict, mentions: list[dict], facts: pd.DataFrame) -> Markup:
    """The sentence with every figure and every other number marked up."""
    mark = environment().get_template("mark.html.j2").module.mark
    out, position = Markup(), sentence["char_start"]
    text, offset = sentence["text_zh"], sentence["char_start"]
    for m in mentions:
        out += text[position - offset:m["char_start"] - offset]
        fact_id = m["fact_id"] if m["accounted_as"] == "figure" else None
        title = (f"{fact_id} — {facts.loc[fact_id, 'metric_en']} — {values.hedged(facts.loc[fact_id])}"
                 if fact_id else m["accounted_as_en"])
        out += mark(text[m["char_start"] - offset:m["char_end"] - offset], fact_id, "zh", title)
        position = m["char_end"]
    return out + text[position - offset:]


def english(sentence: dict, mentions: list[dict], facts: pd.DataFrame) -> Markup:
    """The sentence's English, rendered from its template with every figure and number marked up."""
    entry = metadata.translations().get(sentence["sentence_id"])
    mark = environment().get_template("mark.html.j2").module.mark
    slots = translation.slots_of(sentence, mentions, numbers.decimals)

    def wrap(slot: translation.Slot, text: str) -> str:
        if slot.kind == "figure":
            return str(mark(text, slot.name, "en", f"{slot.name} — {facts.loc[slot.name, 'metric_en']}"))
        return str(mark(text, None, "en", slot.kind.replace("_", " ")))

    if entry is None or translation.render(entry, slots, reference.romanize) != sentence["text_en"]:
        raise InputError(f"the English of sentence {sentence['sentence_id']} in this dataset is not what "
                         "pipeline/catalog/translations.yaml renders; build the page with the code that built "
                         "the dataset.")
    return Markup(translation.render(entry, slots, reference.romanize, wrap=wrap, escape=html.escape))


def reading_view(tables: dict[str, pd.DataFrame], facts: pd.DataFrame, areas: pd.DataFrame,
                 also: dict[str, list[dict]]) -> list[dict]:
    """The letter's sections, each with its sentences in both languages and the cards of their figures (with
    the other texts' figures paired with them, `also`)."""
    sections = tables["sections"].set_index("section_id")
    mentions = records(tables["mentions"].sort_values("char_start"))
    by_sentence: dict[str, list[dict]] = {}
    for m in mentions:
        by_sentence.setdefault(m["sentence_id"], []).append(m)
    result: list[dict] = []
    for sentence in records(tables["sentences"].sort_values("char_start")):
        if not result or result[-1]["id"] != sentence["section"]:
            section = sections.loc[sentence["section"]]
            result.append({"id": sentence["section"], "label_zh": sentence["section_zh"],
                           "title_zh": "" if values.blank(section["title_zh"]) else section["title_zh"],
                           "title_en": sentence["section_en"], "sentences": []})
        own = by_sentence.get(sentence["sentence_id"], [])
        result[-1]["sentences"].append({
            "id": sentence["sentence_id"], "zh": chinese(sentence, own, facts), "en": english(sentence, own, facts),
            "cards": [fact_card(m["fact_id"], facts, areas, also) for m in own if m["accounted_as"] == "figure"]})
    return result


# --- tables --------------------------------------------------------------------------------------

def display_columns(declared: dict) -> list[dict]:
    """The columns a table shows, readable ones first: labels and values, then ids and codes, then offsets.
    `<column>_fact_id` columns are not shown: the figure in `<column>` links to its quote instead."""
    columns = []
    for column in declared["columns"]:
        if column["name"].endswith("_fact_id"):
            continue
        columns.append(column)
        if column["name"] == "ref_area_code":
            columns += AREA_COLUMNS
    coded = {c["name"] for c in declared["columns"] if c.get("labels")}

    def rank(column: dict) -> int:
        name = column["name"]
        if "char_start" in name or "char_end" in name:
            return 3
        if name == "fact_id" or name.endswith("_id") or name.endswith("_code") or name in coded:
            return 2
        return 1

    names = [c["name"] for c in columns]
    figures = "metric_en" in names
    first = [c for name in FIGURE_COLUMNS_FIRST for c in columns if c["name"] == name] if figures else []
    rest = sorted((c for c in columns if c not in first), key=rank)
    shown = [{**c, "primary": c["name"] in READER_COLUMNS if figures else rank(c) == 1} for c in first + rest]
    if not any(c["primary"] for c in shown):
        shown = [{**c, "primary": True} for c in shown]
    return shown


def column_label(name: str) -> str:
    """The header of a column: its name in words (metric_en: Metric, as_of: Period, char_start: Character start)."""
    words = " " + name.replace("_", " ") + " "
    for old, new in LABEL_WORDS.items():
        words = words.replace(f" {old} ", f" {new} " if new else " ")
    words = " ".join(words.split())
    return words[:1].upper() + words[1:]


def table_view(name: str, df: pd.DataFrame, facts: pd.DataFrame, areas: pd.DataFrame, link_base: str) -> dict:
    declared = metadata.tables()[name]
    columns = display_columns(declared)
    fact_columns = {c["name"] for c in declared["columns"] if c["name"].endswith("_fact_id")}
    head = [{"name": c["name"], "description": c["description"], "label_en": column_label(c["name"]),
             "label_zh": c.get("label_zh") or column_label(c["name"]),
             "cls": classes(only(c["name"]), "" if c["primary"] else "extra")} for c in columns]
    rows = []
    for _, row in df.iterrows():
        cells = []
        for column in columns:
            cname = column["name"]
            if cname in ("area_zh", "area_en") and "ref_area_code" in df.columns:  # a figure's area, by its code
                code = row["ref_area_code"]
                value = areas.loc[code, f"name_{cname[-2:]}"] if code in areas.index else None
            else:
                value = row[cname]
            numeric = column["type"] in ("int64", "float64")
            fact_id = row.get(f"{cname}_fact_id") if f"{cname}_fact_id" in fact_columns else None
            if cname in ("value", "value_max") and "fact_id" in df.columns and "metric_en" in df.columns:
                fact_id = row["fact_id"]
            if values.blank(fact_id) or values.blank(value):
                fact_id = None
            if fact_id is not None:
                text = values.figure(value, facts.loc[fact_id])
            elif name == "mentions" and cname in ("value", "value_max"):
                text = values.number(value, numbers.decimals(row["text"]))
            elif column["type"] == "float64":
                text = values.number(value)
            else:
                text = values.text(value)
            cells.append({"text": text, "fact_id": fact_id,
                          "cls": classes("num" * numeric, only(cname), "" if column["primary"] else "extra"),
                          "sort": None if not numeric or values.blank(value) else repr(float(value))})
        rows.append(cells)
    for i, column in enumerate(head):  # prose gets room, so that a row is not a tall narrow column of words
        longest = max((len(row[i]["text"]) for row in rows), default=0)
        width = next((cls for cls, length in WIDTHS if longest > length), None)
        if width:
            column["cls"] = classes(column["cls"], width)
            for row in rows:
                row[i]["cls"] = classes(row[i]["cls"], width)
    return {"name": name, "title": declared["title"], "description": declared["description"], "head": head,
            "rows": rows, "link_base": link_base, "extra": sum(not c["primary"] for c in columns)}


def only(column: str) -> str:
    """The class that shows a label column in one language only."""
    return "zh-only" if column.endswith("_zh") else "en-only" if column.endswith("_en") else ""


def classes(*names: str) -> str:
    return " ".join(name for name in names if name)


# --- page ----------------------------------------------------------------------------------------

def page(tables: dict[str, pd.DataFrame], text: str, link_base: str) -> str:
    """The page, with its schema.org Dataset description (JSON-LD) at the end of <head>."""
    facts = tables["facts"].set_index("fact_id")
    also = also_reported(tables)
    places = tables["places"]
    areas = places[places["admin_code"].notna()].drop_duplicates("admin_code").set_index("admin_code")
    for sentence in tables["sentences"].itertuples():
        if text[sentence.char_start:sentence.char_end] != sentence.text_zh:
            raise InputError(f"sentence {sentence.sentence_id} is not the text at its offsets; rebuild the dataset.")
    checks = [{**check, "fact_ids": check["fact_ids"].split(";"), "expected": values.number(check["expected"]),
               "observed": values.number(check["observed"])}
              for check in records(tables["checks"].sort_values("status", key=lambda s: s != "source_discrepancy",
                                                                kind="stable"))]
    return environment().get_template("page.html.j2").render(
        dataset=config.DATASET_NAME, version=config.version(), doc=tables["documents"].iloc[0],
        front=front.context(tables, link_base), check_count=len(tables["checks"]),
        summary=summary.render(tables["facts"], tables["documents"].iloc[0]),
        css=static("site.css"), script=static("site.js"), head_extra=Markup(jsonld.script_tag(tables, link_base)),
        headline=[{"fact_id": f, "value": values.fact_value(facts.loc[f]), "fact": facts.loc[f]}
                  for f in HEADLINE_FACTS if f in facts.index],
        fact_count=len(facts), sentence_count=len(tables["sentences"]),
        reading=reading_view(tables, facts, areas, also), charts=charts.charts(tables, facts),
        others=other_reports(tables, facts, also),
        tables=[table_view(name, tables[name], facts, areas, link_base) for name in metadata.tables()],
        checks=checks, quotes=facts["quote"].to_dict())


def load(dataset: Path, raw: Path | None) -> tuple[dict[str, pd.DataFrame], str]:
    missing = [name for name in metadata.tables() if not (dataset / "parquet" / f"{name}.parquet").is_file()]
    if missing:
        raise InputError(f"{dataset} is not a published dataset: parquet/{missing[0]}.parquet is missing "
                         "(run `make dataset`, or pass --dataset output/ or a release directory).")
    tables = {name: read_table(dataset / "parquet" / f"{name}.parquet") for name in metadata.tables()}
    document = tables["documents"].iloc[0]
    raw = raw or config.RAW_DIR / document["source_file"]
    if not raw.is_file():
        raise InputError(f"the source text {raw} is missing; pass the raw file the dataset was built from with --raw.")
    if raw.stat().st_size != document["raw_bytes"]:  # checked before reading, so a wrong file is never read whole
        raise InputError(f"{raw} is not the text this dataset was built from "
                         "(its size differs from documents.raw_bytes).")
    data = raw.read_bytes()
    if hashlib.sha256(data).hexdigest() != document["raw_sha256"]:
        raise InputError(f"{raw} is not the text this dataset was built from "
                         "(its sha256 differs from documents.raw_sha256).")
    return tables, data.decode(document["encoding"])


def run(dataset: Path = config.OUTPUT_DIR, out: Path | None = None, raw: Path | None = None,
        link_base: str = "../") -> Path:
    tables, text = load(dataset, raw)
    out = out or dataset / "site" / "index.html"
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile("w", encoding="utf-8", dir=out.parent, delete=False, suffix=".tmp") as f:
        f.write(page(tables, text, link_base))
    os.chmod(f.name, 0o644)
    os.replace(f.name, out)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", type=Path, default=config.OUTPUT_DIR, help="published dataset directory")
    parser.add_argument("--out", type=Path, default=None, help="HTML file (default: DATASET/site/index.html)")
    parser.add_argument("--raw", type=Path, default=None, help="raw text the dataset was built from")
    parser.add_argument("--link-base", default="../", help="prefix of the Parquet/CSV download links")
    args = parser.parse_args()
    out = run(args.dataset, args.out, args.raw, args.link_base)
    print(f"site: {out} ({out.stat().st_size:,} bytes)")
