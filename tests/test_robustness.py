"""Bad input, faults and mutations: a clear error or a correct dataset, never silent wrong data.

Every case records how it was handled; `pytest_terminal_summary` in conftest.py prints the tally.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile

import pandas as pd
import pytest

from pipeline import checks as check_types
from pipeline import config, metadata, scratch
from pipeline.arrow import read_table
from pipeline.stages.publish import csv_safe
from tests.conftest import RAW_TEXT, build, record, tree_digest
from tests.test_dataset import EXPECTED

FACT_COLUMNS = ["value", "value_max", "unit", "qualifier", "decimals", "as_of"]
FULLWIDTH = str.maketrans("0123456789%,():;", "０１２３４５６７８９％，（）：；")


def variant_text(name: str) -> bytes:
    if name == "utf8_bom":
        return b"\xef\xbb\xbf" + RAW_TEXT.encode("utf-8")
    if name == "crlf":
        return RAW_TEXT.replace("\n", "\r\n").encode("utf-8")
    if name == "fullwidth":
        return re.sub(r"(?<=\d)\.(?=\d)", "．", RAW_TEXT).translate(FULLWIDTH).encode("utf-8")
    if name in ("gb18030", "gbk"):
        return RAW_TEXT.encode(name)
    if name == "utf16_le_bom":
        return b"\xff\xfe" + RAW_TEXT.encode("utf-16-le")
    if name == "utf16_be_bom":
        return b"\xfe\xff" + RAW_TEXT.encode("utf-16-be")
    if name == "blank_lines_and_trailing_spaces":
        return ("\n" + RAW_TEXT.replace("\n", " \t\n\n") + "\n\n").encode("utf-8")
    raise ValueError(name)


@pytest.mark.parametrize(
    ("variant", "encoding"),
    [("utf8_bom", "utf-8-sig"), ("crlf", "utf-8"), ("fullwidth", "utf-8"), ("gb18030", "gb18030"),
     ("gbk", "gb18030"), ("blank_lines_and_trailing_spaces", "utf-8"), ("utf16_le_bom", "utf-16"),
     ("utf16_be_bom", "utf-16")],
)
def test_variant_gives_the_same_facts(tmp_path, clean_build, variant, encoding):
    raw = tmp_path / f"{variant}.txt"
    raw.write_bytes(variant_text(variant))
    result = build(raw, tmp_path / "out")
    assert result.code == 0, result.stderr
    assert f"encoding {encoding}" in result.stdout
    before = clean_build.table("facts").set_index("fact_id")[FACT_COLUMNS]
    after = result.table("facts").set_index("fact_id")
    pd.testing.assert_frame_equal(after[FACT_COLUMNS], before)
    text = raw.read_bytes().decode(encoding)
    for table, column in (("facts", "quote"), ("mentions", "text"), ("named_items", "name_zh")):
        for row in result.table(table).itertuples():
            assert text[row.char_start:row.char_end] == getattr(row, column)
    assert result.table("checks")["status"].tolist() == clean_build.table("checks")["status"].tolist()
    assert result.table("documents")["publication_date"].tolist()[0] == "2021-07-29"
    record("same dataset from a variant input", variant, "identical facts")


def test_explicit_encoding_is_honoured(tmp_path):
    raw = tmp_path / "gbk.txt"
    raw.write_bytes(variant_text("gbk"))
    assert build(raw, tmp_path / "out", "--encoding", "gbk").code == 0
    assert build(raw, tmp_path / "out2", "--encoding", "utf-8").code == 2
    record("same dataset from a variant input", "--encoding gbk", "identical facts; wrong --encoding exits 2")


# --- mutation suite ------------------------------------------------------------------------------

# From the check classes: a new check type is in the mutation suite, or the bound suite, as its class says.
EQUALITY_TYPES = {name for name, cls in check_types.TYPES.items() if cls.bounded is None}
_NEXT_CHINESE = dict(zip("一二两三四五六七八九万", "二三三四五六七八九八千", strict=True))


def guarded_fact_ids() -> set[str]:
    """Figures in an equality-type check or a pinned discrepancy: any change to them must be caught."""
    guarded = set()
    for check in metadata.checks():
        if check["type"] in EQUALITY_TYPES or "known_discrepancy" in check:
            for key, value in check.items():
                if key not in ("check_id", "type", "relation", "description", "known_discrepancy"):
                    guarded.update(value if isinstance(value, list) else [value])
    guarded.update(entry["count_fact"] for entry in metadata.figures()["lists"] if entry.get("count_fact"))
    return guarded


def mutate(quote: str) -> str:
    """Change the figure's leading digit (+1, 9 -> 8), or its Chinese numeral."""
    match = re.search(r"[1-9]", quote)
    if match:
        digit = int(match.group())
        return quote[:match.start()] + str(digit + 1 if digit < 9 else 8) + quote[match.end():]
    index = next(i for i, c in enumerate(quote) if c in _NEXT_CHINESE)
    return quote[:index] + _NEXT_CHINESE[quote[index]] + quote[index + 1:]


