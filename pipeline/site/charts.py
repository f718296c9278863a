"""The page's two charts, drawn at build time with matplotlib as inline SVG; every bar links to its quote."""

from __future__ import annotations

import html
import io
import logging
import warnings

import pandas as pd
from markupsafe import Markup

from pipeline import config
from pipeline.site import values
from pipeline.site.values import number


def _pyplot():
    import matplotlib

    matplotlib.use("svg")
    import matplotlib.pyplot as plt

    return plt


def _svg(figure, links: list[tuple[str, str, str]], rect: tuple[float, ...] = (0, 0, 1, 1)) -> str:
    """The figure laid out (within `rect`) as inline SVG, each (gid, fact_id, label) artist made a
    keyboard-reachable link to its quote. Every text is drawn as written: `$…$` in a label comes from
    the data and is never math to typeset (it was dropped, or failed the page)."""
    from matplotlib.text import Text

    for text in figure.findobj(Text):
        text.set_usetex(False)
        text.set_parse_math(False)
    figure.tight_layout(rect=rect)
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None})
    _pyplot().close(figure)
    svg = buffer.getvalue()
    svg = svg[svg.index("<svg"):]
    for gid, fact_id, label in links:
        svg = svg.replace(f'<g id="{gid}">', f'<g id="{gid}" class="clickable" data-fact-id="{html.escape(fact_id)}" '
                                             f'tabindex="0" role="link" aria-label="{html.escape(label)}">', 1)
    return svg


def coverage_chart(coverage: pd.DataFrame, facts: pd.DataFrame) -> str:
    """Every coverage rate the text reports; a rate whose base the text does not state is drawn hatched,
    with no recomputed bar, and carries its hedge, so that it is not read as a share of the sites."""
    plt = _pyplot()
    rows = coverage.reset_index(drop=True)
    rated = rows["denominator_sites"].notna()
    denominator = int(rows.loc[rated, "denominator_sites"].iloc[0])
    figure, axis = plt.subplots(figsize=(8, 0.9 + 0.9 * len(rows)))
    tags = []
    for i, row in rows.iterrows():
        fact = facts.loc[row["coverage_pct_fact_id"]]
        known = rated[i]
        bar = axis.barh(i - 0.2 * known, row["coverage_pct"], height=0.38, color="#0b5cad" if known else "#ffffff",
                        edgecolor="#0b5cad", hatch=None if known else "//",
                        label="reported 报告值" if known and i == rated.idxmax() else None)[0]
        bar.set_gid(f"bar-reported-{i}")
        tags.append((f"bar-reported-{i}", row["coverage_pct_fact_id"], f"{row['facility_en']}: {fact['quote']}"))
        axis.text(row["coverage_pct"] + 1, i - 0.2 * known, values.hedged(fact), va="center", fontsize=9,
                  gid=f"label-{i}", color="#1a1a1a" if known else "#a40000")
        if not known:
            continue
        computed = axis.barh(i + 0.2, row["coverage_pct_computed"], height=0.38, color="#9db8d9",
                             label="recomputed 重算值" if i == rated.idxmax() else None)[0]
        computed.set_gid(f"bar-computed-{i}")
        tags.append((f"bar-computed-{i}", row["sites_covered_fact_id"],
                     f"{row['facility_en']}: {number(row['sites_covered'])} of {denominator} sites"))
        axis.text(row["coverage_pct_computed"] + 1, i + 0.2,
                  f"{row['coverage_pct_computed']:.2f}% = {number(row['sites_covered'])}/{denominator}",
                  va="center", fontsize=9, color="#333")
    axis.set_yticks(list(range(len(rows))), [f"{zh}\n{en}" for zh, en in zip(rows["facility_zh"], rows["facility_en"],
                                                                              strict=True)], fontsize=9)
    axis.invert_yaxis()
    axis.set_xlim(0, 100)
    axis.set_xlabel(f"Share of the {denominator} resettlement sites covered (%); hatched: base not stated · "
                    f"覆盖安置点比例(%);斜线:基数未说明")
    axis.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=9, frameon=False)
    axis.spines[["top", "right"]].set_visible(False)
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
    return _svg(figure, tags, rect=(0, 0.08, 1, 1))


def charts(tables: dict[str, pd.DataFrame], facts: pd.DataFrame) -> dict[str, Markup]:
    """{chart name: inline SVG}; `facts` is indexed by fact_id."""
    logging.getLogger("matplotlib.font_manager").setLevel(logging.ERROR)
    import matplotlib

    matplotlib.rcParams.update({"text.usetex": False, "svg.fonttype": "none", "svg.hashsalt": config.DATASET_NAME,
                                "font.family": ["Noto Sans CJK SC", "DejaVu Sans"]})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # CJK glyph widths are estimated; the browser renders the text
        return {"coverage": Markup(coverage_chart(tables["facility_coverage"], facts)),
                "population": Markup(population_chart(tables["relocated_population"], facts))}
