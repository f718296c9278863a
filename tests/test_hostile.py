"""Hostile releases, servers and output paths, tried as an attacker would: each is refused with one
clear paragraph and a documented exit code, in bounded memory, and the canary beside each target
survives untouched."""

from __future__ import annotations

import contextlib
import functools
import hashlib
import http.server
import io
import os
import re
import shutil
import signal
import stat
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest

from pipeline import config, errors, metadata, output_directory, tree, yaml_input
from pipeline.errors import InputError, ValidationFailed, capped, report
from pipeline.release import archive, download, verify
from pipeline.stages import ingest
from tests.conftest import RAW_TEXT, build, children_of, record, running, serving
from tests.test_release import NAME, VERSION, run_cli, serve

MiB = 1 << 20
CANARY = b"canary: must survive untouched\n"


def canary(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(CANARY)
    return path


def alive(path: Path) -> bool:
    return path.is_file() and not path.is_symlink() and path.read_bytes() == CANARY


def one_paragraph(stderr: str) -> bool:
    return "Traceback" not in stderr and "\n\n" not in stderr.strip()


def sums_line(data_or_digest: bytes | str, name: str) -> str:
    digest = data_or_digest if isinstance(data_or_digest, str) else hashlib.sha256(data_or_digest).hexdigest()
    return f"{digest}  {name}\n"


def rezip(source: Path, target: Path, extra: list[tuple[zipfile.ZipInfo | str, bytes]] = (),
          sums_extra: str = "", sums: bytes | None = None) -> Path:
    """A copy of a release zip with extra entries appended and lines added to its SHA256SUMS."""
    with zipfile.ZipFile(source) as z, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as out:
        for info in z.infolist():
            data = z.read(info)
            if info.filename == f"{NAME}/{archive.SUMS}":
                data = sums if sums is not None else data + sums_extra.encode()
            out.writestr(info, data)
        for info, data in extra:
            out.writestr(info, data)
    return target


def zeros_member(z: zipfile.ZipFile, name: str, size: int) -> str:
    """Write `size` zero bytes as one deflated member, in chunks; return their sha256."""
    sha, block = hashlib.sha256(), bytes(MiB)
    info = zipfile.ZipInfo(name, date_time=(2021, 7, 29, 0, 0, 0))
    info.compress_type = zipfile.ZIP_DEFLATED
    with z.open(info, "w", force_zip64=True) as member:
        for _ in range(size // MiB):
            member.write(block)
            sha.update(block)
    return sha.hexdigest()


def release_with_zeros(rel, target: Path, size: int) -> Path:
    """The release zip plus one member of `size` zeros, listed in SHA256SUMS with its true hash."""
    with zipfile.ZipFile(rel.zip) as z, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as out:
        sums = b""
        for info in z.infolist():
            if info.filename == f"{NAME}/{archive.SUMS}":
                sums = z.read(info)
                continue
            out.writestr(info, z.read(info))
        digest = zeros_member(out, f"{NAME}/zeros.bin", size)
        out.writestr(f"{NAME}/{archive.SUMS}", sums + sums_line(digest, "zeros.bin").encode())
    return target


MEASURE = """
import resource, sys
from pathlib import Path
from pipeline.release import verify
from pipeline.errors import PipelineError
for limit in sys.argv[2:]:
    setattr(verify, limit, 1 << 40)
try:
    outcome = f"ok {verify.run(Path(sys.argv[1]))}"
except PipelineError as error:
    outcome = f"exit {error.exit_code}: {error}"
# VmHWM is this process's own peak: ru_maxrss would also count the parent it was forked from.
status = Path("/proc/self/status")
peaks = [line.split()[1] for line in status.read_text().splitlines() if line.startswith("VmHWM:")] \
    if status.exists() else []
print(int(peaks[0]) // 1024 if peaks else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024)
print(outcome)
"""


def measured_verify(path: Path, *lifted_limits: str) -> tuple[int, str]:
    """Verify in a fresh process: (peak RSS in MiB, outcome)."""
    done = subprocess.run([sys.executable, "-c", MEASURE, str(path), *lifted_limits], cwd=config.ROOT,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    peak, outcome = done.stdout.split("\n", 1)
    return int(peak), outcome


# --- zip bombs and streaming ---------------------------------------------------------------------

def test_zip_bomb_is_refused_before_anything_is_decompressed(rel, tmp_path):
    """A ~2 MB release zip listing a 2 GiB member of zeros (5 s to write), refused by verify and by
    download. One test for both commands, so that the bomb is written once: pytest-xdist's `xdist_group`
    no longer groups tests under pytest 9 (it sets a node id attribute pytest no longer reads)."""
    bomb = release_with_zeros(rel, tmp_path / f"{NAME}.zip", 2048 * MiB)
    assert bomb.stat().st_size < 20 * MiB
    peak, outcome = measured_verify(bomb)
    assert outcome.startswith("exit 5") and "zeros.bin declares 2,147,483,648 bytes" in outcome
    assert "nothing was read or written" in outcome
    assert peak < 300, f"{peak} MiB"
    record("hostile", "zip bomb (2 GiB member of zeros) to verify", "exit 5 before decompressing")
    assert_download_refused(rel, tmp_path / "download", bomb, "bomb")


def test_verify_streams_large_members_in_bounded_memory(rel, tmp_path):
    """With the limits lifted, a 512 MiB member (a zip) and a 512 MiB file (a directory) are hashed in
    chunks: peak memory stays far below their size."""
    big = release_with_zeros(rel, tmp_path / f"{NAME}.zip", 512 * MiB)
    peak, outcome = measured_verify(big, "MAX_MEMBER_BYTES", "MAX_TOTAL_BYTES")
    assert outcome.startswith("ok "), outcome
    assert peak < 300, f"{peak} MiB"
    directory = tmp_path / NAME
    shutil.copytree(rel.directory, directory)
    with open(directory / "zeros.bin", "wb") as f:
        f.truncate(512 * MiB)  # sparse: no disk used
    zeros = hashlib.sha256()
    for _ in range(512):
        zeros.update(bytes(MiB))
    with open(directory / archive.SUMS, "a", encoding="utf-8") as f:
        f.write(sums_line(zeros.hexdigest(), "zeros.bin"))
    peak, outcome = measured_verify(directory, "MAX_MEMBER_BYTES", "MAX_TOTAL_BYTES")
    assert outcome.startswith("ok "), outcome
    assert peak < 300, f"{peak} MiB"
    record("hostile", "512 MiB member, zip and directory", "streamed, under 300 MiB")


def test_member_that_inflates_past_its_declared_size_is_refused(rel, tmp_path):
    lie = tmp_path / "lie.zip"
    with zipfile.ZipFile(lie, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(f"{NAME}/zeros.bin", bytes(4 * MiB))
    data = bytearray(lie.read_bytes())
    # Rewrite the declared uncompressed size, in the local and the central header, to 1 KiB.
    needle = (4 * MiB).to_bytes(4, "little")
    assert data.count(needle) == 2
    lie.write_bytes(bytes(data.replace(needle, (1024).to_bytes(4, "little"))))
    with pytest.raises(verify.VerificationFailed) as failed:
        list(verify.read_chunks(verify.zip_members(lie)["zeros.bin"]))
    assert "zeros.bin" in str(failed.value) or "CRC" in str(failed.value)
    record("hostile", "member inflating past its declared size", "refused")


def test_too_many_members_are_refused_from_the_directory(rel, tmp_path, monkeypatch):
    monkeypatch.setattr(verify, "MAX_MEMBERS", 10)
    with pytest.raises(verify.VerificationFailed, match="over the limit of 10"):
        verify.run(rel.zip)
    with pytest.raises(verify.VerificationFailed, match="more than 10 entries"):
        verify.run(rel.directory)
    record("hostile", "too many members", "exit 5")


# --- a release is exactly its list ----------------------------------------------------------------

def test_empty_sums_with_an_extra_file_fails(rel, tmp_path):
    copy = tmp_path / NAME
    shutil.copytree(rel.directory, copy)
    (copy / archive.SUMS).write_bytes(b"")
    canary(copy / "extra.txt")
    code, _, stderr = run_cli("verify", str(copy))
    assert code == 5 and "SHA256SUMS lists no files" in stderr and "extra: " in stderr and "more" in stderr
    assert one_paragraph(stderr)
    record("hostile", "empty SHA256SUMS plus an extra file", "exit 5")


def test_partial_or_malformed_sums_fails(rel, tmp_path):
    copy = tmp_path / NAME
    shutil.copytree(rel.directory, copy)
    lines = (copy / archive.SUMS).read_text(encoding="utf-8").splitlines(keepends=True)
    (copy / archive.SUMS).write_text("".join(lines[1:]) + "not a checksum line\n", encoding="utf-8")
    code, _, stderr = run_cli("verify", str(copy))
    dropped = lines[0].split("  ", 1)[1].strip()
    assert code == 5 and f"extra: {dropped}" in stderr and "line " in stderr and one_paragraph(stderr)
    record("hostile", "partial and malformed SHA256SUMS", "exit 5")


def unsafe_entries() -> dict[str, tuple[zipfile.ZipInfo | str, bytes, str]]:
    link = zipfile.ZipInfo(f"{NAME}/csv/link.csv")
    link.create_system = 3
    link.external_attr = (stat.S_IFLNK | 0o777) << 16
    fifo = zipfile.ZipInfo(f"{NAME}/fifo")
    fifo.create_system = 3
    fifo.external_attr = (stat.S_IFIFO | 0o644) << 16
    return {
        "duplicate after dropping '.'": (f"{NAME}/csv/./facts.csv", b"fact_id\nforged\n", "duplicate"),
        "duplicate in another case": (f"{NAME}/CSV/facts.csv", b"forged\n", "duplicate"),
        "'..' member": (f"{NAME}/../escaped.txt", CANARY, "'..'"),
        "absolute member": ("/tmp/escaped.txt", CANARY, "absolute"),
        "backslash member": (f"{NAME}/..\\escaped.txt", CANARY, "backslash"),
        "symbolic link member": (link, b"/etc/passwd", "symbolic link"),
        "fifo member": (fifo, b"", "not a regular file"),
    }


@pytest.mark.parametrize("case", list(unsafe_entries()))
def test_unsafe_member_names_and_types_are_refused_before_reading(rel, tmp_path, case):
    entry, data, expected = unsafe_entries()[case]
    name = entry.filename if isinstance(entry, zipfile.ZipInfo) else entry
    listed = name.split("/", 1)[1] if name.startswith(f"{NAME}/") else name
    hostile = rezip(rel.zip, tmp_path / f"{NAME}.zip", [(entry, data)], sums_line(data, listed))
    code, stdout, stderr = run_cli("verify", str(hostile))
    assert code == 5 and expected in stderr and "verified" not in stdout and one_paragraph(stderr)
    assert not (tmp_path / "escaped.txt").exists()
    record("hostile", f"zip with a {case}", "exit 5")


def test_directory_release_does_not_follow_links(rel, tmp_path):
    outside = canary(tmp_path / "outside" / "secret.csv")
    copy = tmp_path / NAME
    shutil.copytree(rel.directory, copy)
    (copy / "csv" / "facts.csv").unlink()
    (copy / "csv" / "facts.csv").symlink_to(outside)
    code, _, stderr = run_cli("verify", str(copy))
    assert code == 5 and "csv/facts.csv is a symbolic link" in stderr and one_paragraph(stderr)
    assert hashlib.sha256(CANARY).hexdigest()[:12] not in stderr and alive(outside)
    record("hostile", "directory release with a link to an outside file", "exit 5, outside file not read")


@pytest.mark.parametrize("resources", ["5", "null", '"x"', "[5]", '[{"path": ["a", "b"]}]', "[" * 100_000])
def test_malformed_datapackage_is_a_verification_failure(rel, tmp_path, resources):
    copy = tmp_path / NAME
    shutil.copytree(rel.directory, copy)
    package = copy / "datapackage.json"
    text = package.read_text(encoding="utf-8")
    package.write_text(text[:text.index('"resources"')] + f'"resources": {resources}}}', encoding="utf-8")
    archive.write_sums(copy)
    code, _, stderr = run_cli("verify", str(copy))
    assert code == 5 and "datapackage.json" in stderr and one_paragraph(stderr)
    record("hostile", f"datapackage.json resources = {resources[:12]}", "exit 5")


def test_long_problem_lists_are_capped(rel, tmp_path):
    copy = tmp_path / NAME
    shutil.copytree(rel.directory, copy)
    for i in range(60):
        (copy / f"extra-{i:02}.txt").write_text("x", encoding="utf-8")
    code, _, stderr = run_cli("verify", str(copy))
    assert code == 5 and "... and 40 more" in stderr and len(stderr.splitlines()) == 22
    assert capped(map(str, range(25))) == [*map(str, range(20)), "... and 5 more"]
    assert capped(["a"]) == ["a"]
    record("hostile", "60 extra files", "first 20 listed, then a count")


# --- hostile servers --------------------------------------------------------------------------------

@contextlib.contextmanager
def hostile_server(behaviour: str):
    """A server on 127.0.0.1 that streams forever, trickles a byte at a time, or trickles its headers."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_GET(self):
            with contextlib.suppress(OSError):
                if behaviour == "trickle-headers":
                    self.wfile.write(b"HTTP/1.1 200 OK\r\n")
                    for _ in range(120):
                        self.wfile.write(b"X")
                        self.wfile.flush()
                        time.sleep(0.25)
                    return
                self.send_response(200)
                self.end_headers()
                block = b"0" * 65536 if behaviour == "endless" else b"0"
                for _ in range(200_000 if behaviour == "endless" else 120):
                    self.wfile.write(block)
                    self.wfile.flush()
                    if behaviour == "trickle":
                        time.sleep(0.25)

    with serving(Handler) as url:
        yield url


def test_endless_sums_is_cut_at_its_cap(tmp_path):
    started = time.monotonic()
    with hostile_server("endless") as url:
        code, _, stderr = run_cli("download", "--version", VERSION, "--base-url", url, "--dest", str(tmp_path / "got"))
    assert code == 5 and f"more than {download.MAX_SUMS_BYTES:,} bytes" in stderr and one_paragraph(stderr)
    assert time.monotonic() - started < 20
    assert list((tmp_path / "got").iterdir()) == []
    record("hostile", "server streaming SHA256SUMS forever", "exit 5 at the 64 KiB cap")


@pytest.mark.parametrize("behaviour", ["trickle", "trickle-headers"])
def test_trickling_server_hits_the_overall_deadline(tmp_path, behaviour):
    started = time.monotonic()
    with hostile_server(behaviour) as url:
        code, _, stderr = run_cli("download", "--version", VERSION, "--base-url", url, "--dest",
                                  str(tmp_path / "got"), "--timeout", "1")
    elapsed = time.monotonic() - started
    assert code == 2 and "deadline of 1 s" in stderr and one_paragraph(stderr), stderr
    assert elapsed < 10, elapsed
    assert list((tmp_path / "got").iterdir()) == []
    record("hostile", f"server sending a byte every 0.25 s ({behaviour})", "exit 2 at the --timeout deadline")


def redirecting_server(root: Path, body_bytes: int, header_bytes: int, sent: list[int]):
    """A server whose every path outside /moved/ answers 302 to /moved/<path>, with `header_bytes` of
    extra headers and a body of up to `body_bytes` (no Content-Length), counting in `sent` the body
    bytes each redirect got onto the wire; /moved/ serves the files under `root`."""

    class Handler(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_GET(self):
            if self.path.startswith("/moved/"):
                self.path = self.path.removeprefix("/moved")
                return super().do_GET()
            self.send_response(302)
            self.send_header("Location", f"/moved{self.path}")
            for i in range(header_bytes // 1024):
                self.send_header(f"X-Padding-{i}", "p" * 1000)
            self.end_headers()
            written = 0
            with contextlib.suppress(OSError):
                while written < body_bytes:
                    self.wfile.write(b"0" * 65536)
                    self.wfile.flush()
                    written += 65536
            sent.append(written)
            self.close_connection = True

    return serving(functools.partial(Handler, directory=str(root)))


def test_download_follows_a_redirect_without_reading_its_body(rel, registered, tmp_path):
    """Each asset answers 302 with a 64 MiB body (standing in for an endless one): urllib read it into
    memory before following the redirect, past every cap. The body is never read: the server gets only
    what the socket buffers take before the download closes the connection."""
    sent: list[int] = []
    with redirecting_server(rel.zip.parent, 64 * MiB, 0, sent) as url:
        code, _, stderr = run_cli("download", "--version", VERSION, "--base-url", url, "--dest",
                                  str(tmp_path / "got"), "--timeout", "60", "--registry", str(registered))
    assert code == 0, stderr
    assert len(sent) == 3 and max(sent) < 16 * MiB, sent
    record("hostile", "302 with a 64 MiB body before each asset", "followed without reading the body")


def test_redirect_headers_count_against_the_cap(rel, tmp_path):
    """Every byte read from the network counts: a redirect with 90 KiB of headers is past the 64 KiB
    cap of SHA256SUMS before any body is read."""
    sent: list[int] = []
    with redirecting_server(rel.zip.parent, 0, 90 * 1024, sent) as url:
        code, _, stderr = run_cli("download", "--version", VERSION, "--base-url", url, "--dest",
                                  str(tmp_path / "got"), "--timeout", "60")
    assert code == 5 and f"more than {download.MAX_SUMS_BYTES:,} bytes" in stderr, stderr
    assert "headers and redirects count" in stderr and one_paragraph(stderr)
    assert list((tmp_path / "got").iterdir()) == []
    record("hostile", "redirect with 90 KiB of headers", "exit 5 at the 64 KiB cap")


def mirror(rel, tmp_path: Path, zip_path: Path) -> Path:
    """A release page serving `zip_path` as the release zip, with a SHA256SUMS that lists it."""
    root = tmp_path / "mirror"
    assets = root / rel.assets.name
    assets.mkdir(parents=True)
    shutil.copyfile(zip_path, assets / rel.zip.name)
    shutil.copyfile(rel.duckdb, assets / rel.duckdb.name)
    archive.write_sums(assets)
    return root


def assert_download_refused(rel, tmp_path: Path, hostile: Path, case: str) -> None:
    """`download` of a release page serving `hostile` as the zip exits 5 and leaves nothing in --dest."""
    tmp_path.mkdir(exist_ok=True)
    dest = tmp_path / "got"
    with serve(mirror(rel, tmp_path, hostile)) as url:
        code, stdout, stderr = run_cli("download", "--version", VERSION, "--base-url", url, "--dest", str(dest),
                                       "--no-registry")  # the zip's own checks, not the registry, must refuse it
    assert code == 5 and "verified" not in stdout and one_paragraph(stderr)
    assert list(dest.iterdir()) == []  # the scratch directory is gone, nothing was unpacked
    record("hostile", f"download of a zip with a {case}", "exit 5, nothing written")


def test_download_refuses_a_zip_with_a_duplicate_name_and_writes_nothing(rel, tmp_path):
    data = b"fact_id\nforged\n"
    hostile = rezip(rel.zip, tmp_path / f"{NAME}.zip", [(f"{NAME}/csv/./facts.csv", data)],
                    sums_line(data, "csv/./facts.csv"))
    assert_download_refused(rel, tmp_path, hostile, "duplicate")


@pytest.mark.parametrize("case", ["link to a file", "dangling link", "existing file", "existing directory"])
def test_download_never_writes_through_a_link_or_over_a_file(rel, tmp_path, case):
    dest = tmp_path / "got"
    dest.mkdir()
    outside = tmp_path / "outside" / "victim.duckdb"
    duck = dest / f"{NAME}.duckdb"
    if case == "link to a file":
        canary(outside)
        duck.symlink_to(outside)
    elif case == "dangling link":
        outside.parent.mkdir()
        duck.symlink_to(outside)
    elif case == "existing file":
        canary(duck)
    else:
        canary(dest / NAME / "mine.txt")
    with serve(rel.zip.parent) as url:
        code, _, stderr = run_cli("download", "--version", VERSION, "--base-url", url, "--dest", str(dest))
    assert code == 4 and one_paragraph(stderr)
    assert str(duck if case != "existing directory" else dest / NAME) in stderr
    if case == "link to a file":
        assert alive(outside) and duck.is_symlink()
    elif case == "dangling link":
        assert not outside.exists()
    elif case == "existing file":
        assert alive(duck)
    else:
        assert alive(dest / NAME / "mine.txt") and not duck.exists()
    record("hostile", f"download with {case} at the target", "exit 4, untouched")


# --- deleting only what is ours ----------------------------------------------------------------------

def fake_generation(directory: Path) -> Path:
    """A directory that carries the marker of a published dataset, and a user's file."""
    directory.mkdir(parents=True)
    (directory / output_directory.MARKER).write_text(f"{config.DATASET_NAME} {VERSION}\n", encoding="utf-8")
    canary(directory / "parquet" / "facts.parquet")
    return canary(directory / "notes.txt")


def test_out_link_to_a_published_directory_elsewhere_is_refused(tmp_path):
    notes = fake_generation(tmp_path / "elsewhere" / "published")
    link = tmp_path / "work" / "out"
    link.parent.mkdir()
    link.symlink_to(notes.parent)
    result = build(config.RAW_FILE, link)
    assert result.code == 4 and "not this pipeline's own generation link" in result.stderr
    assert alive(notes) and alive(notes.parent / "parquet" / "facts.parquet") and link.is_symlink()
    record("hostile", "build --out LINK to a published directory elsewhere", "exit 4, untouched")


def test_out_directory_with_a_users_file_is_refused(tmp_path):
    notes = fake_generation(tmp_path / "out")
    result = build(config.RAW_FILE, tmp_path / "out")
    assert result.code == 4 and "notes.txt" in result.stderr and "did not write" in result.stderr
    assert alive(notes)
    record("hostile", "build --out DIR holding a user's file", "exit 4, listed, untouched")


def test_users_file_in_the_current_generation_is_never_deleted(tmp_path):
    out = tmp_path / "out"
    assert build(config.RAW_FILE, out).code == 0
    mine = canary(out / "csv" / "my_notes.csv")
    result = build(config.RAW_FILE, out)
    assert result.code == 4 and "csv/my_notes.csv" in result.stderr and alive(mine)
    mine.unlink()
    (out / "site").mkdir()
    (out / "site" / "index.html").write_text("<p>page</p>", encoding="utf-8")  # what `make site` adds
    generation = out.resolve()
    assert build(config.RAW_FILE, out).code == 0 and not generation.exists()
    record("hostile", "a user's file inside the published generation", "exit 4, listed, untouched")


def test_only_proven_staging_directories_are_swept(tmp_path):
    out = tmp_path / "out"
    assert build(config.RAW_FILE, out).code == 0
    copy = tmp_path / ".out-copy"  # a user's copy of a generation: marker and all, but not ours
    shutil.copytree(out.resolve(), copy)
    look_alike = tmp_path / ".out-mine"
    look_alike.mkdir()
    shutil.copyfile(out / output_directory.MARKER, look_alike / output_directory.MARKER)
    canary(look_alike / "notes.txt")
    abandoned = output_directory.new_staging(out)  # what a run killed before its swap leaves
    (abandoned / "parquet").mkdir()
    (abandoned / "parquet" / "facts.parquet").write_bytes(b"partial")
    assert build(config.RAW_FILE, out).code == 0
    assert copy.is_dir() and (copy / output_directory.MARKER).is_file() and alive(look_alike / "notes.txt")
    assert not abandoned.exists()
    record("hostile", "hidden .NAME-* siblings carrying the marker", "left alone; only proven staging swept")


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_signal_during_publish_removes_temporary_directories_and_the_writer(tmp_path, signum):
    """The signal lands while publish has written a table and the DuckDB writer process is at work (a
    test-only hook pauses publish there, so the moment does not depend on the machine's speed)."""
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    out = tmp_path / "out"
    paused = tmp_path / "paused"
    env = {**os.environ, "TMPDIR": str(scratch), "PIPELINE_TEST_PAUSE_AFTER_TABLE": "facts",
           "PIPELINE_TEST_PAUSED": str(paused)}
    # A shell starts background jobs with SIGINT ignored, and Python keeps it ignored: give the build the
    # default disposition, as in a terminal, so that the test also holds under `make bench &`.
    process = subprocess.Popen([sys.executable, "-m", "pipeline", "build", "--out", str(out)], cwd=config.ROOT,
                               env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    deadline = time.monotonic() + 60
    while not paused.exists() and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    assert paused.exists(), "the build did not reach publish"
    writers = children_of(process.pid)
    assert writers, "no DuckDB writer process"
    assert [p for p in tmp_path.iterdir() if p.name.startswith(".out-")], "no staging directory"
    process.send_signal(signum)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == (143 if signum == signal.SIGTERM else 130), stderr
    assert "temporary files were removed" in stderr and "Traceback" not in stderr
    assert list(scratch.iterdir()) == [] and not os.path.lexists(out)
    assert [p for p in tmp_path.iterdir() if p.name.startswith(".out")] == []
    assert [pid for pid in writers if running(pid)] == []
    record("hostile", f"{signal.Signals(signum).name} during publish",
           "temporary directories removed, DuckDB writer stopped")


# --- YAML, manifests and long lists --------------------------------------------------------------------

def run_report(action) -> tuple[int, str]:
    stderr = io.StringIO()
    with contextlib.redirect_stderr(stderr), pytest.raises(SystemExit) as exit_:
        report(action)
    return exit_.value.code, stderr.getvalue()


@pytest.mark.parametrize("text, expected", [
    ("facts: []\nunsafe: !!python/object/apply:os.system ['touch {canary}']\n", "line 2"),
    ("facts: [1, 2\nunits: 3\n", "line 2"),
    ("- just\n- a list\n", "should be a mapping"),
])
def test_catalog_yaml_errors_are_one_paragraph(tmp_path, monkeypatch, text, expected):
    target = tmp_path / "created-by-yaml"
    (tmp_path / "figures.yaml").write_text(text.format(canary=target), encoding="utf-8")
    monkeypatch.setattr(config, "CATALOG_DIR", tmp_path)
    code, stderr = run_report(lambda: metadata._load("figures.yaml"))
    assert code == ValidationFailed.exit_code == 3
    assert "figures.yaml" in stderr and expected in stderr and one_paragraph(stderr)
    assert len(stderr.strip().splitlines()) == 1 and not target.exists()
    record("hostile", f"catalog YAML: {expected}", "exit 3, one paragraph")


MANIFEST_TEXT = config.MANIFEST.read_text(encoding="utf-8")
LAUGHS = "".join(f"l{i}: &l{i} [{', '.join(['*l' + str(i - 1) if i else 'lol'] * 10)}]\n" for i in range(9))


@pytest.mark.parametrize("text, expected", [
    ("file: x.txt\nbytes: 1\n", "key 'sha256': missing key"),
    ("file: !!python/name:os.system\n", "line 1"),
    ("file: [x\n", "line 2"),
    ("just text\n", "should be a mapping"),
    (re.sub(r"bytes: \d+", "bytes: " + "9" * 5000, MANIFEST_TEXT), "an integer of 5,000 characters"),
    (MANIFEST_TEXT + "nested: " + "[" * 2000 + "]" * 2000 + "\n", "nesting"),
    (re.sub(r"\ntitle_en: .*", "", MANIFEST_TEXT), "key 'title_en': missing key"),
    (LAUGHS + re.sub(r"\ntitle_zh: .*", "\ntitle_zh: *l8", MANIFEST_TEXT), "once its aliases (*name) are expanded"),
])
def test_manifest_errors_are_one_paragraph(tmp_path, monkeypatch, text, expected):
    """A 5,000-digit integer was a ValueError traceback, 2,000-deep nesting a RecursionError, a missing
    title_en a KeyError in the page and the release, a billion laughs 1.3 GB and a MemoryError."""
    manifest = tmp_path / "manifest.yaml"
    manifest.write_text(text, encoding="utf-8")
    monkeypatch.setattr(config, "MANIFEST", manifest)
    code, stderr = run_report(lambda: ingest.check_manifest(config.RAW_FILE, config.RAW_FILE.read_bytes()))
    assert code == InputError.exit_code == 2 and "manifest.yaml" in stderr and expected in stderr, stderr
    assert one_paragraph(stderr) and len(stderr) < 2_000  # the file repeats nothing it holds
    record("hostile", f"manifest: {expected}", "exit 2, one paragraph")


def test_the_page_and_the_release_name_a_manifest_key_that_is_missing(tmp_path, monkeypatch, clean_build, epoch):
    from pipeline.release import build as release
    from pipeline.site import jsonld

    manifest = tmp_path / "manifest.yaml"
    manifest.write_text(re.sub(r"\ntitle_en: .*", "", MANIFEST_TEXT), encoding="utf-8")
    monkeypatch.setattr(config, "MANIFEST", manifest)
    tables = {"documents": clean_build.table("documents"), "facts": clean_build.table("facts")}
    for name, action in (("page", lambda: jsonld.page_dataset(tables, "")),
                         ("release", lambda: release.build(clean_build.out, tmp_path / "dist", epoch))):
        code, stderr = run_report(action)
        assert code == 2 and "key 'title_en': missing key" in stderr and "Traceback" not in stderr, (name, stderr)
        record("hostile", f"manifest without title_en: {name}", "exit 2, one paragraph")


def test_an_error_quoting_a_long_sentence_is_short(tmp_path):
    """A stale-translation error repeated the whole sentence: 600 KB of stderr for a 610 KB input. Every
    error's lines are cut (errors.LINE_LIMIT), whatever the message quotes."""
    filler = "和" * 200_000
    raw = tmp_path / "long.txt"
    raw.write_text(RAW_TEXT.replace("在市级各相关部门的共同努力下", f"在市级各相关部门{filler}的共同努力下", 1),
                   encoding="utf-8")
    result = build(raw, tmp_path / "out", "--check")
    assert result.code == 3 and "check translation_stale failed" in result.stderr
    assert "characters left out" in result.stderr and len(result.stderr) < 5_000, len(result.stderr)
    record("hostile", "a 200,000-character sentence in an error", "exit 3, its quote cut to 1,000 characters")


def test_many_unaccounted_numbers_print_a_capped_list(tmp_path):
    sentence = "五年来全市建设了"
    assert sentence in RAW_TEXT
    numbers = "".join(f"另有{i + 1000}项、" for i in range(2000))
    raw = tmp_path / "many.txt"
    raw.write_text(RAW_TEXT.replace(sentence, numbers + sentence, 1), encoding="utf-8")
    result = build(raw, tmp_path / "out")
    assert result.code == 3 and "every_number_accounted" in result.stderr
    assert "... and 1,980 more" in result.stderr and len(result.stderr.splitlines()) < 60
    record("hostile", "2,000 unaccounted numbers", "exit 3, first 20 listed, then a count")



def test_readme_documents_the_exit_codes_the_code_uses():
    readme = (config.ROOT / "README.md").read_text(encoding="utf-8")
    from pipeline.errors import EXIT_CODES

    for code in EXIT_CODES:
        assert f"\n| {code} | " in readme, f"exit code {code} is not in the README's table"


def test_docs_state_the_limits_the_code_enforces():
    robustness = (config.ROOT / "docs" / "robustness.md").read_text(encoding="utf-8")
    for phrase in (f"at most {verify.MAX_MEMBERS:,} members", f"{verify.MAX_MEMBER_BYTES // MiB} MiB per file",
                   f"{verify.MAX_TOTAL_BYTES // MiB // 1024} GiB in all", f"default {download.TIMEOUT_S}",
                   f"{download.READ_TIMEOUT_S} s timeout per read",
                   f"`SHA256SUMS` {download.MAX_SUMS_BYTES // 1024} KiB",
                   f"{download.MAX_ZIP_BYTES // MiB} MiB each", f"reads at most {yaml_input.MAX_BYTES // MiB} MiB",
                   f"deeper than {yaml_input.MAX_DEPTH} levels", f"than {yaml_input.MAX_NODES:,} values",
                   f"longer than {yaml_input.MAX_INTEGER_DIGITS} digits", f"about {errors.LINE_LIMIT:,} characters",
                   f"nested at most {tree.MAX_DEPTH} deep"):
        assert phrase in robustness, phrase
