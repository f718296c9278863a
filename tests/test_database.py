"""The DuckDB writer process (pipeline.database): what publish sends it, and what happens when it fails,
is never asked, or loses its parent."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import duckdb

from pipeline import config, database
from pipeline.stages import publish
from tests.conftest import build, record, running, tree_digest


def test_a_database_error_is_one_message_exit_4_and_leaves_output_whole(tmp_path, monkeypatch):
    out = tmp_path / "out"
    assert build(config.RAW_FILE, out).code == 0
    before = tree_digest(out)
    statements = publish.database_statements
    monkeypatch.setattr(publish, "database_statements",
                        lambda *args: [*statements(*args), "INSERT INTO facts SELECT * FROM facts"])
    result = build(config.RAW_FILE, out)
    assert result.code == 4, result.stderr
    assert "DuckDB could not write the database: Constraint Error" in result.stderr
    assert "(in: INSERT INTO facts SELECT * FROM facts)" in result.stderr
    assert "Traceback" not in result.stderr
    assert tree_digest(out) == before
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".out-")] == [out.resolve().name]
    record("faults", "DuckDB statement fails in its writer process", "exit 4, previous output intact")


def test_the_writer_runs_what_it_is_sent_in_one_transaction(tmp_path):
    writer = database.Writer()
    path = tmp_path / "x.duckdb"
    writer.write(path, ["CREATE TABLE t (a INTEGER)", "INSERT INTO t VALUES (1), (2)",
                        "COMMENT ON TABLE t IS 'it''s a table'"])
    assert writer.wait() is None
    with duckdb.connect(str(path), read_only=True) as con:
        assert con.sql("SELECT sum(a) FROM t").fetchone()[0] == 3
        assert con.sql("SELECT comment FROM duckdb_tables() WHERE table_name = 't'").fetchone()[0] == "it's a table"
    broken = database.Writer()
    half = tmp_path / "half.duckdb"
    broken.write(half, ["CREATE TABLE t (a INTEGER)", "INSERT INTO t VALUES ('not a number')"])
    failure = broken.wait()
    assert failure.startswith("DuckDB could not write the database:") and "\n" not in failure
    with duckdb.connect(str(half), read_only=True) as con:  # rolled back: the table was never committed
        assert con.sql("SELECT count(*) FROM duckdb_tables()").fetchone()[0] == 0


def test_a_writer_never_asked_writes_nothing_and_exits(tmp_path):
    database.start()
    started = database._started
    assert started is not None and started.process.poll() is None
    database.discard()
    assert started.process.returncode is not None and database._started is None
    result = subprocess.run([sys.executable, "-m", "pipeline.database"], cwd=tmp_path, stdin=subprocess.DEVNULL,
                            capture_output=True, env={**os.environ, "PYTHONPATH": str(config.ROOT)})
    assert result.returncode == 0 and result.stderr == b"" and list(tmp_path.iterdir()) == []


def test_an_oversized_request_is_refused():
    result = subprocess.run([sys.executable, "-m", "pipeline.database"], cwd=config.ROOT,
                            input=b" " * (database.MAX_REQUEST_BYTES + 1), capture_output=True)
    assert result.returncode == 1 and b"larger than" in result.stderr
    record("hostile", "DuckDB writer request over its cap", "exit 1, nothing run")


def test_the_writer_dies_with_its_parent():
    parent = subprocess.Popen(
        [sys.executable, "-c", "import time; from pipeline import database; w = database.Writer(); "
         "print(w.process.pid, flush=True); time.sleep(60)"],
        cwd=config.ROOT, stdout=subprocess.PIPE, text=True)
    child = int(parent.stdout.readline())
    try:
        assert running(child)
        time.sleep(0.3)  # let the child install its death signal
        parent.send_signal(signal.SIGKILL)
        parent.wait()
        deadline = time.monotonic() + 10
        while running(child) and time.monotonic() < deadline:
            time.sleep(0.02)
        assert not running(child)
    finally:
        parent.stdout.close()
        if running(child):
            os.kill(child, signal.SIGKILL)
    record("faults", "build killed while its DuckDB writer waits", "the writer dies too")


def test_publish_does_not_import_duckdb():
    """DuckDB runs in the writer process; the build's own process never loads it (0.04 s of import)."""
    code = "import sys, pipeline.stages.publish; print('duckdb' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], cwd=config.ROOT, capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"


def test_a_writer_that_cannot_start_is_one_message_exit_4(tmp_path, monkeypatch):
    monkeypatch.setattr(sys, "executable", str(tmp_path / "no-such-python"))
    result = build(config.RAW_FILE, tmp_path / "out")
    assert result.code == 4 and "cannot start the DuckDB writer process" in result.stderr, result.stderr
    assert "Traceback" not in result.stderr and not (tmp_path / "out").exists()
    record("faults", "DuckDB writer cannot be started", "exit 4, nothing written")
