"""The dataset page, opened from disk in a real headless Chromium driven by Playwright."""

from __future__ import annotations

import os
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from pipeline import config, metadata, site
from pipeline.errors import InputError
from pipeline.release import citation, snippets
from pipeline.site import values

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
# Without these flags Chromium tries Google's services at start, which this closed network refuses.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-sync",
                 "--disable-background-networking", "--disable-component-update"]


@pytest.fixture(scope="module")
def page_file(clean_build, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("site") / "index.html"
    site.run(clean_build.out, out)
    return out


@pytest.fixture(scope="module")
def browser_page(page_file):
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium (apt-get install chromium), as .ci/run does")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        console, requests = [], []
        page.on("console", lambda message: console.append(message) if message.type == "error" else None)
        page.on("pageerror", lambda error: console.append(error))
        page.on("request", lambda request: requests.append(request.url))
        page.goto(page_file.as_uri())
        page.wait_for_load_state("load")
        yield page, console, requests
        browser.close()


def test_page_loads_offline_without_errors(browser_page, page_file):
    page, console, requests = browser_page
    assert console == []
    assert requests == [page_file.as_uri()]
    assert page.locator("html").get_attribute("lang") == "en"
    languages = page.eval_on_selector_all("#reading-text .sentence > p", "ps => ps.map(p => p.lang)")
    assert languages and set(languages[0::2]) == {"zh-Hans"} and set(languages[1::2]) == {"en"}


def test_reading_view_has_every_sentence_in_both_languages(browser_page, clean_build):
    page, _, _ = browser_page
    sentences = clean_build.table("sentences").sort_values("char_start")
    rows = page.eval_on_selector_all("#reading-text .sentence", """rows => rows.map(r => [
        r.dataset.sentenceId, r.querySelector('p.zh').textContent, r.querySelector('p.en').textContent])""")
    assert len(rows) == len(sentences)
    assert rows == [list(r) for r in zip(sentences["sentence_id"], sentences["text_zh"], sentences["text_en"],
                                         strict=True)]
    headings = page.locator("#reading-text h3").all_text_contents()
    assert len(headings) == sentences["section"].nunique()
    assert all(any(en in h for h in headings) for en in sentences["section_en"].unique())


def test_reading_view_sits_first_after_the_summary_front_and_overview(browser_page):
    page, _, _ = browser_page
    sections = page.eval_on_selector_all("main > section", "ss => ss.map(s => s.id)")
    assert sections[:4] == ["summary", "front", "overview", "reading"]


def test_every_fact_has_exactly_one_highlight_equal_to_its_quote(browser_page, clean_build):
    page, _, _ = browser_page
    marks = page.eval_on_selector_all("#reading-text .zh mark.fact",
                                      "ms => ms.map(m => [m.dataset.factId, m.textContent])")
    facts = clean_build.table("facts")
    assert sorted(map(tuple, marks)) == sorted(zip(facts["fact_id"], facts["quote"], strict=True))
    titles = page.eval_on_selector_all("#reading-text .zh mark.fact", "ms => ms.map(m => m.title)")
    assert any(t.startswith("sites.total — ") and "210" in t for t in titles)
    mentions = clean_build.table("mentions")
    others = page.eval_on_selector_all("#reading-text .zh mark.mention", "ms => ms.map(m => m.textContent)")
    assert sorted(others) == sorted(mentions[mentions["fact_id"].isna()]["text"])


def test_every_fact_has_exactly_one_english_highlight_with_its_value(browser_page, clean_build):
    page, _, _ = browser_page
    marks = page.eval_on_selector_all("#reading-text .en mark.fact",
                                      "ms => ms.map(m => [m.dataset.factId, m.textContent])")
    facts = clean_build.table("facts").set_index("fact_id")
    assert sorted(fact_id for fact_id, _ in marks) == sorted(facts.index)
    for fact_id, text in marks:  # the English writes the value (or spells a small one out), never the quote
        fact = facts.loc[fact_id]
        digits = f"{fact['value']:,.{fact['decimals']}f}"
        assert digits in text or text.isalpha(), (fact_id, text)
    assert dict(marks)["cadres.one_shoulder.share"].startswith(
        f"{facts.loc['cadres.one_shoulder.share', 'value']:.2f}")


def test_clicking_an_english_figure_highlights_its_chinese_quote_and_shows_its_row(browser_page, clean_build):
    page, _, _ = browser_page
    facts = clean_build.table("facts").set_index("fact_id")
    fact_id = facts.index[facts["note_en"].notna()][0]
    page.locator(f'#reading-text .en mark[data-fact-id="{fact_id}"]').click()
    active = page.locator("#reading-text .zh mark.active")
    assert active.count() == 1 and active.inner_text() == facts.loc[fact_id, "quote"]
    assert page.locator("#reading-text .en mark.active").get_attribute("data-fact-id") == fact_id
    cards = page.locator("#reading-text .fact-card:visible")
    assert cards.count() == 1
    card = cards.inner_text()
    fact = facts.loc[fact_id]
    for expected in (fact["metric_en"], fact["as_of"], fact["as_of_basis_en"], fact["note_en"], fact["quote"],
                     f"{fact['char_start']}–{fact['char_end']}", f"{fact['value']:,.{fact['decimals']}f}"):
        assert expected in card, expected
    area = clean_build.table("places").set_index("admin_code")["name_en"].dropna()
    assert area[fact["ref_area_code"]] in card


def test_clicking_a_chinese_figure_highlights_its_english(browser_page, clean_build):
    page, _, _ = browser_page
    fact_id = "cadres.one_shoulder.share"
    page.locator(f'#reading-text .zh mark[data-fact-id="{fact_id}"]').click()
    english = page.locator("#reading-text .en mark.active")
    assert english.count() == 1 and english.get_attribute("data-fact-id") == fact_id
    facts = clean_build.table("facts").set_index("fact_id")
    assert english.inner_text().startswith(f"{facts.loc[fact_id, 'value']:.{facts.loc[fact_id, 'decimals']}f}")
    assert page.locator(f'[data-card-for="{fact_id}"]').is_visible()


def test_clicking_a_table_figure_highlights_its_quote(browser_page, clean_build):
    page, _, _ = browser_page
    button = page.locator('table[data-table="facility_coverage"] button.fig[data-fact-id$="sites_covered"]').first
    fact_id = button.get_attribute("data-fact-id")
    button.click()
    active = page.locator("#reading-text .zh mark.active")
    assert active.count() == 1
    quote = clean_build.table("facts").set_index("fact_id").loc[fact_id, "quote"]
    assert active.inner_text() == quote
    assert active.get_attribute("data-fact-id") == fact_id
    assert page.locator("#reading-text .en mark.active").get_attribute("data-fact-id") == fact_id
    assert active.is_visible() and active.evaluate("m => document.activeElement === m")


def test_clicking_a_chart_bar_highlights_its_quote(browser_page, clean_build):
    page, _, _ = browser_page
    bar = page.locator("#chart-coverage g[data-fact-id]").first
    fact_id = bar.get_attribute("data-fact-id")
    bar.click()
    quote = clean_build.table("facts").set_index("fact_id").loc[fact_id, "quote"]
    assert page.locator("#reading-text .zh mark.active").inner_text() == quote


def test_facts_table_shows_values_with_their_own_decimals_and_readable_columns_first(browser_page, clean_build):
    page, _, _ = browser_page
    table = page.locator('table[data-table="facts"]')
    names = column_names(table)
    assert names[:4] == ["metric_zh", "metric_en", "value", "value_max"]
    for readable, identifier in (("as_of", "fact_id"), ("area_en", "ref_area_code"), ("note_en", "char_start"),
                                 ("qualifier_en", "sentence_id")):
        assert names.index(readable) < names.index(identifier)
    column = names.index("value") + 1
    shown = dict(table.locator("tbody tr").evaluate_all(
        f"rows => rows.map(r => [r.cells[{names.index('fact_id')}].textContent, r.cells[{column - 1}].textContent])"))
    facts = clean_build.table("facts").set_index("fact_id")
    whole = facts.index[facts["value"] == 210][0]
    assert shown[whole] == "210"
    assert shown["cadres.one_shoulder.share"] == f"{facts.loc['cadres.one_shoulder.share', 'value']:.2f}%"
    assert shown["cadres.one_shoulder.share"].endswith("0%")  # 97.90, not 97.9
    assert not any(text.endswith(".0") for text in shown.values())
    coverage = page.locator('table[data-table="facility_coverage"]')
    assert "47.1%" in coverage.inner_text() and "210.0" not in coverage.inner_text()


def test_coverage_chart_has_one_bar_per_facility_type_with_published_values(browser_page, clean_build):
    page, _, _ = browser_page
    coverage = clean_build.table("facility_coverage")
    rated = coverage[coverage["denominator_sites"].notna()]
    reported = page.locator('#chart-coverage g[id^="bar-reported-"]')
    assert reported.count() == len(coverage)  # a rate with no stated base too, hatched and hedged
    assert sorted(reported.evaluate_all("gs => gs.map(g => g.dataset.factId)")) == \
        sorted(coverage["coverage_pct_fact_id"])
    assert page.locator('#chart-coverage g[id^="bar-computed-"]').count() == len(rated)
    labels = page.locator("#chart-coverage svg text").all_text_contents()
    for row in coverage[coverage["denominator_sites"].isna()].itertuples():
        assert f"{row.coverage_pct}% [{row.hedge_en}]" in labels
    for row in rated.itertuples():
        assert f"{row.coverage_pct}%" in labels
        assert f"{row.coverage_pct_computed:.2f}% = {row.sites_covered}/{row.denominator_sites}" in labels
    population = page.locator("#chart-population svg text").all_text_contents()
    persons = clean_build.table("relocated_population").set_index("category_id")["persons"]
    gap = persons["registered_poor"] + persons["accompanying"] - persons["total"]
    assert any(f"parts − total = {gap:,}" in text for text in population)


def test_language_switch_changes_the_labels(browser_page):
    page, _, _ = browser_page
    cell = page.locator('table[data-table="facility_coverage"] tbody tr').first
    english = cell.inner_text()
    page.click("#lang-switch")
    assert page.locator("html").get_attribute("lang") == "zh-Hans"
    chinese = cell.inner_text()
    assert chinese != english and "居家养老服务设施" in chinese and "Home-based" not in chinese
    page.click("#lang-switch")
    assert cell.inner_text() == english and "Home-based" in english


def test_tables_sort_and_offer_downloads(browser_page):
    page, _, _ = browser_page
    table = page.locator('table[data-table="facts"]')
    names = column_names(table)
    column = names.index("value") + 1
    header = table.locator(f"th:nth-child({column})")
    header.locator("button").click()
    values = [float(v) for v in table.locator(f"tbody tr td:nth-child({column})").evaluate_all(
        "cells => cells.map(c => c.dataset.sort)")]
    assert values == sorted(values) and header.get_attribute("aria-sort") == "ascending"
    visible = table.locator("tbody tr:visible")
    assert visible.count() == 10 and visible.first.locator(f"td:nth-child({column})").get_attribute("data-sort") \
        == repr(values[0])  # sorting starts again at the first page
    for name in metadata.tables():
        assert page.locator(f'#tables a[href="../parquet/{name}.parquet"]').count() == 1
        assert page.locator(f'#tables a[href="../csv/{name}.csv"]').count() == 1


def test_discrepancies_show_both_quotes(browser_page):
    page, _, _ = browser_page
    quotes = page.locator("#checks .quotes blockquote").all_inner_texts()
    assert any("79406人" in q for q in quotes) and any("66128人" in q for q in quotes)


def test_full_page_screenshot(browser_page):
    page, _, _ = browser_page
    target = config.BUILD_DIR / "site-screenshot.jpg"  # the page is ~25,000 px tall; JPEG takes half PNG's time
    target.parent.mkdir(exist_ok=True)
    page.screenshot(path=str(target), full_page=True, type="jpeg", quality=80)
    assert target.stat().st_size > 50_000


def column_names(table) -> list[str]:
    return table.locator("th").evaluate_all("ths => ths.map(th => th.dataset.column)")


def test_release_page_links_resolve_inside_the_release(rel):
    """The release ships the page as index.html, with download links relative to the release root."""
    page = (rel.directory / "index.html").read_text(encoding="utf-8")
    links = re.findall(r'href="((?:parquet|csv)/[^"]+)"', page)
    assert len(set(links)) == 2 * len(metadata.tables())  # each in the table's section and under Download
    assert all((rel.directory / link).is_file() for link in links)


def test_a_missing_dataset_is_named_not_a_traceback(tmp_path):
    with pytest.raises(InputError, match="parquet/facts.parquet is missing"):
        site.run(tmp_path, tmp_path / "index.html")


def test_a_raw_file_of_another_size_is_refused_before_it_is_read(clean_build, tmp_path):
    other = tmp_path / "other.txt"
    other.write_bytes(b"x" * (2 << 20))  # larger than any raw file the pipeline accepts
    with pytest.raises(InputError, match="size differs from documents.raw_bytes"):
        site.run(clean_build.out, tmp_path / "index.html", raw=other)
    same_size = tmp_path / "same.txt"
    same_size.write_bytes(b"x" * config.RAW_FILE.stat().st_size)
    with pytest.raises(InputError, match="sha256 differs"):
        site.run(clean_build.out, tmp_path / "index.html", raw=same_size)


def test_chart_labels_are_drawn_as_plain_text(clean_build):
    """matplotlib typeset the text between two `$` as math: it was dropped, and `$\\frac{a}$` failed
    `make site` with a traceback. Every label is drawn as written."""
    from pipeline.site import charts

    tables = {name: clean_build.table(name) for name in ("facility_coverage", "relocated_population")}
    labels = ["$\\frac{a}$ care", "cost $5 and $6"]
    coverage = tables["facility_coverage"]
    coverage["facility_en"] = [labels[i % 2] for i in range(len(coverage))]
    tables["relocated_population"]["category_en"] = "$x^2$ group"
    svg = charts.charts(tables, clean_build.table("facts").set_index("fact_id"))
    assert all(label in svg["coverage"] for label in labels) and "$x^2$ group" in svg["population"]


# --- the front door: the first screen, downloads, citation, loading, footer, long tables ---------------

def test_first_screen_shows_what_version_licence_discrepancies_download_and_cite(browser_page, clean_build, epoch):
    page, _, _ = browser_page
    page.evaluate("window.scrollTo(0, 0)")
    height = page.viewport_size["height"]
    for selector in ("#release", "#about", "#discrepancies", "#download", "#cite"):
        box = page.locator(selector).bounding_box()
        assert box and box["y"] < height, (selector, box)
    release = page.locator("#release").inner_text()
    released = datetime.fromtimestamp(epoch, UTC).date().isoformat()
    assert f"version {config.version()}" in release and f"released {released}" in release and "CC BY 4.0" in release
    assert page.locator('#release a[rel="license"]').get_attribute("href") == "https://creativecommons.org/licenses/by/4.0/"
    checks = clean_build.table("checks")
    pinned = checks[checks["status"] == "source_discrepancy"]
    items = page.locator("#discrepancies li")
    assert items.count() == len(pinned)
    noun = "discrepancy" if len(pinned) == 1 else "discrepancies"
    assert page.locator("#discrepancies-h").inner_text() == f"{len(pinned)} {noun} in the source"
    quotes = clean_build.table("facts").set_index("fact_id")["quote"]
    for check in pinned.itertuples():
        item = page.locator(f'[id="disc-{check.check_id}"]')
        assert check.description in item.inner_text()
        shown = item.locator("button.fig").evaluate_all("bs => bs.map(b => [b.dataset.factId, b.textContent])")
        assert shown == [[f, quotes[f]] for f in check.fact_ids.split(";")]
        assert page.locator(f'[id="check-{check.check_id}"]').count() == 1


def test_headline_figure_in_a_discrepancy_is_marked(browser_page, clean_build):
    page, _, _ = browser_page
    checks = clean_build.table("checks")
    in_discrepancy = {f: c.check_id for c in checks[checks["status"] == "source_discrepancy"].itertuples()
                      for f in c.fact_ids.split(";")}
    cards = page.locator(".headline li").evaluate_all("""lis => lis.map(li => [
        li.querySelector('button').dataset.factId,
        li.querySelector('a.marker') && li.querySelector('a.marker').getAttribute('href')])""")
    expected = [(f, f"#disc-{in_discrepancy[f]}" if f in in_discrepancy else None) for f, _ in cards]
    assert cards and [tuple(card) for card in cards] == expected
    marked = dict(cards)["population.total.persons"]
    assert marked == "#disc-population.persons_sum"
    assert page.locator(".headline li.in-discrepancy button").inner_text() == "79,406"


def test_release_page_downloads_resolve_to_the_release_files(rel):
    """From the release directory (and so from a server of dist/): the zip, DuckDB, dictionary, checksums, tables."""
    html = (rel.directory / "index.html").read_text(encoding="utf-8")
    front = html.split('<section id="download"', 1)[1].split("</section>", 1)[0]
    links = re.findall(r'href="([^"]+)"', front)
    assert len(links) == 4 + 2 * len(metadata.tables())
    targets = {(rel.directory / link).resolve() for link in links}
    assert all(target.is_file() for target in targets), [t for t in targets if not t.is_file()]
    assert {rel.zip.name, rel.duckdb.name, "DATA_DICTIONARY.md", "SHA256SUMS"} <= {t.name for t in targets}
    assert (rel.assets / rel.zip.name).resolve() in targets and rel.duckdb.resolve() in targets


def test_cite_block_copies_bibtex_and_apa(browser_page, page_file):
    context = browser_page[0].context.browser.new_context()  # its own, with the clipboard allowed
    try:
        context.grant_permissions(["clipboard-read", "clipboard-write"])
        page = context.new_page()
        page.goto(page_file.as_uri())
        released = page.locator("#release time").get_attribute("datetime")
        for which, expected in (("cite-bibtex", citation.bibtex(released)), ("cite-apa", citation.apa(released))):
            button = page.locator(f'button[data-copy="{which}"]')
            button.click()
            page.wait_for_function("b => b.dataset.copied === 'true'", arg=button.element_handle())
            assert page.evaluate("navigator.clipboard.readText()") == expected
        assert page.locator("#cite-source").text_content() == citation.source_apa()
    finally:
        context.close()


def test_loading_snippets_are_the_tested_ones(browser_page):
    page, _, _ = browser_page
    shown = page.locator("#load pre.snippet").evaluate_all("ps => ps.map(p => [p.id, p.textContent])")
    assert shown == [[f"snippet-{s.id}", s.for_directory("parquet/")] for s in snippets.SNIPPETS]
    labels = page.locator("#load h3").all_text_contents()
    assert labels == [s.label for s in snippets.SNIPPETS]


def test_footer_names_licence_source_version_and_checksum(browser_page, clean_build):
    page, _, _ = browser_page
    footer = page.locator("footer").inner_text()
    document = clean_build.table("documents").iloc[0]
    for expected in ("CC BY 4.0", document["publisher_en"], document["index_number"], config.version(),
                     document["raw_sha256"], "SHA256SUMS"):
        assert expected in footer, expected


def test_tables_are_headed_by_labels_with_descriptions_on_hover(browser_page):
    page, _, _ = browser_page
    for name, declared in metadata.tables().items():
        heads = page.locator(f'table.data[data-table="{name}"] th').evaluate_all(
            "ths => ths.map(th => [th.dataset.column, th.title, th.querySelector('.en-only').textContent])")
        descriptions = {c["name"]: c["description"] for c in declared["columns"]}
        for column, title, label in heads:
            if column in descriptions:
                assert title == f"{column}: {descriptions[column]}"
            assert label == site.column_label(column) and "_" not in label
    facts = page.locator('table[data-table="facts"] th')
    assert facts.evaluate_all("ths => ths.filter(th => th.offsetParent).map(th => th.dataset.column)") == \
        [c for c in site.READER_COLUMNS if not c.endswith("_zh")]
    labels = facts.evaluate_all("ths => ths.filter(th => th.offsetParent).map(th => th.innerText)")
    assert labels[:5] == ["Metric", "Value", "Value up to", "Unit", "Period"]


def test_the_note_is_on_screen_at_1400_pixels(browser_page, page_file):
    page = browser_page[0].context.browser.new_page(viewport={"width": 1400, "height": 900})
    try:
        page.goto(page_file.as_uri())
        note = page.locator('table[data-table="facts"] th[data-column="note_en"]').bounding_box()
        assert note["x"] + note["width"] <= 1400, note
        # 51,700 with every row shown; 30,700 with the 24 tables of 2.1.0 paged, before the section on other reports
        assert page.evaluate("document.documentElement.scrollHeight") < 32_000
    finally:
        page.close()


def test_long_tables_are_paged_and_extra_columns_shown_on_request(browser_page, clean_build):
    page, _, _ = browser_page
    facts = clean_build.table("facts")
    table = page.locator('table[data-table="facts"]')
    tools = page.locator('.table-tools[data-for="facts"]')
    tools.locator(".rows-toggle").click() if tools.locator(".rows-toggle").get_attribute("aria-pressed") == "true" \
        else None
    assert table.locator("tbody tr:visible").count() == 10
    assert tools.locator(".pager-status").inner_text() == f"Rows 1–10 of {len(facts)}"
    tools.locator(".pager-next").click()
    assert tools.locator(".pager-status").inner_text() == f"Rows 11–20 of {len(facts)}"
    tools.locator(".rows-toggle").click()
    assert table.locator("tbody tr:visible").count() == len(facts)
    tools.locator(".rows-toggle").click()
    fact_id = table.locator('th[data-column="fact_id"]')
    assert not fact_id.is_visible()
    tools.locator(".columns-toggle").click()
    assert fact_id.is_visible() and table.locator("td.extra:visible").count() > 0
    tools.locator(".columns-toggle").click()
    assert not fact_id.is_visible()
    small = page.locator('table[data-table="relocated_population"] tbody tr')
    assert small.count() == small.locator("xpath=self::tr[not(@hidden)]").count()  # short tables are not paged


def test_checks_are_paged_with_the_discrepancies_first(browser_page, clean_build):
    page, _, _ = browser_page
    checks = clean_build.table("checks")
    pinned = int((checks["status"] == "source_discrepancy").sum())
    rows = page.locator('table[data-table="checks-view"] tbody tr')
    statuses = rows.evaluate_all("rs => rs.map(r => [r.hidden, r.cells[1].textContent])")
    assert len(statuses) == len(checks) and sum(not hidden for hidden, _ in statuses) == 10
    assert [status for _, status in statuses[:pinned]] == ["source_discrepancy"] * pinned
    status = page.locator('.table-tools[data-for="checks-view"] .pager-status')
    assert status.inner_text() == f"Rows 1–10 of {len(checks)}"


def test_every_figure_the_text_writes_with_a_percent_sign_is_written_with_one(clean_build):
    """Percentages and percentage points alike: the page writes a figure as the text does."""
    facts = clean_build.table("facts")
    assert facts["unit"].isin(values.PERCENT_UNITS).any()
    for _, fact in facts.iterrows():
        written = values.fact_value(fact)
        assert written.endswith("%") == fact["quote"].endswith(("%", "％")), (fact["fact_id"], written)


def test_a_figure_reported_elsewhere_says_so_in_its_card_and_in_the_section_on_other_reports(browser_page,
                                                                                              clean_build):
    """Issue 23: beside each figure, "also reported as … by …, date"; and each other text with its pairs."""
    page, _, _ = browser_page
    pairs = clean_build.table("corroborations")
    documents = clean_build.table("documents").set_index("document_id")
    pair = pairs[(pairs["fact_id"] == "site_bands.cross_prefecture.sites")
                 & (pairs["figure_id"] == "from_nujiang.households")].iloc[0]
    page.locator(f'#reading-text .en mark[data-fact-id="{pair["fact_id"]}"]').click()
    card = page.locator("#reading-text .fact-card:visible").inner_text()
    # Context is never "also reported as": that is said only of one quantity (pipeline/corroborations.py).
    assert (pairs.loc[pairs["fact_id"] == pair["fact_id"], "status"] == "context").all()
    assert "also reported as" not in card
    assert card.count("related figure, not the same quantity:") == (pairs["fact_id"] == pair["fact_id"]).sum()
    assert f"{pair['other_value']:,.0f}" in card and pair["other_quote"] in card
    assert documents.loc[pair["document_id"], "publication_date"] in card
    assert "a cross-prefecture relocation into Baoshan, from Nujiang" in card  # the note on the direction
    section = page.locator("#others")
    assert section.locator("details.other-document").count() == len(documents) - 1
    section.locator(f'#doc-{pair["document_id"]} summary').click()
    rows = section.locator(f'#doc-{pair["document_id"]} tbody tr')
    assert rows.count() == (pairs["document_id"] == pair["document_id"]).sum()
    assert rows.filter(has_text=pair["other_quote"]).count() >= 1
