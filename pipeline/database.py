"""The DuckDB database of the published tables, written by a process of its own.

DuckDB's Python client takes the GIL back after every call, so a thread gave publish no parallelism
(docs/performance.md). A child process that imports nothing but duckdb runs the statements publish
sends it on the second CPU, while publish writes Parquet and CSV. The batch (and `python -m pipeline
build`) starts the child before it imports pandas, so that duckdb's import overlaps that one too.

The child runs `python -m pipeline.database`: it reads one JSON request line on stdin, a database path
and a list of statements (SQL, or a table to load from a Parquet file), runs them in one transaction,
then reads a second line naming the published Parquet file of each table and checks that every table
equals its file: row count and content digest (`DIGEST_SQL`). It exits 0 when all is well. End of
input with no request exits 0 having written nothing (the batch failed before publishing). An error
is one line on stderr and exit 1.

DuckDB reads `[`, `?` and `*` in a file name as a glob pattern, so a build directory named `b[1]` would
load another directory's `b1/` files. Every Parquet file is therefore opened here, by Python, and
given to DuckDB as `/dev/fd/<n>`, a name it cannot glob.

The child dies with its parent (PR_SET_PDEATHSIG on Linux), so a killed build leaves no writer
behind; the staging directory it wrote into is swept by the next run.
"""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
from pathlib import Path

from pipeline.errors import OutputError, capped

# A request is small (about 400 statements, a few hundred KB); more than this is not one of ours.
MAX_REQUEST_BYTES = 16 << 20
MAX_ERROR_BYTES = 64 << 10
GLOB_CHARACTERS = "*?[{"
# A table's content digest: its row count and the sha256 of its rows as JSON, sorted. Computed the same
# way on a table and on a Parquet file, it is equal when their rows are.
DIGEST_SQL = ("SELECT count(*), sha256(coalesce(string_agg(to_json(r)::VARCHAR, chr(10) "
              "ORDER BY to_json(r)::VARCHAR), '')) FROM {relation} AS r")


class Writer:
    """A started child process that writes one database when asked."""

    def __init__(self) -> None:
        try:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "pipeline.database", str(os.getpid())],
                cwd=Path(__file__).resolve().parent.parent,
                stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        except OSError as error:
            raise OutputError(f"cannot start the DuckDB writer process ({sys.executable}: "
                              f"{error.strerror or error}).") from None
        self.sent = False

    def write(self, path: Path, statements: list[str | dict[str, str]]) -> None:
        """Send the request; the child runs it while the caller goes on. `wait()` gives the outcome. A
        statement is SQL, or {"table": name, "parquet": path} to insert the rows of a Parquet file."""
        self.sent = True
        self._send({"database": str(path), "statements": statements})

    def compare(self, parquet: dict[str, Path]) -> None:
        """Ask the child to check, once it has written the database, that each table equals its
        published Parquet file (row count and content digest); `wait()` reports a difference."""
        self._send({"compare": {name: str(path) for name, path in parquet.items()}})
        self._close_stdin()

    def _send(self, message: dict) -> None:
        try:
            self.process.stdin.write(json.dumps(message, ensure_ascii=False).encode("utf-8") + b"\n")
            self.process.stdin.flush()
        except BrokenPipeError:
            pass  # the child has died: wait() reports it

    def _close_stdin(self) -> None:
        try:
            self.process.stdin.close()
        except BrokenPipeError:
            pass

    def wait(self) -> str | None:
        """Wait for the child; None when it wrote the database, else its one-line error."""
        if not self.sent:
            self.stop()
            return "the database writer was never sent its statements"
        self._close_stdin()
        stderr = self.process.stderr.read(MAX_ERROR_BYTES).decode("utf-8", "replace")
        if self.process.poll() is None and len(stderr) >= MAX_ERROR_BYTES:
            self.process.kill()  # not an error line of ours: do not wait on a pipe nobody reads
        code = self.process.wait()
        self.process.stderr.close()
        if code == 0:
            return None
        reason = stderr.strip().splitlines()[-1] if stderr.strip() else f"exit status {code}"
        return f"DuckDB could not write the database: {reason}"

    def stop(self) -> None:
        """Kill the child, if it still runs, and reap it: nothing writes into staging after this returns."""
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()
        for stream in (self.process.stdin, self.process.stderr):
            if stream and not stream.closed:
                stream.close()


_started: Writer | None = None


def start() -> None:
    """Start a writer now, for the next `writer()` call (the batch, before its heavy imports)."""
    global _started
    if _started is None:
        _started = Writer()


def writer() -> Writer:
    """The writer started earlier by `start()`, or a new one."""
    global _started
    started, _started = _started, None
    if started is not None and started.process.poll() is None:
        return started
    if started is not None:
        started.stop()
    return Writer()


def discard() -> None:
    """Stop a writer started by `start()` that nobody used."""
    global _started
    if _started is not None:
        _started.stop()
        _started = None


def _die_with_parent(parent: int | None) -> None:
    """SIGKILL this process when its parent dies (Linux). Elsewhere a dead parent closes stdin, which
    ends a writer that has no request yet."""
    if sys.platform != "linux":
        return
    import ctypes

    pr_set_pdeathsig = 1
    try:
        ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGKILL)
    except (OSError, AttributeError):
        return
    if parent is not None and os.getppid() != parent:  # the parent died before prctl took effect
        os._exit(1)


