"""Human-readable descriptions generated from the table declaration: DuckDB column comments and
the data dictionary. Nothing here is written by hand per table, so they cannot drift apart."""

from __future__ import annotations

import pandas as pd

from pipeline import config, metadata


def derivation(column: dict) -> str:
    """How a derived column is computed and checked, from its declaration."""
    text = (f"Derived by the pipeline, not stated in the text: {column['derived']}, rounded to "
            f"{metadata.DERIVED_DECIMALS} decimals.")
    if column.get("matches"):
        text += (f" Validation requires it to agree with {column['matches']} within half a unit of that "
                 "figure's last printed decimal.")
    return text


def column_comment(column: dict) -> str:
    parts = [column["description"]]
    if column.get("label_zh"):
        parts.append(f"Chinese: {column['label_zh']}.")
    if column.get("unit"):
        parts.append(f"Unit: {column['unit']}.")
    if column.get("derived"):
        parts.append(derivation(column))
    return " ".join(parts)


def check_types_section() -> list[str]:
    """What `expected`, `observed` and `tolerance` of the checks table mean for each check type."""
    from pipeline import checks

    lines = ["", "## Check types", "",
             "What `expected`, `observed` and `tolerance` mean in the `checks` table, by `check_type` "
             "(from the check classes in `pipeline/checks.py`).", "",
             "| check_type | label (zh) | label (en) | expected | observed | tolerance |", "|---|---|---|---|---|---|"]
    for name, cls in checks.TYPES.items():
        lines.append(f"| `{name}` | {cls.label_zh} | {cls.label_en} | {_cell(cls.expected_means)} | "
                     f"{_cell(cls.observed_means)} | {_cell(cls.tolerance_means)} |")
    return lines


def _cell(text: object) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def data_dictionary(tables: dict[str, pd.DataFrame]) -> str:
    lines = [
        f"# Data dictionary: {config.DATASET_NAME} {config.version()}",
        "",
        "Generated from `pipeline/catalog/tables.yaml` and `pipeline/catalog/figures.yaml`, the same",
        "declaration that drives the Pandera schemas, the Parquet field metadata and the DuckDB comments.",
        "",
        "## Tables",
        "",
        "| table | rows | primary key | description |",
        "|---|---|---|---|",
    ]
    declared = metadata.tables()
    for name, table in declared.items():
        lines.append(f"| [{name}](#{name}) | {len(tables[name])} | {', '.join(table['primary_key'])} | "
                     f"{_cell(table['description'])} |")
    for name, table in declared.items():
        lines += ["", f"### {name}", "", f"**{table['title']}.** {table['description']}", "",
                  "| column | type | null | unit | Chinese | description |", "|---|---|---|---|---|---|"]
        for c in table["columns"]:
            description = c["description"] + (f" *{derivation(c)}*" if c.get("derived") else "")
            if c.get("allowed"):
                description += " Allowed: " + ", ".join(f"`{v}`" for v in c["allowed"]) + "."
            lines.append(f"| `{c['name']}` | {c['type']} | {'yes' if c['nullable'] else 'no'} | "
                         f"{c.get('unit', '')} | {c.get('label_zh', '')} | {_cell(description)} |")
    lines += check_types_section()
    facts = tables["facts"]
    lines += ["", "## Figures", "",
              "Every figure in the document, as declared in the catalog and found in the text.", "",
              "| fact_id | section | metric (zh) | metric (en) | unit | table |", "|---|---|---|---|---|---|"]
    for fact in facts.itertuples():
        lines.append(f"| `{fact.fact_id}` | {fact.section} | {_cell(fact.metric_zh)} | {_cell(fact.metric_en)} | "
                     f"{fact.unit} | {fact.table_name} |")
    return "\n".join(lines) + "\n"
