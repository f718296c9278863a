"""The DuckDB database of the published tables, written by a process of its own.

DuckDB's Python client takes the GIL back after every call, so a thread gave publish no parallelism
(docs/performance.md). A child process that imports nothing but duckdb runs the statements publish
sends it on the second CPU, while publish writes Parquet and CSV. The batch (and `python -m pipeline
build`) starts the child before it imports pandas, so that duckdb's import overlaps that one too.

The child runs `python -m pipeline.database`: it reads one JSON request on stdin, a database path and
a list of SQL statements, runs them in one transaction and exits 0. End of input with no
request exits 0 having written nothing (the batch failed before publishing). An error is one line on
stderr and exit 1. The child dies with its parent (PR_SET_PDEATHSIG on Linux), so a killed build
leaves no writer behind; the staging directory it wrote into is swept by the next run.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

from pipeline.errors import OutputError

# A request is small (about 400 statements, a few hundred KB); more than this is not one of ours.
MAX_REQUEST_BYTES = 16 << 20
MAX_ERROR_BYTES = 64 << 10


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

    def write(self, path: Path, statements: list[str]) -> None:
        """Send the request; the child runs it while the caller goes on. `wait()` gives the outcome."""
        request = json.dumps({"database": str(path), "statements": statements}, ensure_ascii=False)
        self.sent = True
        try:
            self.process.stdin.write(request.encode("utf-8"))
            self.process.stdin.close()
        except BrokenPipeError:
            pass  # the child has died: wait() reports it

    def wait(self) -> str | None:
        """Wait for the child; None when it wrote the database, else its one-line error."""
        if not self.sent:
            self.stop()
            return "the database writer was never sent its statements"
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

    data = sys.stdin.buffer.read(MAX_REQUEST_BYTES + 1)
    if not data:
        return 0
    if len(data) > MAX_REQUEST_BYTES:
        print(f"request larger than {MAX_REQUEST_BYTES} bytes", file=sys.stderr)
        return 1
    request = json.loads(data)
    # One thread: the tables are tiny, and DuckDB's thread pool costs more than it saves.
    con = duckdb.connect(config={"threads": 1})
    sql = "SET disabled_compression_methods"
    try:
        # No FSST: trying that string compression on every text column at checkpoint took the write from
        # 0.07 s to 0.1 s, and the file, made of 16 KiB blocks, is the same size without it. (A SET: given
        # to connect() in its config, this setting is accepted and ignored.)
        con.execute("SET disabled_compression_methods = 'fsst,dict_fsst'")
        sql = "ATTACH"
        # Small blocks: the default 256 KiB block per table and index would make a ~10 MB file of ~100 KB data.
        con.execute(f"ATTACH {_sql_string(request['database'])} AS dataset (BLOCK_SIZE 16384)")
        con.execute("USE dataset")
        con.execute("BEGIN TRANSACTION")  # one commit instead of one per statement: ~10x faster
        for sql in request["statements"]:
            con.execute(sql)  # no parameters: the first binding would import pandas and numpy (0.2 s)
        sql = "COMMIT"
        con.execute("COMMIT")
        con.execute("USE memory")
        con.execute("DETACH dataset")
    except duckdb.Error as error:
        statement = " ".join(sql.split())
        statement = statement if len(statement) <= 120 else statement[:117] + "..."
        print(f"{' '.join(str(error).split())} (in: {statement})", file=sys.stderr)
        return 1
    finally:
        con.close()
    return 0


def _sql_string(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


if __name__ == "__main__":
    sys.exit(_serve(int(sys.argv[1]) if sys.argv[1:2] and sys.argv[1].isdigit() else None))