def _serve(parent: int | None) -> int:
    signal.signal(signal.SIGINT, signal.SIG_DFL)  # the parent reports interruptions; die without a traceback
    _die_with_parent(parent)
    import duckdb  # before the request arrives: this import is what starting early overlaps

    data = sys.stdin.buffer.readline(MAX_REQUEST_BYTES + 1)
    if not data:
        return 0
    if len(data) > MAX_REQUEST_BYTES:
        print(f"request larger than {MAX_REQUEST_BYTES} bytes", file=sys.stderr)
        return 1
    request = json.loads(data)
    # One thread: the tables are tiny, and DuckDB's thread pool costs more than it saves.
    con = duckdb.connect(config={"threads": 1})
    opened: list[int] = []  # open until the end, so that no /dev/fd/<n> names two files
    sql = "SET disabled_compression_methods"
    try:
        # No FSST: trying that string compression on every text column at checkpoint took the write from
        # 0.07 s to 0.1 s, and the file, made of 16 KiB blocks, is the same size without it. (A SET: given
        # to connect() in its config, this setting is accepted and ignored.)
        con.execute("SET disabled_compression_methods = 'fsst,dict_fsst'")
        con.execute("SET enable_external_file_cache = false")  # a file descriptor's name is reused
        sql = "ATTACH"
        # Small blocks: the default 256 KiB block per table and index would make a ~10 MB file of ~100 KB data.
        con.execute(f"ATTACH {_sql_string(request['database'])} AS dataset (BLOCK_SIZE 16384)")
        con.execute("USE dataset")
        con.execute("BEGIN TRANSACTION")  # one commit instead of one per statement: ~10x faster
        for statement in request["statements"]:
            sql = statement if isinstance(statement, str) else (
                f"INSERT INTO {statement['table']} SELECT * FROM {parquet_relation(statement['parquet'], opened)}")
            con.execute(sql)  # no parameters: the first binding would import pandas and numpy (0.2 s)
        sql = "COMMIT"
        con.execute("COMMIT")
        sql = "the comparison with the Parquet files"
        # The tables' digests while publish still writes Parquet; the files' once it has written them.
        tables = digests(con, {statement["table"]: statement["table"]
                               for statement in request["statements"] if not isinstance(statement, str)})
        differences = compare(con, tables, sys.stdin.buffer.readline(MAX_REQUEST_BYTES + 1), opened)
        con.execute("USE memory")
        con.execute("DETACH dataset")
    except duckdb.Error as error:
        statement = " ".join(sql.split())
        statement = statement if len(statement) <= 120 else statement[:117] + "..."
        print(f"{' '.join(str(error).split())} (in: {statement})", file=sys.stderr)
        return 1
    except OSError as error:
        print(f"cannot read {error.filename}: {error.strerror}", file=sys.stderr)
        return 1
    finally:
        con.close()
        for fd in opened:
            os.close(fd)
    if differences:
        print("the database does not hold what the Parquet files hold: " + "; ".join(capped(differences)),
              file=sys.stderr)
        return 1
    return 0


def compare(con, tables: dict[str, tuple[int, str]], message: bytes, opened: list[int]) -> list[str]:
    """How the tables of the database, whose digests are `tables`, differ from the Parquet file the
    message names for each."""
    if not message:
        return []  # no Parquet files to compare with (a caller that only writes)
    files = json.loads(message)["compare"]
    theirs = digests(con, {table: parquet_relation(path, opened) for table, path in files.items()})
    ours = {**tables, **digests(con, {table: table for table in files if table not in tables})}
    return [difference(table, ours[table], theirs[table]) for table in files if ours[table] != theirs[table]]


def digests(con, relations: dict[str, str]) -> dict[str, tuple[int, str]]:
    """The digest (DIGEST_SQL) of each relation, by name, in one query: 21 queries took twice as long."""
    if not relations:
        return {}
    sql = " UNION ALL ".join(f"SELECT {index} AS i, * FROM ({DIGEST_SQL.format(relation=relation)})"
                             for index, relation in enumerate(relations.values()))
    rows = dict((index, (count, digest)) for index, count, digest in con.execute(sql).fetchall())
    return {name: rows[index] for index, name in enumerate(relations)}


def difference(table: str, database: tuple[int, str], parquet: tuple[int, str]) -> str:
    return (f"table {table} has {database[0]:,} rows (digest {database[1][:12]}), "
            f"its Parquet file {parquet[0]:,} rows (digest {parquet[1][:12]})")


def parquet_relation(path: str | Path, opened: list[int]) -> str:
    """`read_parquet(...)` of the file at `path`, by a name DuckDB cannot read as a glob pattern: the
    file is opened here and named by its descriptor. `opened` collects the descriptor to close."""
    fd = os.open(path, os.O_RDONLY)
    opened.append(fd)
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        raise OSError(0, "not a regular file", str(path))
    name = f"/dev/fd/{fd}"
    if not os.path.exists(name):  # no /dev/fd here: the path itself, when DuckDB would not glob it
        name = str(path)
        if any(ch in name for ch in GLOB_CHARACTERS):
            raise OSError(0, f"DuckDB would read a name holding any of {GLOB_CHARACTERS} as a pattern",
                          str(path))
    return f"read_parquet({_sql_string(name)})"


def _sql_string(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


if __name__ == "__main__":
    sys.exit(_serve(int(sys.argv[1]) if sys.argv[1:2] and sys.argv[1].isdigit() else None))
