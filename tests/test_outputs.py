"""Published files: byte-identical rebuilds, metadata, DuckDB queries from the README."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import duckdb
import pyarrow.parquet as pq
import pytest

from pipeline import config, errors, metadata
from tests.conftest import build


def published_files(out):
    return sorted(p.relative_to(out) for p in out.rglob("*") if p.suffix in (".parquet", ".csv"))


def test_two_builds_give_byte_identical_parquet_and_csv(tmp_path, clean_build):
    again = build(config.RAW_FILE, tmp_path / "again")
    assert again.code == 0
    files = published_files(clean_build.out)
    assert files == published_files(again.out) and len(files) == 2 * len(metadata.tables())
    for relative in files:
        assert (clean_build.out / relative).read_bytes() == (again.out / relative).read_bytes(), relative


def test_duckdb_contents_are_identical_across_builds(tmp_path, clean_build):
    again = build(config.RAW_FILE, tmp_path / "again")
    for name in metadata.tables():
        rows = []
        for out in (clean_build.out, again.out):
            with duckdb.connect(str(out / config.DUCKDB_FILE), read_only=True) as con:
                rows.append(con.sql(f"SELECT * FROM {name} ORDER BY ALL").fetchall())
        assert rows[0] == rows[1], name


def test_duckdb_holds_the_rows_of_the_published_parquet(clean_build):
    """DuckDB loads the validated build files while the Parquet files are written from them: same rows."""
    with duckdb.connect(str(clean_build.out / config.DUCKDB_FILE), read_only=True) as con:
        for name in metadata.tables():
            parquet = str(clean_build.out / "parquet" / f"{name}.parquet")
            assert con.execute(f"SELECT count(*) FROM {name}").fetchone()[0] == pq.read_metadata(parquet).num_rows
            differ = con.execute(f"(SELECT * FROM {name} EXCEPT ALL SELECT * FROM read_parquet(?)) UNION ALL "
                                 f"(SELECT * FROM read_parquet(?) EXCEPT ALL SELECT * FROM {name})",
                                 [parquet, parquet]).fetchall()
            assert differ == [], name


def test_parquet_metadata_describes_every_column(clean_build):
    for name, table in metadata.tables().items():
        schema = pq.read_schema(clean_build.out / "parquet" / f"{name}.parquet")
        meta = {k.decode(): v.decode() for k, v in schema.metadata.items()}
        assert meta["dataset_version"] == config.version()
        assert re.fullmatch(r"[0-9a-f]{64}", meta["raw_sha256"])
        assert meta["description"] == table["description"]
        for column in table["columns"]:
            field = schema.field(column["name"])
            assert field.metadata[b"description"].decode() == column["description"]


def test_duckdb_has_comments_on_every_table_and_column(clean_build):
    with duckdb.connect(str(clean_build.out / config.DUCKDB_FILE), read_only=True) as con:
        tables = dict(con.sql("SELECT table_name, comment FROM duckdb_tables()").fetchall())
        columns = con.sql("SELECT table_name, column_name, comment FROM duckdb_columns()").fetchall()
        version = con.sql("SELECT value FROM dataset_metadata WHERE key = 'dataset_version'").fetchone()[0]
    assert version == config.version()
    assert set(metadata.tables()) <= set(tables) and all(tables.values())
    assert all(comment for table, _, comment in columns if table in metadata.tables())


def test_csv_is_utf8_with_header(clean_build):
    text = (clean_build.out / "csv" / "facts.csv").read_text(encoding="utf-8")
    header = text.splitlines()[0].split(",")
    assert header == [c["name"] for c in metadata.tables()["facts"]["columns"]]
    assert "79406人" in text


def test_readme_queries_run_against_output(fresh_output):
    """The README's examples, verbatim, against the published output/."""
    readme = (config.ROOT / "README.md").read_text(encoding="utf-8")
    facility_sql = re.search(r'duckdb -c "(SELECT facility_en.*?)"', readme).group(1)
    rows = duckdb.sql(facility_sql.replace("'output/", f"'{fresh_output}/")).fetchall()
    assert [(r[0], r[1]) for r in rows[:3]] == [
        ("Home-based elderly-care facilities", 99), ("Community children's centres", 119),
        ("Rural public-welfare cemeteries (columbaria)", 132)]
    python_example = re.search(r"\.venv/bin/python -c \"(.*?)\"\n", readme).group(1).replace('\\"', '"')
    result = subprocess.run([sys.executable, "-c", python_example], cwd=config.ROOT,
                            capture_output=True, text=True, check=True)
    assert "12 rows" in result.stdout  # DuckDB's own footer; wide tables are shown with columns elided
    percent_sql = re.search(r'duckdb.sql\("(SELECT .*?)"\)', python_example).group(1)
    assert len(duckdb.sql(percent_sql.replace("'output/", f"'{fresh_output}/")).fetchall()) == 12
    with duckdb.connect(str(fresh_output / config.DUCKDB_FILE), read_only=True) as con:
        for sql in re.findall(r"```sql\n(.*?)```", readme, flags=re.S):
            assert con.sql(sql).fetchall(), sql


def test_make_knows_the_dataset_is_up_to_date(fresh_output):
    """`make test` built the dataset just before; a second `make dataset` must have nothing to do."""
    result = subprocess.run(["make", "-q", "dataset"], cwd=config.ROOT)
    assert result.returncode == 0


