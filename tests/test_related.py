"""Related documents (issue 23): a second source is one folder of work, and bad input names its document.

Each test works in a temporary copy of the project (every tracked or committable file), adds a small
document there as a contributor would (a raw file, its manifest entry and its catalog folder) and runs the
copy's own `python -m pipeline build`: no pipeline code is changed, and the real project is not touched.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

from pipeline import config
from pipeline.arrow import read_table
from tests.conftest import record, tree_digest

# A short report written for this test, in the form a county's relocation bulletin takes: a title, a
# dateline, a sentence of figures the letter also reports (for another area), and a number of another subject.
TEXT = ("某县易地扶贫搬迁工作简报\n"
        "2020年12月1日\n"
        "全县建成集中安置点5个，搬迁群众1200户5000人。\n"
        "另有乡村公路30公里。\n")
DOCUMENT_ID = "county_bulletin_2020"

FIGURES = {
    "document_id": DOCUMENT_ID,
    "area_zh": "某县",
    "area_en": "a county",
    "figures": [
        {"figure_id": "sites", "metric_zh": "集中安置点", "metric_en": "Centralised resettlement sites",
         "population_zh": "全县集中安置点", "population_en": "The county's centralised resettlement sites",
         "unit": "sites", "find": "安置点{}", "as_of_find": "{}\n全县"},
        {"figure_id": "households", "metric_zh": "搬迁户数", "metric_en": "Households relocated",
         "population_zh": "全县搬迁户", "population_en": "Households the county relocated",
         "unit": "households", "find": "搬迁群众{}", "as_of_find": "{}\n全县",
         "note_en": "A county's households, within no city total the text names.",
         "note_zh": "某县的户数，原文未说明属于哪个市。"},
        {"figure_id": "persons", "metric_zh": "搬迁人数", "metric_en": "Persons relocated",
         "population_zh": "全县搬迁人口", "population_en": "Persons the county relocated",
         "unit": "persons", "find": "搬迁群众{*}{}", "as_of": "publication_date"},
    ],
    "non_figures": [{"find": "公路{}", "kind": "outside_subject",
                     "reason": "Length of rural roads: not a subject of this dataset."}],
}
TRANSLATIONS = {"sentences": {"body.s03": {
    "zh": "全县建成集中安置点{sites}，搬迁群众{households}{persons}。",
    "en": "The county has built {sites} centralised resettlement sites and relocated {households} households "
          "({persons} persons)."}}}
PAIRS = {"corroborations": [
    {"fact_id": "population.total.households", "figure_id": "households", "status": "different_scope",
     "note_en": "One county's households beside the city's total.", "note_zh": "一个县的户数与全市总数。"},
    {"fact_id": "population.total.persons", "figure_id": "persons", "status": "different_scope",
     "note_en": "One county's persons beside the city's total.", "note_zh": "一个县的人数与全市总数。"},
    {"fact_id": "sites.total", "figure_id": "sites", "status": "different_scope",
     "note_en": "One county's sites beside the city's.", "note_zh": "一个县的安置点与全市安置点。"},
]}


def committable_files() -> list[str]:
    listed = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"], cwd=config.ROOT,
                            capture_output=True, text=True, check=True).stdout
    return [name for name in listed.split("\0") if name and (config.ROOT / name).is_file()]


@pytest.fixture(scope="module")
def pristine(tmp_path_factory) -> Path:
    """One copy of the project, made once; each test takes a copy of it."""
    root = tmp_path_factory.mktemp("project") / "repo"
    for name in committable_files():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(config.ROOT / name, root / name)
    return root


@pytest.fixture
def project(pristine, tmp_path) -> Path:
    root = tmp_path / "repo"
    shutil.copytree(pristine, root, symlinks=True)
    return root


def add_document(root: Path, text: str = TEXT, figures: dict = FIGURES, translations: dict = TRANSLATIONS,
                 pairs: dict = PAIRS, sha256: str | None = None) -> None:
    """What a contributor adds for a new document: its raw file, its manifest entry and its catalog folder."""
    raw = text.encode("utf-8")
    (root / "raw" / "related").mkdir(parents=True, exist_ok=True)
    (root / "raw" / "related" / f"{DOCUMENT_ID}.txt").write_bytes(raw)
    manifest = yaml.safe_load((root / "raw" / "manifest.yaml").read_text(encoding="utf-8"))
    manifest.setdefault("related_documents", []).append({
        "document_id": DOCUMENT_ID, "file": f"{DOCUMENT_ID}.txt", "sha256": sha256 or hashlib.sha256(raw).hexdigest(),
        "bytes": len(raw), "kind": "official_news", "title_zh": "某县易地扶贫搬迁工作简报",
        "title_en": "A county's relocation bulletin", "publisher_zh": "某县人民政府",
        "publisher_en": "A county government", "publication_date": "2020-12-01",
        "source_url": "https://example.org/bulletin", "retrieved": "2026-12-02",
        "obtained": "Written for this test.", "licence_note": "Test text."})
    (root / "raw" / "manifest.yaml").write_text(yaml.safe_dump(manifest, allow_unicode=True, sort_keys=False),
                                                encoding="utf-8")
    folder = root / "pipeline" / "catalog" / "documents" / DOCUMENT_ID
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in (("figures.yaml", figures), ("translations.yaml", translations),
                       ("corroborations.yaml", pairs)):
        (folder / name).write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")


def build(root: Path, out: Path) -> subprocess.CompletedProcess:
    """The copy's own command line, on its own raw text, catalog and code."""
    env = {**os.environ, "PYTHONPATH": str(root)}
    return subprocess.run([sys.executable, "-m", "pipeline", "build", "--out", str(out)], cwd=root, env=env,
                          capture_output=True, text=True, timeout=300)


