"""The dataset page: one self-contained HTML file that shows every table and proves every figure.

Reads a published dataset directory (output/ or a release) and the raw text it was built from,
and writes site/index.html: inline CSS, JS and SVG charts, no network access. Every figure in a
table or chart links to its highlighted quote in the source view.
"""

from __future__ import annotations

import argparse
import hashlib
import html
import io
import logging
import os
import tempfile
from pathlib import Path

import pandas as pd

from pipeline import config, jsonld, metadata
from pipeline.arrow import read_table
from pipeline.errors import InputError, report

STYLE = """
:root { --ink: #1a1a1a; --muted: #555; --line: #c8c8c8; --accent: #0b5cad; --fact: #fff1b8;
        --active: #ffb347; --bad: #a40000; --ok: #1d6b2f; }
* { box-sizing: border-box; }
body { font: 16px/1.55 system-ui, "Noto Sans CJK SC", "PingFang SC", "Microsoft YaHei", sans-serif;
       color: var(--ink); background: #fff; margin: 0; }
header, main { max-width: 72rem; margin: 0 auto; padding: 0 1rem; }
header { display: flex; flex-wrap: wrap; gap: 1rem; align-items: baseline; justify-content: space-between; }
nav a { margin-right: 1rem; color: var(--accent); }
h1 { font-size: 1.5rem; margin: 1rem 0 0.25rem; } h2 { border-bottom: 2px solid var(--line); margin-top: 2.5rem; }
a, button.fig { color: var(--accent); }
button { font: inherit; cursor: pointer; }
button.fig { background: none; border: 0; padding: 0; text-decoration: underline dotted; }
button:focus-visible, a:focus-visible, mark:focus-visible { outline: 3px solid var(--active); outline-offset: 2px; }
#lang-switch { border: 1px solid var(--accent); background: #fff; color: var(--accent); padding: 0.2rem 0.8rem;
               border-radius: 4px; }
.headline { display: grid; grid-template-columns: repeat(auto-fill, minmax(14rem, 1fr)); gap: 0.75rem; padding: 0; }
.headline li { list-style: none; border: 1px solid var(--line); border-radius: 6px; padding: 0.6rem; }
.headline .value { font-size: 1.4rem; font-weight: 600; }
table { border-collapse: collapse; font-size: 0.85rem; margin: 0.5rem 0 1rem; }
th, td { border: 1px solid var(--line); padding: 0.2rem 0.4rem; text-align: left; vertical-align: top; }
th button { background: none; border: 0; font-weight: 600; padding: 0; color: var(--ink); }
th[aria-sort="ascending"] button::after { content: " ▲"; } th[aria-sort="descending"] button::after { content: " ▼"; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.scroll { overflow-x: auto; }
#source-text { white-space: pre-wrap; font-size: 0.95rem; border: 1px solid var(--line); padding: 1rem;
               max-height: 70vh; overflow-y: auto; }
mark { background: none; border-bottom: 2px dotted var(--muted); color: inherit; }
mark.fact { background: var(--fact); border-bottom: 2px solid #c9a400; }
mark.active { background: var(--active); outline: 2px solid var(--ink); }
.status-pass { color: var(--ok); font-weight: 600; } .status-source_discrepancy { color: var(--bad); font-weight: 600; }
.quotes { display: flex; gap: 1rem; flex-wrap: wrap; } .quotes blockquote { margin: 0; padding: 0.4rem;
          border-left: 4px solid var(--bad); background: #fdf3f3; flex: 1 1 14rem; }
figure { margin: 1rem 0; } figcaption { color: var(--muted); font-size: 0.9rem; }
figure svg { max-width: 100%; height: auto; }
svg .clickable { cursor: pointer; }
body.lang-en .zh-only, body.lang-zh .en-only { display: none; }
@media print { nav, #lang-switch { display: none; } #source-text { max-height: none; overflow: visible; }
               a, button.fig { color: var(--ink); } h2 { break-before: page; } }
"""