def differences(before: dict[str, pd.DataFrame], after: dict[str, pd.DataFrame]) -> list[tuple[str, int, str]]:
    found = []
    for name, old in before.items():
        new = after[name]
        assert list(new.columns) == list(old.columns) and len(new) == len(old), name
        if new.equals(old):  # same dtypes and cells, missing in the same places: no cell differs (most tables)
            continue
        for column in old.columns:
            changed = ~((old[column] == new[column]).fillna(False) | (old[column].isna() & new[column].isna()))
            found += [(name, i, column) for i in old.index[changed.astype(bool)]]
    return found


def allowed_differences(tables: dict[str, pd.DataFrame], fact_id: str) -> set[tuple[str, int, str]]:
    """Where a changed figure may legitimately show up: its own cells, and values derived from it."""
    allowed = set()
    facts = tables["facts"]
    for i in facts.index[facts["fact_id"] == fact_id]:
        allowed |= {("facts", i, c) for c in ("value", "value_max", "quote")}
    mentions = tables["mentions"]
    for i in mentions.index[mentions["fact_id"] == fact_id]:
        allowed |= {("mentions", i, c) for c in ("text", "value", "value_max")}
    for name, df in tables.items():
        declared = {c["name"]: c for c in metadata.tables()[name]["columns"]}
        derived = [c for c, spec in declared.items() if spec.get("derived")]
        for column in [c for c in df.columns if c.endswith("_fact_id")]:
            value_column = column.removesuffix("_fact_id")
            for i in df.index[(df[column] == fact_id).fillna(False).astype(bool)]:
                allowed |= {(name, i, value_column), *((name, i, d) for d in derived)}
    indicator = {"fact_id", "value", "value_max"}
    for name, df in tables.items():
        if name != "facts" and indicator <= set(df.columns):
            for i in df.index[df["fact_id"] == fact_id]:
                allowed |= {(name, i, "value"), (name, i, "value_max")}
    # The English of its sentence, and every note that quotes it or computes from it.
    sentences = tables["sentences"]
    sentence_id = facts.loc[facts["fact_id"] == fact_id, "sentence_id"].iloc[0]
    allowed |= {("sentences", i, c) for i in sentences.index[sentences["sentence_id"] == sentence_id]
                for c in ("text_zh", "text_en")}
    noted = {entry["fact_id"] for entry in metadata.figures()["facts"]
             if fact_id in entry.get("note_en", "") + entry.get("note_zh", "")}
    for name, df in tables.items():
        if "fact_id" in df.columns and "note_en" in df.columns:
            for i in df.index[df["fact_id"].isin(noted)]:
                allowed |= {(name, i, "note_en"), (name, i, "note_zh")}
    for name, df in tables.items():  # a wide table's row joins the notes of the figures it holds
        if "note_en" in df.columns and "fact_id" not in df.columns:
            own = [f"{c['name']}_fact_id" for c in metadata.tables()[name]["columns"]
                   if c.get("figure") and not c.get("from_row")]
            for i in df.index[df[own].isin(noted).any(axis=1)]:
                allowed |= {(name, i, "note_en"), (name, i, "note_zh")}
    pairs = tables["corroborations"]  # the letter's side of each pair it is in, and their difference
    for i in pairs.index[pairs["fact_id"] == fact_id]:
        allowed |= {("corroborations", i, c)
                    for c in ("letter_value", "letter_value_max", "letter_quote", "difference")}
    checks = tables["checks"]
    for i in checks.index[checks["fact_ids"].str.split(";").map(lambda ids: fact_id in ids)]:
        allowed |= {("checks", i, "expected"), ("checks", i, "observed"), ("checks", i, "tolerance")}
    allowed |= {("documents", 0, c) for c in ("source_file", "raw_sha256", "raw_bytes")}
    return allowed