def test_a_document_added_as_data_is_built_without_code_changes(project, tmp_path):
    add_document(project)
    code = {name: (project / name).read_bytes() for name in committable_files() if name.endswith(".py")}
    result = build(project, tmp_path / "out")
    assert result.returncode == 0, result.stderr
    assert all((project / name).read_bytes() == data for name, data in code.items())
    documents = read_table(tmp_path / "out" / "parquet" / "documents.parquet")
    assert documents["document_id"].tolist()[-1] == DOCUMENT_ID
    assert documents.iloc[-1]["role"] == "related" and documents.iloc[-1]["kind"] == "official_news"
    figures = read_table(tmp_path / "out" / "parquet" / "related_figures.parquet")
    mine = figures[figures["document_id"] == DOCUMENT_ID].set_index("figure_id")
    assert mine.loc["households", "value"] == 1200 and mine.loc["persons", "value"] == 5000
    assert mine.loc["sites", "as_of"] == "2020-12-01" and mine.loc["sites", "as_of_basis"] == "stated_in_text"
    assert mine.loc["persons", "as_of_basis"] == "publication_date"
    for row in mine.itertuples():
        assert TEXT[row.char_start:row.char_end] == row.quote
    assert mine.loc["households", "sentence_en"] == ("The county has built 5 centralised resettlement sites and "
                                                     "relocated 1,200 households (5,000 persons).")
    mentions = read_table(tmp_path / "out" / "parquet" / "related_mentions.parquet")
    mentions = mentions[mentions["document_id"] == DOCUMENT_ID]
    assert mentions.set_index("text").loc["30公里", "accounted_as"] == "outside_subject"
    pairs = read_table(tmp_path / "out" / "parquet" / "corroborations.parquet")
    pair = pairs[(pairs["document_id"] == DOCUMENT_ID) & (pairs["figure_id"] == "households")].iloc[0]
    assert pair["status"] == "different_scope" and pair["other_value"] == 1200
    assert pd.isna(pair["difference"])  # a county's households beside the city's: not one quantity
    # The letter's own tables are what they were: its figures and ids are unchanged.
    facts = read_table(tmp_path / "out" / "parquet" / "facts.parquet")
    assert len(facts) == 81 and set(facts["document_id"]) == {documents["document_id"].iloc[0]}
    record("variants", "a related document added as data (raw file, manifest entry, catalog folder)", "built")


@pytest.mark.parametrize("case, change, code, expected", [
    ("its hash differs from its manifest entry", {"sha256": "0" * 64}, 2, "does not match its entry"),
    ("it has an unaccounted number", {"text": TEXT.replace("另有乡村公路30公里。", "另有乡村公路30公里，桥梁4座。")}, 3,
     "every_number_accounted"),
    ("its catalog names another document", {"figures": {**FIGURES, "document_id": "another_document"}}, 3,
     "names document 'another_document'"),
    ("a paired figure has left its text", {"text": TEXT.replace("搬迁群众1200户", "搬迁1200户"),
                                           "translations": {"sentences": {}}}, 3, "households (Households relocated)"),
    ("its pair's status does not fit the values", {"pairs": {"corroborations": [
        {**PAIRS["corroborations"][0], "status": "same"}, *PAIRS["corroborations"][1:]]}}, 3,
     "check corroboration_status failed"),
])
def test_bad_input_in_one_document_names_it_and_keeps_the_output(project, tmp_path, case, change, code, expected):
    out = tmp_path / "out"
    assert build(project, out).returncode == 0
    before = tree_digest(out)
    add_document(project, **change)
    result = build(project, out)
    assert result.returncode == code, result.stderr
    assert DOCUMENT_ID in result.stderr and expected in result.stderr, result.stderr
    assert "Traceback" not in result.stderr
    assert tree_digest(out) == before  # nothing of the other documents' output is lost
    record("clear error", f"a related document whose {case.removeprefix('its ').removeprefix('it ')}",
           f"exit {code}")


def test_a_catalog_folder_without_a_manifest_entry_is_named(project, tmp_path):
    add_document(project)
    manifest = yaml.safe_load((project / "raw" / "manifest.yaml").read_text(encoding="utf-8"))
    manifest["related_documents"] = [d for d in manifest["related_documents"] if d["document_id"] != DOCUMENT_ID]
    (project / "raw" / "manifest.yaml").write_text(yaml.safe_dump(manifest, allow_unicode=True), encoding="utf-8")
    result = build(project, tmp_path / "out")
    assert result.returncode == 3 and f"documents/{DOCUMENT_ID}" in result.stderr, result.stderr