@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_mentions_command(tmp_path, fmt):
    path = tmp_path / "any.txt"
    path.write_text("全市共有12个村,覆盖率达到９５．５％。\n自2020年起,投入300万元。\n", encoding="utf-8")
    result = subprocess.run([sys.executable, "-m", "pipeline", "mentions", str(path), "--format", fmt],
                            cwd=config.ROOT, capture_output=True, text=True, check=True)
    if fmt == "csv":
        lines = result.stdout.splitlines()
        assert lines[0] == "char_start,char_end,text,value,value_max,unit,qualifier,kind"
        assert lines[1:] == ["4,7,12个,12.0,,个,exact,quantity", "14,19,９５．５％,95.5,,%,exact,quantity",
                             "22,27,2020年,2020.0,,,,year", "31,36,300万元,3000000.0,,元,exact,quantity"]
    else:
        rows = [json.loads(line) for line in result.stdout.splitlines()]
        assert [r["kind"] for r in rows] == ["quantity", "quantity", "year", "quantity"]
        assert rows[3]["value"] == 3_000_000


@pytest.mark.parametrize("encoding", ["bogus", "rot13"])
def test_mentions_refuses_an_encoding_that_is_not_one_in_one_line(tmp_path, encoding):
    """Both were a LookupError traceback (rot13 is a codec, but from text to text)."""
    path = tmp_path / "any.txt"
    path.write_text("共有12个村。\n", encoding="utf-8")
    result = subprocess.run([sys.executable, "-m", "pipeline", "mentions", str(path), "--encoding", encoding],
                            cwd=config.ROOT, capture_output=True, text=True)
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.startswith(f"input error: --encoding {encoding!r} is not a text encoding")
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr


def test_mentions_piped_to_head_stops_quietly(tmp_path):
    """A reader that closes the pipe early (`| head`) gave a BrokenPipeError traceback."""
    path = tmp_path / "many.txt"
    path.write_text("共有12个村,投入300万元。\n" * 20_000, encoding="utf-8")
    process = subprocess.Popen([sys.executable, "-m", "pipeline", "mentions", str(path)], cwd=config.ROOT,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert process.stdout.readline().startswith(b"char_start,")
    process.stdout.close()
    stderr = process.stderr.read()
    assert process.wait(timeout=60) == errors.EXIT_STDOUT_CLOSED == 141
    assert stderr == b""


def test_help_documents_exit_codes():
    result = subprocess.run([sys.executable, "-m", "pipeline", "build", "--help"], cwd=config.ROOT,
                            capture_output=True, text=True, check=True)
    assert "2  input error" in result.stdout and "3  validation failure" in result.stdout


def test_ingest_and_extract_do_not_import_pandera_or_duckdb():
    code = ("import sys, pipeline.stages.ingest, pipeline.stages.extract; "
            "print(sorted(m for m in ('pandera', 'duckdb', 'pandas', 'pyarrow') if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code], cwd=config.ROOT, capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


@pytest.mark.parametrize(
    ("edited", "reruns"),
    [
        ("pipeline/stages/publish.py", ["publish"]),
        ("pipeline/stages/validate.py", ["validate", "publish"]),
        ("pipeline/catalog/figures.yaml", ["extract", "related", "tables", "validate", "publish"]),
        ("raw/related/mangkuan_relocation_news_2020.txt", ["related", "tables", "validate", "publish"]),
    ],
)
def test_make_reruns_only_the_edited_stage_and_later_ones(fresh_output, edited, reruns):
    result = subprocess.run(["make", "--no-print-directory", "-n", "-W", edited, "dataset"], cwd=config.ROOT,
                            capture_output=True, text=True, check=True)
    assert re.findall(r"echo (\w+) >> build/\.queue", result.stdout) == reruns
    assert result.stdout.rstrip().endswith("-m pipeline.stages.batch build/.queue")


def _local_imports(module: str) -> set[str]:
    """Every pipeline or schemas module that `module` imports, directly or not, at any depth of its code
    (imports inside functions count: they run during the stage)."""
    import ast

    seen, todo = set(), [module]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        path = config.ROOT / (name.replace(".", "/") + ".py")
        if not path.exists():
            path = config.ROOT / name.replace(".", "/") / "__init__.py"
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            found = []
            if isinstance(node, ast.Import):
                found = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                found = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
            for candidate in found:
                if candidate.split(".")[0] in ("pipeline", "schemas") and (
                        (config.ROOT / (candidate.replace(".", "/") + ".py")).exists()
                        or (config.ROOT / candidate.replace(".", "/") / "__init__.py").exists()):
                    todo.append(candidate)
    return seen


@pytest.mark.parametrize("stage", ["ingest", "extract", "related", "tables", "validate", "publish"])
def test_make_reruns_a_stage_when_any_module_it_runs_changes(stage):
    """Every module a stage imports, at any depth, is a prerequisite of that stage or of an earlier one
    (whose rerun queues this one), so an edit to it is never missed."""
    missed = []
    for module in sorted(_local_imports(f"pipeline.stages.{stage}")):
        path = module.replace(".", "/") + ".py"
        if not (config.ROOT / path).exists():
            path = module.replace(".", "/") + "/__init__.py"
        result = subprocess.run(["make", "--no-print-directory", "-n", "-W", path, "dataset"], cwd=config.ROOT,
                                capture_output=True, text=True, check=True)
        if stage not in re.findall(r"echo (\w+) >> build/\.queue", result.stdout):
            missed.append(path)
    assert missed == [], f"editing these does not rerun {stage}: add them to its rule in the Makefile"