def failing_checks_naming(stderr: str, fact_id: str) -> list[str]:
    """The checks whose failure block names this figure (blocks are separated by blank lines)."""
    blocks = stderr.removeprefix("validation failed: ").split("\n\n")
    return [match.group(1) for block in blocks
            if (match := re.match(r"(?:check|schema) (\S+) (?:failed|cannot run)", block)) and fact_id in block]


@pytest.fixture(scope="module")
def clean_tables(clean_build):
    return {name: clean_build.table(name) for name in metadata.tables()}


@pytest.mark.slow
@pytest.mark.parametrize("fact_id", sorted(EXPECTED))
def test_mutating_a_figure_is_caught_or_propagated(tmp_path, clean_tables, fact_id):
    fact = clean_tables["facts"].set_index("fact_id").loc[fact_id]
    new_quote = mutate(fact["quote"])
    raw = tmp_path / "mutated.txt"
    raw.write_text(RAW_TEXT[:fact["char_start"]] + new_quote + RAW_TEXT[fact["char_end"]:], encoding="utf-8")
    # Every stage up to validation; the validated tables are what publish would write (its byte-level
    # behaviour is tested on its own), so the suite skips writing 81 DuckDB files.
    result = build(raw, tmp_path / "out", "--check", "--build-dir", str(tmp_path / "build"))
    if result.code != 0:
        outcome = "caught" if result.code == 3 and failing_checks_naming(result.stderr, fact_id) else "silent"
        assert "Traceback" not in result.stderr
    else:
        validated = tmp_path / "build"
        after = {name: read_table(validated / "tables" / f"{name}.parquet") for name in metadata.tables()
                 if name != "checks"} | {"checks": read_table(validated / "checks.parquet")}
        unexpected = set(differences(clean_tables, after)) - allowed_differences(clean_tables, fact_id)
        changed = after["facts"].set_index("fact_id").loc[fact_id]
        outcome = "propagated" if not unexpected and changed["quote"] == new_quote \
            and changed["value"] != fact["value"] else "silent"
    record("mutation suite", f"{fact_id}: {fact['quote']} -> {new_quote}", outcome)
    assert outcome != "silent", result.stderr
    if fact_id in guarded_fact_ids():
        assert outcome == "caught", f"{fact_id} takes part in an equality check but the mutation was {outcome}"


def bound_cases() -> list[tuple[str, str, dict, str]]:
    """(check_id, fact_id, check, how) for every figure that an inequality check bounds."""
    cases = []
    for check in metadata.checks():
        cls = check_types.TYPES[check["type"]]
        if cls.bounded is not None:
            cases.append((check["check_id"], check[cls.bounded], check, cls.breaks_when))
    return cases


@pytest.mark.slow
@pytest.mark.parametrize(("check_id", "fact_id", "check", "how"), bound_cases(), ids=[c[0] for c in bound_cases()])
def test_pushing_a_figure_past_its_bound_is_caught(tmp_path, clean_tables, check_id, fact_id, check, how):
    """The leading-digit mutation rarely crosses an inequality's bound; one past the bound always does."""
    facts = clean_tables["facts"].set_index("fact_id")
    fact, quote = facts.loc[fact_id], facts.loc[fact_id, "quote"]
    limit = int(check_types.TYPES[check["type"]](check).limit(facts[["value", "decimals"]].to_dict("index")))
    number = re.search(r"\d+", quote)
    new_quote = quote[:number.start()] + str(limit + 1 if how == "above" else limit - 1) + quote[number.end():]
    raw = tmp_path / "pushed.txt"
    raw.write_text(RAW_TEXT[:fact["char_start"]] + new_quote + RAW_TEXT[fact["char_end"]:], encoding="utf-8")
    result = build(raw, tmp_path / "out", "--check")
    assert result.code == 3 and check_id in failing_checks_naming(result.stderr, fact_id), result.stderr
    record("mutation suite", f"{fact_id}: {quote} -> {new_quote} ({how} the bound of {check_id})", "caught")