SCRIPT = """
const body = document.body;
function setLanguage(lang) {
  body.classList.toggle('lang-en', lang === 'en');
  body.classList.toggle('lang-zh', lang === 'zh');
  const button = document.getElementById('lang-switch');
  button.setAttribute('aria-pressed', lang === 'zh' ? 'true' : 'false');
  button.textContent = lang === 'zh' ? 'English' : '中文';
  document.documentElement.lang = lang === 'zh' ? 'zh-Hans' : 'en';
}
document.getElementById('lang-switch').addEventListener('click', () =>
  setLanguage(body.classList.contains('lang-en') ? 'zh' : 'en'));
function showFact(factId) {
  const mark = document.querySelector(`#source-text mark[data-fact-id="${CSS.escape(factId)}"]`);
  if (!mark) return;
  document.querySelectorAll('#source-text mark.active').forEach(m => m.classList.remove('active'));
  mark.classList.add('active');
  mark.scrollIntoView({block: 'center'});
  mark.focus({preventScroll: true});
}
document.addEventListener('click', event => {
  const target = event.target.closest('[data-fact-id]');
  if (target && !target.closest('#source-text')) { event.preventDefault(); showFact(target.dataset.factId); }
});
document.addEventListener('keydown', event => {
  const target = event.target.closest && event.target.closest('svg [data-fact-id]');
  if (target && (event.key === 'Enter' || event.key === ' ')) {
    event.preventDefault();
    showFact(target.dataset.factId);
  }
});
document.querySelectorAll('table.sortable').forEach(table => {
  table.querySelectorAll('th button').forEach((button, column) => button.addEventListener('click', () => {
    const th = button.parentElement;
    const ascending = th.getAttribute('aria-sort') !== 'ascending';
    table.querySelectorAll('th').forEach(h => h.removeAttribute('aria-sort'));
    th.setAttribute('aria-sort', ascending ? 'ascending' : 'descending');
    const rows = Array.from(table.tBodies[0].rows);
    const key = row => row.cells[column].dataset.sort ?? row.cells[column].textContent;
    rows.sort((a, b) => {
      const x = key(a), y = key(b), nx = parseFloat(x), ny = parseFloat(y);
      const order = (!isNaN(nx) && !isNaN(ny)) ? nx - ny : x.localeCompare(y, 'zh');
      return ascending ? order : -order;
    });
    rows.forEach(row => table.tBodies[0].appendChild(row));
  }));
});
setLanguage('en');
"""

HEADLINE_FACTS = [  # which figures the overview shows; their values come from the data
    "sites.total", "population.total.households", "population.total.persons",
    "services.elderly_care.coverage", "services.childrens_homes.coverage", "services.cemeteries.coverage",
]


def esc(value: object) -> str:
    return html.escape("" if value is None or (not isinstance(value, str) and pd.isna(value)) else str(value))


def bilingual(zh: object, en: object) -> str:
    return f'<span lang="zh-Hans" class="zh-only">{esc(zh)}</span><span lang="en" class="en-only">{esc(en)}</span>'


def number(value: float | None, decimals: int | None = None) -> str:
    if value is None or pd.isna(value):
        return ""
    if decimals is not None:
        return f"{value:,.{decimals}f}"
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,}"


def fact_value(fact: pd.Series) -> str:
    text = number(fact["value"], int(fact["decimals"]))
    if not pd.isna(fact["value_max"]):
        text += "–" + number(fact["value_max"], int(fact["decimals"]))
    return text + ("%" if fact["unit"] in ("percent", "percentage_points") else "")


# --- charts --------------------------------------------------------------------------------------

def _pyplot():
    import matplotlib

    matplotlib.use("svg")
    import matplotlib.pyplot as plt

    return plt


def _svg(figure, links: list[tuple[str, str, str]]) -> str:
    """The figure as inline SVG, each (gid, fact_id, label) artist made a keyboard-reachable link to its quote."""
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None})
    _pyplot().close(figure)
    svg = buffer.getvalue()
    svg = svg[svg.index("<svg"):]
    for gid, fact_id, label in links:
        svg = svg.replace(f'<g id="{gid}">', f'<g id="{gid}" class="clickable" data-fact-id="{esc(fact_id)}" '
                                             f'tabindex="0" role="link" aria-label="{esc(label)}">', 1)
    return svg


