"""Shared helpers: the real raw text, edited copies of it, and in-process builds."""

from __future__ import annotations

import contextlib
import gc
import hashlib
import http.server
import io
import os
import shutil
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from pipeline import config, metadata
from pipeline.__main__ import main
from pipeline.arrow import read_table

RAW_TEXT = config.RAW_FILE.read_text(encoding="utf-8")

# How each robustness case was handled, by group; printed at the end of the run. Cases travel as
# user properties of the test that ran them, so the tally also works under pytest-xdist workers.
OUTCOMES: dict[str, list[tuple[str, str]]] = {}
_running: list[pytest.Item] = []


def pytest_collection_finish(session):
    """Each worker process runs dozens of builds, over a heap that the imports of pandas, pyarrow,
    pandera, hypothesis and Playwright make large: collect as the pipeline's own processes do
    (config.tune_gc_for_one_build), and leave what imports and collection created out of every
    collection (7 % off the mutation suite). Garbage in cycles is still collected."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(config.GC_THRESHOLD, *gc.get_threshold()[1:])


# `make check` runs the tests that matter for an everyday edit: every test module of these kinds, by its
# file name (tests/test_<kind>*.py: the tokenizer, the rules, the catalog, the dataset's contents), except
# tests marked slow. A new file named after its kind is in `make check` without anyone adding it.
CHECK_KINDS = ("numbers", "rules", "catalog", "dataset")
STALE = "output/ is stale: run make dataset"
_STALE_ENV = "BAOSHAN_TEST_OUTPUT_STALE"  # the controller's answer, inherited by pytest-xdist workers


def repository_files(root: Path) -> dict[str, str]:
    """The sha256 of every file git would commit (tracked, or untracked and not ignored), by path."""
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=root,
                            capture_output=True, check=False)
    if listed.returncode != 0:
        return {}
    paths = [p for p in listed.stdout.decode("utf-8", "surrogateescape").split("\0") if p]
    return {p: hashlib.sha256((root / p).read_bytes()).hexdigest() for p in paths if (root / p).is_file()}


_repository = pytest.StashKey[dict[str, str]]()


def pytest_configure(config):
    """Once per run, before any worker starts: is output/ what `make dataset` would build now? And what the
    repository holds, so that a test that writes into it (not into tmp_path) fails the run."""
    if not hasattr(config, "workerinput"):
        config.stash[_repository] = repository_files(config.rootpath)
        try:
            stale = subprocess.run(["make", "-q", "dataset"], cwd=config.rootpath, stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL).returncode != 0
        except FileNotFoundError:  # no make: the tests of output/ run, and say what they find
            stale = False
        os.environ[_STALE_ENV] = "1" if stale else ""
    config.stash[_deselected] = 0


_deselected = pytest.StashKey[int]()


def _of_a_check_kind(path: Path) -> bool:
    return path.name.startswith(tuple(f"test_{kind}" for kind in CHECK_KINDS))


def pytest_ignore_collect(collection_path, config):
    """`-m check` does not even import the other test modules (Playwright, the release tools ...)."""
    if config.option.markexpr == "check" and collection_path.suffix == ".py" and collection_path.name.startswith(
            "test_") and not _of_a_check_kind(collection_path):
        return True
    return None


def pytest_itemcollected(item):
    """Mark the `make check` tests as they are collected, so that `-m check` selects them."""
    if _of_a_check_kind(item.path) and not item.get_closest_marker("slow"):
        item.add_marker(pytest.mark.check)


@pytest.hookimpl(trylast=True)  # after -k and -m have selected
def pytest_collection_modifyitems(config, items):
    if os.environ.get(_STALE_ENV):
        # Tests of the published output/ (they take the `fresh_output` fixture) cannot pass on a stale one;
        # they are left out, the run says why once (pytest_terminal_summary) and does not pass.
        stale = [item for item in items if "fresh_output" in item.fixturenames]
        if stale:
            config.hook.pytest_deselected(items=stale)
            items[:] = [item for item in items if "fresh_output" not in item.fixturenames]
        config.stash[_deselected] = len(stale)
        if hasattr(config, "workeroutput"):
            config.workeroutput["stale_deselected"] = len(stale)


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error):
    """pytest-xdist: a worker's count of the tests it left out reaches the controller."""
    counts = getattr(node, "workeroutput", {})
    node.config.stash[_deselected] = max(node.config.stash[_deselected], counts.get("stale_deselected", 0))


