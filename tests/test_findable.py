"""Findable and citable: the page's schema.org Dataset JSON-LD and the release's croissant.json."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import socket
import tomllib
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest
import yaml

from pipeline import config, metadata, site
from pipeline.errors import ValidationFailed, VerificationFailed
from pipeline.release import archive, citation, croissant, verify
from pipeline.release import build as release
from pipeline.site import jsonld
from tests.test_release import run_cli

PYPROJECT = tomllib.loads((config.ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
SCRIPT = re.compile(r'<script type="application/ld\+json">(.*?)</script>', re.S)


def page_jsonld(page: Path) -> dict:
    blocks = SCRIPT.findall(page.read_text(encoding="utf-8"))
    assert len(blocks) == 1, f"{page} has {len(blocks)} JSON-LD blocks"
    head = page.read_text(encoding="utf-8").split("</head>", 1)[0]
    assert blocks[0] in head, "the JSON-LD block is not in the page's <head>"
    return json.loads(blocks[0])


@pytest.fixture(scope="module")
def ld(rel) -> dict:
    return page_jsonld(rel.directory / "index.html")


def test_page_jsonld_describes_the_dataset(ld, rel, clean_build):
    documents = clean_build.table("documents").iloc[0]
    manifest = yaml.safe_load(config.MANIFEST.read_text(encoding="utf-8"))
    assert ld["@context"] == "https://schema.org/" and ld["@type"] == "Dataset"
    assert ld["name"] and re.search(r"[\u4e00-\u9fff]", ld["alternateName"])
    assert ld["description"] == PYPROJECT["description"]
    assert ld["version"] == PYPROJECT["version"]
    assert ld["license"] == "https://creativecommons.org/licenses/by/4.0/"
    assert ld["creator"]["@type"] == ld["publisher"]["@type"] == "Organization" and ld["creator"]["name"]
    assert set(ld["inLanguage"]) == {"zh-Hans", "en"}
    assert set(PYPROJECT["keywords"]) <= set(ld["keywords"]) and "保山市" in ld["keywords"]
    source = ld["isBasedOn"]
    assert source["@type"] == "CreativeWork" and source["inLanguage"] == "zh-Hans"
    assert source["publisher"]["name"] == documents["publisher_zh"] == "保山市民政局"
    assert source["datePublished"] == documents["publication_date"] == manifest["publication_date"]
    assert source["identifier"] == documents["index_number"] == manifest["index_number"]
    assert source["name"] == manifest["title_zh"]


def test_page_cites_the_source_letter_and_credits_citation_cff(ld, rel, clean_build):
    cff = yaml.safe_load((rel.directory / "CITATION.cff").read_text(encoding="utf-8"))
    documents = clean_build.table("documents").iloc[0]
    letter = cff["references"][0]
    cited = ld["citation"]
    assert cited == ld["isBasedOn"] | {"text": cited["text"]}
    assert cited["name"] == letter["title"] and cited["datePublished"] == letter["date-published"]
    assert cited["identifier"] == letter["identifiers"][0]["value"] == documents["index_number"]
    assert cited["isPartOf"]["name"] == documents["catalogue_zh"]
    assert documents["catalogue_zh"] in letter["collection-title"]
    assert documents["index_number"] in cited["text"] and documents["publisher_en"] in cited["text"]
    assert ld["identifier"] == f"{config.DATASET_NAME}-{cff['version']}" and ld["version"] == cff["version"]
    assert ld["datePublished"] == cff["date-released"] and ld["url"] == "index.html"
    assert ld["creditText"].startswith(f"{cff['authors'][0]['name']}. ({cff['date-released'][:4]}). {cff['title']} "
                                       f"(Version {cff['version']}) [Data set].")


def test_a_release_url_makes_every_content_url_absolute(clean_build, tmp_path, monkeypatch):
    base = "https://data.example.org/baoshan/releases"
    monkeypatch.setenv("RELEASE_BASE_URL", base + "/")
    built = release.build(clean_build.out, tmp_path / "dist", 1_700_000_000)
    assets = f"{base}/v{PYPROJECT['version']}/"
    ld = page_jsonld(built.directory / "index.html")
    assert ld["url"] == assets
    assert all(d["contentUrl"] == assets + d["name"] for d in ld["distribution"]), ld["distribution"]
    assert {d["name"] for d in ld["distribution"]} <= set(archive.files_under(built.assets))
    described = json.loads((built.directory / "croissant.json").read_text(encoding="utf-8"))
    assert described["url"] == assets
    assert all(f["contentUrl"] == assets + f["name"] for f in described["distribution"])
    cff = yaml.safe_load((built.directory / "CITATION.cff").read_text(encoding="utf-8"))
    assert cff["url"] == cff["preferred-citation"]["url"] == assets
    assert {"identifier": assets, "relation": "isIdenticalTo", "resource_type": "dataset", "scheme": "url"} \
        in citation.zenodo("2023-11-14")["related_identifiers"]


def test_page_coverage_comes_from_the_tables(ld, clean_build):
    places = clean_build.table("places")
    prefecture = places[places["level"] == "prefecture"].iloc[0]
    place = ld["spatialCoverage"]
    assert place["@type"] == "Place" and place["name"] == prefecture["name_zh"] == "保山市"
    assert place["identifier"]["propertyID"] == "GB/T 2260"
    assert place["identifier"]["value"] == prefecture["admin_code"] == "530500"
    # The period starts at the earliest as_of and ends at the latest (ISO strings order by time when cut to
    # the coarser of two granularities).
    periods = [v.split("/") for v in clean_build.table("facts")["as_of"].dropna()]
    assert periods, "no figure is dated"
    start, _, end = ld["temporalCoverage"].partition("/")
    end = end or start
    assert start in {p[0] for p in periods} and end in {p[-1] for p in periods}
    assert all(start <= p[0] and p[-1][:len(end)] <= end for p in periods)


def test_page_measures_every_figure_with_its_unit(ld, clean_build):
    facts = clean_build.table("facts")
    assert len(facts) == 81
    variables = ld["variableMeasured"]
    assert [v["propertyID"] for v in variables] == list(facts["fact_id"])
    for variable, fact in zip(variables, facts.itertuples(), strict=True):
        assert variable["@type"] == "PropertyValue"
        assert variable["name"] == fact.metric_en and variable["alternateName"] == fact.metric_zh
        assert variable["unitText"] == fact.unit_en
        if pd.isna(fact.value_max):
            assert variable["value"] == fact.value
        else:
            assert (variable["minValue"], variable["maxValue"]) == (fact.value, fact.value_max)
        assert fact.quote in variable["description"]


def test_page_distribution_links_every_format(ld, rel):
    downloads = ld["distribution"]
    assert {d["@type"] for d in downloads} == {"DataDownload"}
    formats = {d["encodingFormat"] for d in downloads}
    assert formats == {"application/vnd.apache.parquet", "text/csv", "application/vnd.duckdb", "application/zip"}
    names = {d["name"] for d in downloads}
    for table in metadata.tables():
        assert {f"{table}.parquet", f"{table}.csv"} <= names
    # Relative to the page: tables inside the release directory, the zip and DuckDB file among the assets.
    for download in downloads:
        target = (rel.directory / download["contentUrl"]).resolve()
        assert target.is_file(), download
        assert target.name == download["name"]
    assert {(rel.directory / d["contentUrl"]).resolve() for d in downloads} >= {
        (rel.assets / rel.zip.name).resolve(), rel.duckdb.resolve()}


def test_output_page_links_resolve_from_output_site(clean_build, tmp_path):
    output = tmp_path / "output"
    shutil.copytree(clean_build.out, output)
    page = site.run(output, output / "site" / "index.html")
    ld = page_jsonld(page)
    for download in ld["distribution"]:
        if download["encodingFormat"] != "application/zip":  # the zip exists after `make release`
            assert (page.parent / download["contentUrl"]).resolve().is_file(), download


def test_page_follows_the_data_not_constants(clean_build):
    tables = {name: clean_build.table(name) for name in metadata.tables()}
    tables["facts"] = tables["facts"].iloc[:-1].copy()
    tables["facts"]["as_of"] = None
    tables["facts"].loc[tables["facts"].index[0], "as_of"] = "2016/2020"
    tables["facts"].loc[tables["facts"].index[1], "as_of"] = "2021-06-30"
    places = tables["places"].copy()
    places.loc[places["level"] == "prefecture", "admin_code"] = "999999"
    tables["places"] = places
    ld = jsonld.page_dataset(tables, "")
    assert len(ld["variableMeasured"]) == 80
    assert ld["temporalCoverage"] == "2016/2021-06-30"
    assert ld["spatialCoverage"]["identifier"]["value"] == "999999"


@pytest.mark.parametrize(("values", "expected"), [
    ([None, "2019", None, "2021-03"], "2019/2021-03"),
    (["2016/2020", "2019-05-01"], "2016/2020"),
    (["2020", "2020-12-31"], "2020"),          # a date inside the year: the year covers it
    (["2020-12", "2020-12-31"], "2020-12"),
    (["2021-03-01", "2021-03-01"], "2021-03-01"),
    (["2016/2020", "2021-06-30", "2015-07"], "2015-07/2021-06-30"),
    ([None, None], None),
])
def test_temporal_coverage_spans_every_as_of(values, expected):
    assert jsonld.temporal_coverage(pd.Series(values, dtype="object")) == expected


def test_temporal_coverage_refuses_a_value_that_is_no_period():
    with pytest.raises(ValidationFailed, match="temporal_coverage.*'spring 2020'"):
        jsonld.temporal_coverage(pd.Series(["2020", "spring 2020"]))


def test_jsonld_script_cannot_be_closed_by_its_content():
    hostile = {"name": "</script><script>alert(1)</script><!-- 保山"}
    block = jsonld.script(hostile)
    inner = block.split(">", 1)[1].rsplit("</script>", 1)[0]
    assert "<" not in inner and json.loads(inner) == hostile


def test_release_page_is_dated_by_the_release_epoch(clean_build, tmp_path, monkeypatch):
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    epoch = 1_700_000_000
    built = release.build(clean_build.out, tmp_path / "dist", epoch)
    date = datetime.fromtimestamp(epoch, UTC).date().isoformat()
    assert page_jsonld(built.directory / "index.html")["datePublished"] == date
    assert json.loads((built.directory / "croissant.json").read_text(encoding="utf-8"))["datePublished"] == date
    assert "SOURCE_DATE_EPOCH" not in os.environ


# --- croissant.json -------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def description(rel) -> dict:
    return json.loads((rel.directory / "croissant.json").read_text(encoding="utf-8"))


def test_croissant_is_generated_from_the_declaration(description, rel):
    assert description["conformsTo"] == croissant.CONFORMS_TO == "http://mlcommons.org/croissant/1.1"
    assert description["version"] == PYPROJECT["version"]
    assert description["identifier"] == f"{config.DATASET_NAME}-{PYPROJECT['version']}"
    assert description["url"] == "index.html" and description["datePublished"] == rel.released
    assert description["citeAs"] == citation.bibtex(rel.released)
    assert description["isBasedOn"]["identifier"] == description["citation"]["identifier"]
    assert description["isBasedOn"]["name"] == {"@value": citation.source()["title_zh"], "@language": "zh-Hans"}
    files = {f["@id"]: f for f in description["distribution"]}
    assert set(files) == {f"parquet/{t}.parquet" for t in metadata.tables()}
    for relative, file in files.items():
        data = (rel.directory / relative).read_bytes()
        assert file["@type"] == "cr:FileObject" and file["contentUrl"] == relative
        assert file["sha256"] == hashlib.sha256(data).hexdigest() and file["contentSize"] == f"{len(data)} B"
    record_sets = {r["@id"]: r for r in description["recordSet"]}
    assert list(record_sets) == list(metadata.tables())
    for name, table in metadata.tables().items():
        fields = record_sets[name]["field"]
        assert [f["name"] for f in fields] == [c["name"] for c in table["columns"]]
        assert [f["description"] for f in fields] == [c["description"] for c in table["columns"]]
        types = {"string": "sc:Text", "int64": "sc:Integer", "float64": "sc:Float", "bool": "sc:Boolean"}
        assert [f["dataType"] for f in fields] == [types[c["type"]] for c in table["columns"]]
        assert [k["@id"] for k in record_sets[name]["key"]] == [f"{name}/{c}" for c in table["primary_key"]]
    persons = next(f for f in record_sets["relocated_population"]["field"] if f["name"] == "persons_fact_id")
    assert persons["references"] == {"field": {"@id": "facts/fact_id"}}


def _records_frame(dataset, name: str) -> pd.DataFrame:
    prefix = f"{name}/"
    rows = [{key.removeprefix(prefix): value.decode("utf-8") if isinstance(value, bytes) else value
             for key, value in record.items()} for record in dataset.records(name)]
    return pd.DataFrame(rows, columns=[c["name"] for c in metadata.tables()[name]["columns"]])


def _comparable(frame: pd.DataFrame) -> list[list]:
    return [[None if not isinstance(v, (list, dict)) and pd.isna(v) else v for v in row]
            for row in frame.astype(object).itertuples(index=False, name=None)]


@pytest.fixture
def offline(monkeypatch):
    """Any attempt to open a network connection fails the test."""
    def refuse(*args, **kwargs):
        raise AssertionError(f"network access attempted: {args}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


@pytest.mark.filterwarnings("ignore:The inplace keyword:Warning", "ignore:ConjunctiveGraph is deprecated")
def test_mlcroissant_validates_and_reads_every_table_offline(rel, offline):
    mlc = pytest.importorskip("mlcroissant")
    dataset = mlc.Dataset(jsonld=str(rel.directory / "croissant.json"))
    issues = dataset.metadata.ctx.issues
    assert not issues.errors and not issues.warnings, issues.report()
    for name in metadata.tables():
        expected = pq.read_table(rel.directory / "parquet" / f"{name}.parquet").to_pandas()
        loaded = _records_frame(dataset, name)
        assert _comparable(loaded) == _comparable(expected), name
    facts = _records_frame(dataset, "facts")
    assert len(facts) == 81 and list(facts["fact_id"]) == list(
        pq.read_table(rel.directory / "parquet" / "facts.parquet").column("fact_id").to_pylist())


def test_a_tampered_croissant_json_fails_verify(rel, tmp_path):
    copy = tmp_path / rel.directory.name
    shutil.copytree(rel.directory, copy)
    path = copy / "croissant.json"
    text = path.read_text(encoding="utf-8")
    facts_hash = hashlib.sha256((copy / "parquet" / "facts.parquet").read_bytes()).hexdigest()
    assert facts_hash in text
    path.write_text(text.replace(facts_hash, "0" * 64), encoding="utf-8")
    with pytest.raises(VerificationFailed, match=r"altered: croissant\.json"):
        verify.run(copy)
    code, _, stderr = run_cli("verify", str(copy))
    assert code == 5 and "croissant.json" in stderr and "Traceback" not in stderr