def coverage_chart(coverage: pd.DataFrame, facts: pd.DataFrame) -> str:
    plt = _pyplot()
    rows = coverage[coverage["denominator_sites"].notna()].reset_index(drop=True)
    denominator = int(rows["denominator_sites"].iloc[0])
    figure, axis = plt.subplots(figsize=(8, 0.9 + 0.9 * len(rows)))
    positions = range(len(rows))
    reported = axis.barh([p - 0.2 for p in positions], rows["coverage_pct"], height=0.38, color="#0b5cad",
                         label="reported 报告值")
    computed = axis.barh([p + 0.2 for p in positions], rows["coverage_pct_computed"], height=0.38, color="#9db8d9",
                         label="recomputed 重算值")
    tags = []
    for i, row in rows.iterrows():
        fact = facts.loc[row["coverage_pct_fact_id"]]
        reported[i].set_gid(f"bar-reported-{i}")
        computed[i].set_gid(f"bar-computed-{i}")
        tags += [(f"bar-reported-{i}", row["coverage_pct_fact_id"], f"{row['facility_en']}: {fact['quote']}"),
                 (f"bar-computed-{i}", row["sites_covered_fact_id"],
                  f"{row['facility_en']}: {number(row['sites_covered'])} of {denominator} sites")]
        axis.text(row["coverage_pct"] + 1, i - 0.2, fact_value(fact), va="center", fontsize=9, gid=f"label-{i}")
        axis.text(row["coverage_pct_computed"] + 1, i + 0.2,
                  f"{row['coverage_pct_computed']:.2f}% = {number(row['sites_covered'])}/{denominator}",
                  va="center", fontsize=9, color="#333")
    axis.set_yticks(list(positions), [f"{zh}\n{en}" for zh, en in zip(rows["facility_zh"], rows["facility_en"],
                                                                      strict=True)], fontsize=9)
    axis.invert_yaxis()
    axis.set_xlim(0, 100)
    axis.set_xlabel(f"Share of the {denominator} resettlement sites covered (%) · 覆盖安置点比例(%)")
    axis.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=9, frameon=False)
    axis.spines[["top", "right"]].set_visible(False)
    figure.tight_layout()
    return _svg(figure, tags)


def population_chart(population: pd.DataFrame, facts: pd.DataFrame) -> str:
    plt = _pyplot()
    rows = population.set_index("category_id")
    figure, axes = plt.subplots(1, 2, figsize=(8, 4.2))
    tags = []
    for axis, measure, zh in zip(axes, ("households", "persons"), ("户数", "人数"), strict=True):
        bottom = 0.0
        for category, color in (("registered_poor", "#0b5cad"), ("accompanying", "#9db8d9")):
            value = rows.loc[category, measure]
            bar = axis.bar(0, value, bottom=bottom, color=color, width=0.6,
                           label=f"{rows.loc[category, 'category_en']} {rows.loc[category, 'category_zh']}")[0]
            gid = f"pop-{measure}-{category}"
            bar.set_gid(gid)
            tags.append((gid, rows.loc[category, f"{measure}_fact_id"], f"{category} {measure}: {number(value)}"))
            axis.text(0, bottom + value / 2, number(value), ha="center", va="center", fontsize=9, color="#000")
            bottom += value
        total = rows.loc["total", measure]
        bar = axis.bar(1, total, color="#555", width=0.6, label="Reported total 报告合计")[0]
        gid = f"pop-{measure}-total"
        bar.set_gid(gid)
        tags.append((gid, rows.loc["total", f"{measure}_fact_id"], f"total {measure}: {number(total)}"))
        axis.text(1, total, number(total), ha="center", va="bottom", fontsize=9)
        gap = bottom - total
        note = "parts = total" if gap == 0 else f"parts − total = {number(gap)}\n分项之和比合计多{number(gap)}"
        axis.set_title(f"{measure.capitalize()} {zh}\n{note}", fontsize=10, color="#a40000" if gap else "#1a1a1a")
        axis.set_xticks([0, 1], ["Sum of parts\n分项之和", "Reported total\n报告合计"], fontsize=9)
        axis.set_ylabel(f"{measure} ({zh})")
        axis.spines[["top", "right"]].set_visible(False)
    handles, labels = axes[0].get_legend_handles_labels()
    figure.legend(handles, labels, loc="lower center", ncol=3, fontsize=8, frameon=False)
    figure.tight_layout(rect=(0, 0.08, 1, 1))
    return _svg(figure, tags)


# --- page sections -------------------------------------------------------------------------------