@pytest.mark.slow
@pytest.mark.parametrize("entry", [e for e in metadata.figures()["lists"] if e.get("count_fact")],
                         ids=lambda e: e["list_id"])
def test_deleting_a_list_item_is_caught(tmp_path, clean_tables, entry):
    items = clean_tables["named_items"]
    last = items[items["list_id"] == entry["list_id"]].iloc[-1]
    separator_start = last["char_start"] - 1
    while RAW_TEXT[separator_start] in "“\"":
        separator_start -= 1
    raw = tmp_path / "deleted.txt"
    end = last["char_end"] + (1 if RAW_TEXT[last["char_end"]] in "”\"" else 0)
    raw.write_text(RAW_TEXT[:separator_start] + RAW_TEXT[end:], encoding="utf-8")
    result = build(raw, tmp_path / "out")
    assert result.code == 3 and f"check list_count.{entry['list_id']} failed" in result.stderr, result.stderr
    record("mutation suite", f"delete {last['name_zh']} from {entry['list_id']}", "caught")


def test_docs_list_guarded_and_provenance_only_figures():
    doc = (config.ROOT / "docs" / "robustness.md").read_text(encoding="utf-8")
    guarded = sorted(guarded_fact_ids())
    block = re.search(r"<!-- guarded:start -->(.*?)<!-- guarded:end -->", doc, re.S)
    assert block, "docs/robustness.md needs a <!-- guarded:start --> ... <!-- guarded:end --> block"
    listed = re.findall(r"`([a-z_.]+)`", block.group(1).split("Guarded only by provenance")[0])
    expected_block = ", ".join(f"`{f}`" for f in guarded)
    assert listed == guarded, f"docs/robustness.md guarded list is out of date; it should read:\n{expected_block}"
    provenance_only = sorted(set(EXPECTED) - set(guarded))
    rest = re.findall(r"`([a-z_.]+)`", block.group(1).split("Guarded only by provenance")[1])
    assert rest == provenance_only, "docs/robustness.md provenance-only list should read:\n" + ", ".join(
        f"`{f}`" for f in provenance_only)


# --- faults ------------------------------------------------------------------------------------

@pytest.mark.parametrize("die_after", ["facts", "checks"])
def test_killed_publish_leaves_previous_output_whole(tmp_path, monkeypatch, die_after):
    out = tmp_path / "out"
    assert build(config.RAW_FILE, out).code == 0
    before = tree_digest(out)
    edited = tmp_path / "edited.txt"
    edited.write_text(RAW_TEXT.replace("村(居)民小组424个", "村(居)民小组425个"), encoding="utf-8")
    temporary = tmp_path / "tmp"  # the builds' scratch directories go here, not into /tmp
    temporary.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temporary))
    env = {**os.environ, "PIPELINE_TEST_DIE_AFTER_TABLE": die_after, "TMPDIR": str(temporary)}
    killed = subprocess.run([sys.executable, "-m", "pipeline", "build", "--raw", str(edited), "--out", str(out)],
                            cwd=config.ROOT, env=env, capture_output=True, text=True)
    assert killed.returncode == -signal.SIGKILL
    assert tree_digest(out) == before
    assert len(list(temporary.glob(f"{scratch.PREFIX}*"))) == 1  # a SIGKILL runs no `finally`
    # The next run sweeps the abandoned staging and scratch directories and publishes the new data whole.
    assert build(edited, out).code == 0
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".out-")] == [out.resolve().name]
    assert list(temporary.iterdir()) == []
    facts = pd.read_parquet(out / "parquet" / "facts.parquet").set_index("fact_id")
    assert facts.loc["organisations.villager_groups", "value"] == 425
    record("faults", f"SIGKILL after writing {die_after}", "previous output intact")


def test_missing_output_parent_is_a_clear_error(tmp_path):
    result = build(config.RAW_FILE, tmp_path / "no" / "such" / "out")
    assert result.code == 4 and "does not exist" in result.stderr and "Traceback" not in result.stderr
    record("faults", "missing output parent", "exit 4")


