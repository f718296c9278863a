"""The English summary of the letter, rendered from the published tables like the sentences' English.

Its template (pipeline/catalog/translations.yaml, `summary`) holds no figure: `{fact_id}` and
`{= expression}` are rendered from facts as notes are (pipeline/translation.py), and
`{document.<column>}` from the documents table, so the summary always shows the published values.
The page, the dataset card and the README show this one rendering; tests/test_reading.py checks
that the README's copy is the current one (`python -m pipeline.summary --readme README.md` writes it).
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import pandas as pd

from pipeline import config, metadata, translation
from pipeline.arrow import read_table
from pipeline.errors import InputError

DOCUMENT_FIELD = re.compile(r"\{document\.([a-z_]+)(\|lc)?\}")
README_START, README_END = "<!-- summary:start -->", "<!-- summary:end -->"


def render(facts: pd.DataFrame, document: pd.Series, template: str | None = None) -> str:
    """The summary over `facts` (one row per figure) and the documents row, as one paragraph."""
    template = " ".join((template or metadata.summary_template()).split())

    def field(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in document.index:
            raise InputError(f"the summary template names {{document.{name}}}, not a column of documents")
        value = str(document[name])
        if name == "publication_date":
            value = translation._english_date(value)
        return value[:1].lower() + value[1:] if match.group(2) else value

    # Document fields (a date, a number) go in after the figures, so that the template's no-digit rule and
    # its placeholders are checked on the template itself.
    fields: list[str] = []

    def hold(match: re.Match[str]) -> str:
        fields.append(field(match))
        return chr(0xE000 + len(fields) - 1)

    text = DOCUMENT_FIELD.sub(hold, template)
    by_id = {row["fact_id"]: row for row in facts.astype(object).where(facts.notna(), None).to_dict("records")}
    problems = translation.note_problems("the summary in pipeline/catalog/translations.yaml", text, by_id)
    if problems:
        raise InputError("\n".join(problems))
    rendered = translation.render_note(text, by_id)
    return re.sub("[\ue000-\uf8ff]", lambda m: fields[ord(m.group()) - 0xE000], rendered)


def from_dataset(dataset: Path = config.OUTPUT_DIR) -> str:
    facts = read_table(dataset / "parquet" / "facts.parquet")
    document = read_table(dataset / "parquet" / "documents.parquet").iloc[0]
    return render(facts, document)


def readme_block(summary: str) -> str:
    return f"{README_START}\n{summary}\n{README_END}"


def readme_copy(readme: str) -> str | None:
    """The summary the README holds between its marker comments, or None if it has none."""
    match = re.search(re.escape(README_START) + r"\n(.*?)\n?" + re.escape(README_END), readme, re.S)
    return match.group(1) if match else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", type=Path, default=config.OUTPUT_DIR)
    parser.add_argument("--readme", type=Path, default=None, help="rewrite the summary block of this README")
    args = parser.parse_args()
    summary = from_dataset(args.dataset)
    if args.readme is None:
        print(summary)
        return
    readme = args.readme.read_text(encoding="utf-8")
    if readme_copy(readme) is None:
        raise InputError(f"{args.readme} has no {README_START} ... {README_END} block")
    start, end = readme.index(README_START), readme.index(README_END) + len(README_END)
    args.readme.write_text(readme[:start] + readme_block(summary) + readme[end:], encoding="utf-8")
    print(f"{args.readme}: summary updated")


if __name__ == "__main__":
    from pipeline.errors import report

    report(main)