def overview(documents: pd.DataFrame, facts: pd.DataFrame) -> str:
    doc = documents.iloc[0]
    items = []
    for fact_id in HEADLINE_FACTS:
        if fact_id in facts.index:
            fact = facts.loc[fact_id]
            items.append(f'<li><button class="fig value" data-fact-id="{esc(fact_id)}">{esc(fact_value(fact))}'
                         f'</button><br>{bilingual(fact["metric_zh"], fact["metric_en"])}</li>')
    return f"""
<section id="overview" aria-labelledby="overview-h"><h2 id="overview-h">Overview · 概览</h2>
<p>{bilingual(doc['title_zh'], doc['title_en'])}</p>
<p>Published by <span lang="zh-Hans">{esc(doc['publisher_zh'])}</span> ({esc(doc['publisher_en'])}) on
{esc(doc['publication_date'])}, in reply to proposal No. <span lang="zh-Hans">{esc(doc['proposal_number'])}</span>
of <span lang="zh-Hans">{esc(doc['session_zh'])}</span>. Index number {esc(doc['index_number'])}.
Every figure below links to the sentence it came from.</p>
<ul class="headline">{''.join(items)}</ul>
<p>{len(facts)} figures; source text sha256 <code>{esc(doc['raw_sha256'])}</code>.</p>
</section>"""


def table_html(name: str, df: pd.DataFrame, link_base: str) -> str:
    declared = metadata.tables()[name]
    columns = [c for c in declared["columns"] if not c["name"].endswith("_fact_id") or c["name"] == "fact_id"]
    fact_columns = {c["name"] for c in declared["columns"] if c["name"].endswith("_fact_id")}
    head = []
    for column in columns:
        only = " zh-only" if column["name"].endswith("_zh") else " en-only" if column["name"].endswith("_en") else ""
        head.append(f'<th scope="col" class="{only.strip()}" title="{esc(column["description"])}">'
                    f'<button type="button">{esc(column["name"])}</button></th>')
    body = []
    for _, row in df.iterrows():
        cells = []
        for column in columns:
            name_ = column["name"]
            value = row[name_]
            only = " zh-only" if name_.endswith("_zh") else " en-only" if name_.endswith("_en") else ""
            numeric = column["type"] in ("int64", "float64")
            text = number(value) if numeric and column["type"] == "int64" else esc(value)
            fact_id = row.get(f"{name_}_fact_id") if f"{name_}_fact_id" in fact_columns else None
            if name_ == "value" and "fact_id" in df.columns:
                fact_id = row["fact_id"]
            if fact_id is not None and not pd.isna(fact_id) and not pd.isna(value):
                text = f'<button class="fig" data-fact-id="{esc(fact_id)}">{text}</button>'
            sort = "" if not numeric or pd.isna(value) else f' data-sort="{value}"'
            cls = ("num" if numeric else "") + only
            cells.append(f'<td class="{cls.strip()}"{sort}>{text}</td>')
        body.append(f"<tr>{''.join(cells)}</tr>")
    return f"""
<h3 id="table-{name}">{esc(name)}</h3>
<p>{esc(declared['title'])}. {esc(declared['description'])}
Download: <a href="{link_base}parquet/{name}.parquet">Parquet</a> · <a href="{link_base}csv/{name}.csv">CSV</a></p>
<div class="scroll"><table class="data sortable" data-table="{name}"><thead><tr>{''.join(head)}</tr></thead>
<tbody>{''.join(body)}</tbody></table></div>"""


def source_view(text: str, mentions: pd.DataFrame, facts: pd.DataFrame) -> str:
    parts, position = [], 0
    for m in mentions.sort_values("char_start").itertuples():
        parts.append(esc(text[position:m.char_start]))
        quote = esc(text[m.char_start:m.char_end])
        if isinstance(m.fact_id, str):
            fact = facts.loc[m.fact_id]
            title = f"{m.fact_id} — {fact['metric_en']} — {fact_value(fact)} ({fact['unit']})"
            parts.append(f'<mark class="fact" id="src-{esc(m.fact_id)}" data-fact-id="{esc(m.fact_id)}" '
                         f'tabindex="-1" title="{esc(title)}">{quote}</mark>')
        else:
            parts.append(f'<mark class="mention" title="{esc(m.accounted_as)}">{quote}</mark>')
        position = m.char_end
    parts.append(esc(text[position:]))
    return f"""
<section id="source" aria-labelledby="source-h"><h2 id="source-h">Source text · 原文</h2>
<p>The full text as published. Figures are highlighted; hover one for its fact_id, English label and value.
Other numbers (dates, document numbers, names, ordinals) are underlined.</p>
<div id="source-text" lang="zh-Hans" tabindex="0">{''.join(parts)}</div></section>"""