def pytest_sessionfinish(session):
    if hasattr(session.config, "workerinput"):
        return
    if session.config.stash[_deselected] and session.exitstatus == pytest.ExitCode.OK:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
    before, after = session.config.stash.get(_repository, {}), repository_files(session.config.rootpath)
    written = sorted(p for p in before.keys() | after.keys() if before.get(p) != after.get(p))
    if written:
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        reporter.write_line("the tests wrote into the repository (a test must write under tmp_path): "
                            + ", ".join(written[:20]), red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


@pytest.fixture
def catalog(tmp_path, monkeypatch):
    """A copy of the catalog that the build reads; `catalog(file, old, new)` edits it."""
    import schemas

    def forget() -> None:
        metadata.clear_caches()
        schemas._schema.cache_clear()

    copy = tmp_path / "catalog"
    shutil.copytree(config.CATALOG_DIR, copy)
    monkeypatch.setattr(config, "CATALOG_DIR", copy)
    forget()

    def edit(name: str, old: str, new: str) -> None:
        path = copy / name
        text = path.read_text(encoding="utf-8")
        assert text.count(old) >= 1, f"{old!r} not in {name}"
        path.write_text(text.replace(old, new, 1), encoding="utf-8")

    yield edit
    monkeypatch.undo()
    forget()


@pytest.fixture(scope="session")
def fresh_output() -> Path:
    """The published output/, which `make dataset` has brought up to date (checked at the start of the run)."""
    return config.OUTPUT_DIR


@pytest.fixture(autouse=True)
def _current_test(request):
    _running.append(request.node)
    yield
    _running.pop()


def record(group: str, case: str, outcome: str) -> None:
    _running[-1].user_properties.append(("robustness", (group, case, outcome)))


def pytest_runtest_logreport(report):
    if report.when == "call":
        for key, (group, case, outcome) in report.user_properties:
            if key == "robustness":
                OUTCOMES.setdefault(group, []).append((case, outcome))


def pytest_terminal_summary(terminalreporter, config):
    if os.environ.get(_STALE_ENV) and not hasattr(config, "workerinput"):
        left_out = config.stash[_deselected]
        terminalreporter.write_line(STALE + (f" ({left_out} test(s) of output/ not run)" if left_out else ""),
                                    red=True, bold=True)
    if not OUTCOMES:
        return
    terminalreporter.section("robustness cases")
    for group, cases in OUTCOMES.items():
        tally: dict[str, int] = {}
        for _, outcome in cases:
            tally[outcome] = tally.get(outcome, 0) + 1
        if group == "mutation suite":
            tally = {k: tally.get(k, 0) for k in ("caught", "propagated", "silent")}
        counts = ", ".join(f"{n} {outcome}" for outcome, n in tally.items())
        terminalreporter.write_line(f"{group}: {len(cases)} cases: {counts}")


@contextlib.contextmanager
def serving(handler: type[http.server.BaseHTTPRequestHandler]) -> Iterator[str]:
    """A threaded HTTP server on 127.0.0.1 and a free port, for the duration of the block; yields its URL."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


@dataclass
class BuildResult:
    code: int
    stdout: str
    stderr: str
    out: Path

    def table(self, name: str):
        return read_table(self.out / "parquet" / f"{name}.parquet")


def build(raw: Path, out: Path, *extra: str) -> BuildResult:
    """Run `python -m pipeline build` in-process (same code path as the CLI, without re-importing)."""
    stdout, stderr = io.StringIO(), io.StringIO()
    code = 0
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        try:
            main(["build", "--raw", str(raw), "--out", str(out), *extra])
        except SystemExit as exit_:
            code = exit_.code if isinstance(exit_.code, int) else 1
    return BuildResult(code, stdout.getvalue(), stderr.getvalue(), out)


def edited(tmp_path: Path, old: str, new: str, count: int = 1, name: str = "edited.txt") -> Path:
    """A copy of the raw text with `old` replaced by `new` (which must occur)."""
    assert RAW_TEXT.count(old) >= count, f"{old!r} not in the raw text"
    path = tmp_path / name
    path.write_text(RAW_TEXT.replace(old, new, count), encoding="utf-8")
    return path


@pytest.fixture
def follow_edit(monkeypatch):
    """For a test that edits the text on purpose to test something else: the English catalog follows the
    edit (its Chinese fingerprints get the same replacement), so the build does not stop at
    translation_stale. The edit must not touch a placeholder's mention."""
    from pipeline import metadata

    def follow(old: str, new: str) -> None:
        catalog = {sid: {**entry, "zh": entry["zh"].replace(old, new)}
                   for sid, entry in metadata.translations().items()}
        monkeypatch.setattr(metadata, "translations", lambda: catalog)

    return follow


@pytest.fixture(scope="session")
def clean_build(request, tmp_path_factory) -> BuildResult:
    """One build of the real raw text, shared by tests that compare against it. Under `make check`, with
    output/ up to date, output/ itself: the whole suite shows it is what a fresh build gives
    (test_dataset.py::test_default_output_matches_a_fresh_build), and every worker is spared a build."""
    if request.config.option.markexpr == "check" and not os.environ.get(_STALE_ENV):
        return BuildResult(0, "", "", config.OUTPUT_DIR)
    root = tmp_path_factory.mktemp("clean")
    result = build(config.RAW_FILE, root / "output")
    assert result.code == 0, result.stderr
    return result


@pytest.fixture(scope="session")
def epoch(clean_build) -> int:
    from pipeline.release import project

    return project.release_epoch(clean_build.table("documents")["publication_date"].iloc[0])


@pytest.fixture(scope="session")
def rel(clean_build, epoch, tmp_path_factory):
    """One release of the clean build, shared by the release and page tests."""
    from pipeline.release import build as release

    return release.build(clean_build.out, tmp_path_factory.mktemp("dist"), epoch)


@pytest.fixture(scope="session")
def registered(rel, tmp_path_factory) -> Path:
    """A registry of released versions that records `rel`, written as `make release` writes it (with the
    root CITATION.cff and .zenodo.json beside it)."""
    from pipeline.release import build as release

    root = tmp_path_factory.mktemp("repository")
    release.register(rel, root / "releases.yaml", root)
    return root / "releases.yaml"


def tree_digest(root: Path) -> dict[str, str]:
    """The sha256 of every file under `root`, by relative path: equal digests, byte-identical trees."""
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def _proc_stat(path: Path) -> list[str] | None:
    """The fields of a Linux /proc/<pid>/stat after the command name (state, ppid, ...); None once gone."""
    try:
        return path.read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None


def running(pid: int) -> bool:
    """Whether process `pid` runs (a zombie, dead but not yet reaped, does not)."""
    fields = _proc_stat(Path(f"/proc/{pid}/stat"))
    return fields is not None and fields[0] not in ("Z", "X")


def children_of(pid: int) -> list[int]:
    """The running child processes of `pid`."""
    return [int(stat.parent.name) for stat in Path("/proc").glob("[0-9]*/stat")
            if (fields := _proc_stat(stat)) and fields[1] == str(pid) and fields[0] not in ("Z", "X")]