def test_a_manifest_entry_cannot_name_a_path_outside_raw_related(project, tmp_path):
    add_document(project)
    manifest_path = project / "raw" / "manifest.yaml"
    manifest = yaml.safe_load(manifest_path.read_text(encoding="utf-8"))
    manifest["related_documents"][-1]["file"] = "../manifest.yaml"
    manifest_path.write_text(yaml.safe_dump(manifest, allow_unicode=True), encoding="utf-8")
    result = build(project, tmp_path / "out")
    assert result.returncode == 2 and "file" in result.stderr and "Traceback" not in result.stderr, result.stderr


@pytest.mark.parametrize("case, spoil, code, expected", [
    ("its file is missing", lambda root: (root / "raw" / "related" / f"{DOCUMENT_ID}.txt").unlink(), 2,
     "is missing or not a regular file"),
    ("its file is a link", lambda root: ((root / "raw" / "related" / f"{DOCUMENT_ID}.txt").unlink(),
                                         (root / "raw" / "related" / f"{DOCUMENT_ID}.txt").symlink_to(
                                             root / "raw" / "manifest.yaml")), 2, "is a link"),
    ("its folder lacks translations.yaml",
     lambda root: (root / "pipeline" / "catalog" / "documents" / DOCUMENT_ID / "translations.yaml").unlink(), 3,
     "translations.yaml cannot be read"),
])
def test_a_broken_document_is_one_named_error(project, tmp_path, case, spoil, code, expected):
    add_document(project)
    spoil(project)
    result = build(project, tmp_path / "out")
    assert result.returncode == code and DOCUMENT_ID in result.stderr and expected in result.stderr, result.stderr
    assert "Traceback" not in result.stderr and not (tmp_path / "out").exists()
    record("clear error", f"a related document: {case}", f"exit {code}")


def test_a_changed_number_in_another_text_propagates_to_its_pairs(project, tmp_path):
    """The other texts obey the letter's rule: a changed number (with the manifest entry recorded anew)
    changes the published figure and its pairs, or fails a named check; it is never silently kept."""
    add_document(project)
    entry_path = project / "raw" / "manifest.yaml"
    changed = TEXT.replace("1200户", "1300户").encode("utf-8")
    (project / "raw" / "related" / f"{DOCUMENT_ID}.txt").write_bytes(changed)
    manifest = yaml.safe_load(entry_path.read_text(encoding="utf-8"))
    manifest["related_documents"][-1].update(sha256=hashlib.sha256(changed).hexdigest(), bytes=len(changed))
    entry_path.write_text(yaml.safe_dump(manifest, allow_unicode=True, sort_keys=False), encoding="utf-8")
    result = build(project, tmp_path / "out")
    assert result.returncode == 0, result.stderr
    pairs = read_table(tmp_path / "out" / "parquet" / "corroborations.parquet")
    pair = pairs[(pairs["document_id"] == DOCUMENT_ID) & (pairs["figure_id"] == "households")].iloc[0]
    assert (pair["other_value"], pair["other_quote"]) == (1300, "1300户")
    figures = read_table(tmp_path / "out" / "parquet" / "related_figures.parquet")
    figures = figures.set_index(["document_id", "figure_id"])
    assert "1,300 households" in figures.loc[(DOCUMENT_ID, "households"), "sentence_en"]
    record("mutation suite", f"{DOCUMENT_ID}: 1200户 -> 1300户 (manifest recorded anew)", "propagated")


@pytest.mark.parametrize("source_file", ["related/../manifest.yaml", "../pyproject.toml", "/etc/passwd",
                                         "related/sub/x.txt", "related/.hidden.txt", "other/x.txt"])
def test_a_release_ships_only_a_plain_file_of_raw_that_the_dataset_names(source_file):
    """documents.source_file comes from the dataset, which is outside input: a path out of raw/ and
    raw/related/ is never read or written into the release, whatever hash the row records."""
    from pipeline.errors import InputError
    from pipeline.release.build import shipped_source

    with pytest.raises(InputError, match="was not built from a raw file"):
        shipped_source(Path("output"), source_file, "0" * 64)
    manifest = yaml.safe_load(config.MANIFEST.read_text(encoding="utf-8"))
    entry = manifest["related_documents"][0]
    name = f"related/{entry['file']}"
    assert shipped_source(Path("output"), name, entry["sha256"]) == config.RAW_DIR / "related" / entry["file"]


def test_only_a_web_address_from_a_table_becomes_a_link_on_the_page():
    from pipeline.site import web_link

    assert web_link("https://longyang.gov.cn/info/1938/6758109.htm").startswith("https://")
    assert web_link("javascript:alert(1)") == web_link("file:///etc/passwd") == web_link(None) == ""