def checks_section(checks: pd.DataFrame, facts: pd.DataFrame) -> str:
    rows = []
    for check in checks.itertuples():
        fact_ids = check.fact_ids.split(";")
        links = ", ".join(f'<button class="fig" data-fact-id="{esc(f)}">{esc(f)}</button>' for f in fact_ids)
        detail = ""
        if check.status == "source_discrepancy":
            quotes = "".join(f'<blockquote lang="zh-Hans"><button class="fig" data-fact-id="{esc(f)}">'
                             f'{esc(facts.loc[f, "quote"])}</button><br><small lang="en">{esc(f)}</small></blockquote>'
                             for f in fact_ids)
            detail = f'<div class="quotes">{quotes}</div><p>{esc(check.note)}</p>'
        rows.append(f'<tr><td>{esc(check.check_id)}</td><td class="status-{esc(check.status)}">{esc(check.status)}'
                    f'</td><td>{esc(check.description)}{detail}</td><td class="num">{number(check.expected)}</td>'
                    f'<td class="num">{number(check.observed)}</td><td>{links}</td></tr>')
    return f"""
<section id="checks" aria-labelledby="checks-h"><h2 id="checks-h">Checks · 校验</h2>
<div class="scroll"><table class="sortable"><thead><tr><th><button type="button">check</button></th>
<th><button type="button">status</button></th><th><button type="button">description</button></th>
<th><button type="button">expected</button></th><th><button type="button">observed</button></th>
<th><button type="button">figures</button></th></tr></thead><tbody>{''.join(rows)}</tbody></table></div></section>"""


def page(tables: dict[str, pd.DataFrame], text: str, link_base: str) -> str:
    facts = tables["facts"].set_index("fact_id")
    logging.getLogger("matplotlib.font_manager").setLevel(logging.ERROR)
    import matplotlib

    matplotlib.rcParams.update({"svg.fonttype": "none", "svg.hashsalt": config.DATASET_NAME,
                                "font.family": ["Noto Sans CJK SC", "DejaVu Sans"]})
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # CJK glyph widths are estimated; the browser renders the text
        charts = (f'<figure id="chart-coverage">{coverage_chart(tables["facility_coverage"], facts)}'
                  f"<figcaption>Coverage of the resettlement sites by facility type: the rate the text reports "
                  f"and the rate recomputed from sites covered ÷ all sites. Click a bar for its source. "
                  f"覆盖率：报告值与重算值。</figcaption></figure>"
                  f'<figure id="chart-population">{population_chart(tables["relocated_population"], facts)}'
                  f"<figcaption>Relocated households and persons by category, against the reported total. "
                  f"The persons do not add up: see the checks. 搬迁户数与人数。</figcaption></figure>")
    doc = tables["documents"].iloc[0]
    table_sections = "".join(table_html(name, tables[name], link_base) for name in metadata.tables())
    toc = " · ".join(f'<a href="#table-{name}">{name}</a>' for name in metadata.tables())
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{esc(config.DATASET_NAME)} {esc(config.version())}: Baoshan resettlement sites</title>
<style>{STYLE}</style>
{jsonld.script_tag(tables, link_base)}</head>
<body class="lang-en">
<header><div><h1>Baoshan resettlement sites · <span lang="zh-Hans">保山市易地扶贫搬迁安置点</span></h1>
<p>{esc(config.DATASET_NAME)} {esc(config.version())} · <span lang="zh-Hans">{esc(doc['publisher_zh'])}</span>
{esc(doc['publication_date'])}</p></div>
<button id="lang-switch" type="button" aria-pressed="false">中文</button></header>
<main>
<nav aria-label="Sections"><a href="#overview">Overview</a><a href="#charts">Charts</a><a href="#tables">Tables</a>
<a href="#source">Source</a><a href="#checks">Checks</a></nav>
{overview(tables['documents'], facts)}
<section id="charts" aria-labelledby="charts-h"><h2 id="charts-h">Charts · 图表</h2>{charts}</section>
<section id="tables" aria-labelledby="tables-h"><h2 id="tables-h">Tables · 数据表</h2>
<p>Column headers sort; the language button switches Chinese and English label columns. {toc}</p>
{table_sections}</section>
{source_view(text, tables['mentions'], facts)}
{checks_section(tables['checks'], facts)}
</main>
<script>{SCRIPT}</script>
</body></html>
"""


def load(dataset: Path, raw: Path | None) -> tuple[dict[str, pd.DataFrame], str]:
    tables = {name: read_table(dataset / "parquet" / f"{name}.parquet") for name in metadata.tables()}
    document = tables["documents"].iloc[0]
    raw = raw or config.RAW_DIR / document["source_file"]
    if not raw.is_file():
        raise InputError(f"the source text {raw} is missing; pass the raw file the dataset was built from with --raw.")
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


if __name__ == "__main__":
    report(main)