def test_read_only_output_parent_is_a_clear_error(tmp_path):
    parent = tmp_path / "locked"
    parent.mkdir()
    if os.geteuid() != 0:
        parent.chmod(0o555)
    elif shutil.which("chattr") is None or subprocess.run(["chattr", "+i", str(parent)]).returncode != 0:
        pytest.skip("running as root without chattr, so no directory can be made read-only")
    try:
        result = build(config.RAW_FILE, parent / "out")
    finally:
        if os.geteuid() == 0:
            subprocess.run(["chattr", "-i", str(parent)], check=True)
        parent.chmod(0o755)
    assert result.code == 4 and str(parent) in result.stderr and "Traceback" not in result.stderr
    record("faults", "read-only output parent", "exit 4")


def test_make_dataset_refuses_a_raw_file_that_differs_from_its_manifest(tmp_path):
    repo = tmp_path / "repo"
    files = subprocess.run(["git", "ls-files"], cwd=config.ROOT, capture_output=True, text=True,
                           check=True).stdout.split()
    for name in files:
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(config.ROOT / name, repo / name)
    raw = repo / "raw" / config.RAW_FILE.name
    raw.write_text(RAW_TEXT.replace("79406人", "79407人"), encoding="utf-8")
    result = subprocess.run(["make", "dataset", f"VENV={config.ROOT / '.venv'}"], cwd=repo,
                            capture_output=True, text=True)
    assert result.returncode != 0
    assert "does not match raw/manifest.yaml" in result.stderr and "make manifest" in result.stderr
    assert "Traceback" not in result.stderr and not (repo / "output").exists()
    record("clear error", "make dataset with a raw file that differs from its manifest", "exit 2")


# --- CSV safety --------------------------------------------------------------------------------

def test_text_cells_that_look_like_formulas_are_neutralized(tmp_path, follow_edit):
    raw = tmp_path / "formula.txt"
    raw.write_text(RAW_TEXT.replace("分别是:隆阳区西邑乡", "分别是:=隆阳区西邑乡"), encoding="utf-8")
    follow_edit("分别是:隆阳区西邑乡", "分别是:=隆阳区西邑乡")
    result = build(raw, tmp_path / "out")
    assert result.code == 0, result.stderr
    csv_text = (result.out / "csv" / "named_items.csv").read_text(encoding="utf-8")
    assert ",'=隆阳区西邑乡" in csv_text and ",=隆阳区" not in csv_text
    items = result.table("named_items")
    assert items["name_zh"].str.startswith("=").any()  # Parquet keeps the text exactly as written
    checks = result.table("checks").head(4).assign(note=["+a", "-b", "@c", "d"])
    assert csv_safe(checks, "checks")["note"].tolist() == ["'+a", "'-b", "'@c", "d"]
    assert csv_safe(checks, "checks")["expected"].equals(checks["expected"])  # numbers are never touched
    record("clear error", "formula-like text cell in CSV", "prefixed with an apostrophe")


def test_every_formula_prefix_is_neutralized_in_csv(clean_build):
    """OWASP's list: = + - @, and tab and carriage return, which some spreadsheets strip before a formula."""
    checks = clean_build.table("checks").head(7).assign(note=["=a", "+b", "-c", "@d", "\te", "\rf", "g=h"])
    assert csv_safe(checks, "checks")["note"].tolist() == ["'=a", "'+b", "'-c", "'@d", "'\te", "'\rf", "g=h"]


def test_out_that_is_a_users_directory_is_never_replaced(tmp_path):
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("keep me", encoding="utf-8")
    stranger = tmp_path / ".mine-backup"  # looks like a staging directory, but is not one of ours
    stranger.mkdir()
    result = build(config.RAW_FILE, mine)
    assert result.code == 4 and "is not a dataset published by this pipeline" in result.stderr
    assert (mine / "notes.txt").read_text(encoding="utf-8") == "keep me" and stranger.is_dir()
    assert build(config.RAW_FILE, tmp_path / "mine-too").code == 0 and stranger.is_dir()
    record("faults", "--out names a directory the pipeline did not publish", "exit 4, left untouched")
