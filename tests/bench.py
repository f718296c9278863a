"""`make bench`: time the build, the test suite, `make check` and the tokenizer; print a table, write build/bench.json.

Everything that runs make happens in a throwaway copy of the working tree (tracked and
untracked files, as git lists them) that uses this checkout's .venv, so this checkout's
output/ and build/ are never touched: the only file written here is build/bench.json.
Targets are printed next to the figures; no test asserts them, because timings on a
shared machine vary.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = Path(sys.executable)
STAGES = ("ingest", "extract", "related", "tables", "validate", "publish")
HEAVY_IMPORTS = "import pandas, pandera.pandas, duckdb, pyarrow.parquet"
SIZES_MB = (1, 10, 100)
MB = 1_000_000


LAST_CPU = [0.0]  # CPU seconds of the last command run(), with the processes it waited for


def run(cmd: list[str], cwd: Path) -> tuple[float, int, str, int]:
    """Wall seconds, peak RSS in KiB, stdout and exit code of one command; its CPU time goes to LAST_CPU.

    The peak RSS comes from wait4's rusage, the figure GNU time -v prints, of the command's own
    process (for make, that is make itself, not the stages it runs). Its user and system time include
    the children the command waited for (for make, the stages), as GNU time's do.
    """
    with tempfile.TemporaryFile("w+") as out:
        started = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=cwd, stdout=out, stderr=subprocess.STDOUT, text=True)
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - started
        LAST_CPU[0] = usage.ru_utime + usage.ru_stime
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        return seconds, usage.ru_maxrss, out.read(), proc.returncode


def workspace(parent: Path) -> Path:
    """A copy of the working tree that shares .venv, is a git repository, and can never rebuild .venv."""
    ws = parent / "tree"
    ws.mkdir()
    files = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=ROOT,
                           check=True, capture_output=True).stdout
    subprocess.run(["tar", "--null", "-T", "-", "-cf", str(parent / "tree.tar")], cwd=ROOT, input=files, check=True)
    subprocess.run(["tar", "-xf", str(parent / "tree.tar")], cwd=ws, check=True)
    # A directory of links rather than a link to .venv: a stale lock file must not make
    # `make` in the copy recreate the shared venv. PYTHON=false (see make()) guards it too.
    venv = ws / ".venv"
    venv.mkdir()
    for entry in (ROOT / ".venv").iterdir():
        if entry.name != ".installed":
            (venv / entry.name).symlink_to(entry)
    (venv / ".installed").touch()
    git = ["git", "-c", "user.name=bench", "-c", "user.email=bench@localhost"]
    subprocess.run(["git", "init", "-q"], cwd=ws, check=True)
    subprocess.run(["git", "add", "-A"], cwd=ws, check=True)
    subprocess.run([*git, "commit", "-qm", "bench snapshot"], cwd=ws, check=True)
    return ws


def make(ws: Path, target: str) -> tuple[float, str, int]:
    seconds, _, out, code = run(["make", "--no-print-directory", "PYTHON=false", target], ws)
    return seconds, out, code


def stages_run(make_output: str) -> list[str]:
    return re.findall(r"^stage: python -m pipeline\.stages\.(\w+)", make_output, flags=re.M)


def clean(ws: Path) -> None:
    shutil.rmtree(ws / "build", ignore_errors=True)
    for path in [ws / "output", *ws.glob(".output*")]:
        if path.is_symlink() or path.is_file():
            path.unlink()
        elif path.is_dir():
            shutil.rmtree(path)


def median(values: list[float]) -> float:
    return statistics.median(values)


def bench_build(ws: Path, runs: int) -> dict:
    floor, floor_cpu, full, full_cpu, noop, edit, reran = [], [], [], [], [], [], set()
    for _ in range(runs):  # the floor and the full build alternate, so that both see the same machine
        floor.append(run([str(PYTHON), "-c", HEAVY_IMPORTS], ws)[0])
        floor_cpu.append(LAST_CPU[0])
        clean(ws)
        seconds, _, code = make(ws, "dataset")
        assert code == 0, "make dataset failed in the benchmark copy"
        full.append(seconds)
        full_cpu.append(LAST_CPU[0])
        noop.append(make(ws, "dataset")[0])
        (ws / "pipeline" / "stages" / f"{STAGES[-1]}.py").touch()
        seconds, out, _ = make(ws, "dataset")
        edit.append(seconds)
        reran.add(tuple(stages_run(out)))
    per_stage = {}
    for name in STAGES:
        imports = [run([str(PYTHON), "-c", f"import pipeline.stages.{name}"], ws) for _ in range(runs)]
        assert all(code == 0 for *_, code in imports), f"pipeline.stages.{name} does not import"
        per_stage[name] = {"import_s": median([seconds for seconds, *_ in imports])}
    times: dict[str, list[float]] = {name: [] for name in STAGES}
    peaks: dict[str, int] = dict.fromkeys(STAGES, 0)
    for _ in range(runs):
        clean(ws)
        for name in STAGES:
            seconds, rss, _, code = run([str(PYTHON), "-m", f"pipeline.stages.{name}"], ws)
            assert code == 0, f"stage {name} failed in the benchmark copy"
            times[name].append(seconds)
            peaks[name] = max(peaks[name], rss)
    for name in STAGES:
        per_stage[name] |= {"wall_s": median(times[name]), "peak_rss_mib": round(peaks[name] / 1024, 1)}
    return {"import_floor_s": median(floor), "full_build_s": median(full), "import_floor_cpu_s": median(floor_cpu),
            "full_build_cpu_s": median(full_cpu), "noop_build_s": median(noop),
            "one_stage_edit_s": median(edit), "one_stage_edit_reran": sorted(" ".join(r) for r in reran),
            "stages": per_stage, "runs": runs, "related_documents": related_documents(ws)}


def related_documents(ws: Path) -> int:
    """How many other documents the build read (raw/manifest.yaml `related_documents`)."""
    import yaml

    manifest = yaml.safe_load((ws / "raw" / "manifest.yaml").read_text(encoding="utf-8"))
    return len(manifest.get("related_documents") or [])


def tokenize(path: Path) -> None:
    """Child process: stream `path` through the tokenizer, count mentions, print JSON."""
    from pipeline.numbers import scan_file

    started, cpu = time.perf_counter(), time.process_time()
    count = 0
    with open(path, encoding="utf-8", newline="") as f:
        for _ in scan_file(f):
            count += 1
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # before the naive scan holds the whole text
    # The yardstick of issue 22: a naive Python scan for runs of digits over the same text, in the same run.
    naive = time.process_time()
    with open(path, encoding="utf-8", newline="") as f:
        for part in iter(lambda: f.read(1 << 16), ""):
            for _ in re.finditer(r"\d+", part):
                pass
    naive = time.process_time() - naive
    print(json.dumps({"mentions": count, "seconds": seconds, "cpu_seconds": cpu, "naive_cpu_seconds": naive,
                      "peak_rss_kib": peak}))


def _tokenize_child(path: Path) -> dict:
    out = subprocess.run([str(PYTHON), "-m", "tests.bench", "tokenize", str(path)], cwd=ROOT, check=True,
                         capture_output=True, text=True).stdout
    return json.loads(out)


def _corpus_result(path: Path, nbytes: int, runs: int) -> dict:
    samples = [_tokenize_child(path) for _ in range(runs)]
    seconds, cpu = median([s["seconds"] for s in samples]), median([s["cpu_seconds"] for s in samples])
    naive = median([s["naive_cpu_seconds"] for s in samples])
    return {"bytes": nbytes, "mentions": samples[0]["mentions"], "seconds": seconds, "cpu_seconds": cpu,
            "naive_cpu_seconds": naive, "vs_naive": cpu / naive,
            "runs": len(samples), "mb_per_s": nbytes / MB / seconds, "cpu_mb_per_s": nbytes / MB / cpu,
            "mentions_per_s": samples[0]["mentions"] / seconds,
            "peak_rss_mib": round(max(s["peak_rss_kib"] for s in samples) / 1024, 1)}


def bench_tokenizer(scratch: Path, runs: int, big_runs: int) -> dict:
    from tests.corpus import write_corpus, write_government_corpus

    results = {}
    for size in SIZES_MB:
        corpus = scratch / f"corpus-{size}mb.txt"
        nbytes = write_corpus(corpus, size * MB)
        results[f"{size}mb"] = _corpus_result(corpus, nbytes, big_runs if size >= 100 else runs)
        corpus.unlink()
    corpus = scratch / "government-10mb.txt"
    results["government_10mb"] = _corpus_result(corpus, write_government_corpus(corpus, 10 * MB), runs)
    corpus.unlink()
    ten, hundred = results["10mb"], results["100mb"]
    # Per byte, so that the corpora being a few bytes over their nominal size does not count.
    results["scaling_100_vs_10x10"] = (hundred["seconds"] / hundred["bytes"]) / (ten["seconds"] / ten["bytes"])
    for name, line in LONG_LINES.items():
        path = scratch / f"line-{name}.txt"
        path.write_text(line(10 * MB), encoding="utf-8")
        results[f"line_{name}"] = _corpus_result(path, 10 * MB, 1)
        path.unlink()
    return results


# Hostile inputs of issue 11: runs that made the old patterns rescan (quadratic time) or hold a
# whole match (memory). Each takes a length in characters.
HOSTILE = {
    "numerals with no counter": lambda n: ("一二三四五六七八九十百千万亿" * (n // 14 + 1))[:n],
    "（ then numerals": lambda n: ("（" + "一十百千万亿" * (n // 6 + 1))[:n],
    "1-1-1-...": lambda n: ("1-" * (n // 2 + 1))[:n],
    "1,111,111,...": lambda n: ("1" + ",111" * (n // 4 + 1))[:n],
    "digits": lambda n: "1" * n,
}
LONG_LINES = {"dashes": HOSTILE["1-1-1-..."], "separators": HOSTILE["1,111,111,..."],
              "numerals": HOSTILE["numerals with no counter"]}
HOSTILE_CHARS = (250_000, 1_000_000)


def _cpu_seconds(work, runs: int) -> float:
    samples = []
    for _ in range(runs):
        started = time.process_time()
        work()
        samples.append(time.process_time() - started)
    return median(samples)


def bench_hostile(runs: int) -> dict:
    """CPU seconds on each hostile input at two sizes, and their ratio (4.0 is linear)."""
    from pipeline import entities, metadata
    from pipeline.numbers import iter_mentions

    catalog = metadata.entities()
    cases = {name: (lambda text: lambda: sum(1 for _ in iter_mentions(text)), make)
             for name, make in HOSTILE.items()}
    cases["《甲》 titles (find_documents)"] = (
        lambda text: lambda: entities.find_documents(text, [], catalog, lambda _: "body"),
        lambda n: ("《甲》" * (n // 3 + 1))[:n])
    cases["印发了《甲》 titles (find_documents)"] = (
        lambda text: lambda: entities.find_documents(text, [], catalog, lambda _: "body"),
        lambda n: ("市局印发了《甲》" * (n // 8 + 1))[:n])
    results = {}
    for name, (work, make) in cases.items():
        small, large = (_cpu_seconds(work(make(n)), runs) for n in HOSTILE_CHARS)
        results[name] = {"small_s": small, "large_s": large, "ratio": large / small}
    return results


def bench_tests(ws: Path, runs: int) -> dict:
    samples = [make(ws, "test") for _ in range(runs)]
    checks = [make(ws, "check") for _ in range(runs)]
    failures = sorted({line for _, out, code in samples + checks if code
                       for line in re.findall(r"^FAILED \S+", out, re.M)})
    return {"make_test_s": median([s[0] for s in samples]), "runs": runs,
            "failed_runs": sum(code != 0 for _, _, code in samples), "failures": failures,
            "make_check_s": median([s[0] for s in checks]), "failed_check_runs": sum(c != 0 for _, _, c in checks)}


def machine() -> dict:
    cpuinfo = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").exists() else ""
    meminfo = Path("/proc/meminfo").read_text() if Path("/proc/meminfo").exists() else ""
    model = re.search(r"model name\s*:\s*(.+)", cpuinfo)
    ram = re.search(r"MemTotal:\s*(\d+) kB", meminfo)
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    return {"nproc": os.cpu_count(), "cpu": model.group(1).strip() if model else platform.processor(),
            "ram_gib": round(int(ram.group(1)) / 2**20, 1) if ram else None, "python": platform.python_version(),
            "commit": commit.stdout.strip(), "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")}


def table(r: dict) -> str:
    b, t, s = r["build"], r["tokenizer"], r["tests"]
    ratio = b["full_build_s"] / b["import_floor_s"]
    rows = [
        ("import floor (pandas, pandera, duckdb, pyarrow)", f"{b['import_floor_s']:.3f} s", ""),
        ("full build, make dataset from empty", f"{b['full_build_s']:.2f} s = {ratio:.2f}x floor", "<= 2.0x",
         ratio <= 2.0),
        ("  the same in CPU time (user + system): floor, build", f"{b['import_floor_cpu_s']:.2f} s, "
         f"{b['full_build_cpu_s']:.2f} s = {b['full_build_cpu_s'] / b['import_floor_cpu_s']:.2f}x", ""),
        ("no-op build, second make dataset", f"{b['noop_build_s']:.3f} s", "<= 0.15 s", b["noop_build_s"] <= 0.15),
        (f"one-stage edit, touch {STAGES[-1]}.py (reran: {'; '.join(b['one_stage_edit_reran'])})",
         f"{b['one_stage_edit_s']:.2f} s", f"only {STAGES[-1]}", b["one_stage_edit_reran"] == [STAGES[-1]]),
    ]
    for name, stage in b["stages"].items():
        rows.append((f"  stage {name}: wall, of which import; peak RSS",
                     f"{stage['wall_s']:.2f} s, {stage['import_s']:.2f} s; {stage['peak_rss_mib']:.0f} MiB", ""))
    # Issue 23: each other document is read as the letter is; its work (the stage's wall time less its
    # import) should cost no more than the letter's own extract does.
    stages, documents = b["stages"], b.get("related_documents", 0)
    if documents:
        per_document = max(stages["related"]["wall_s"] - stages["related"]["import_s"], 0) / documents
        letter = max(stages["extract"]["wall_s"] - stages["extract"]["import_s"], 1e-9)
        rows.append((f"related stage, per document ({documents} documents), vs the letter's extract (less imports)",
                     f"{per_document * 1000:.0f} ms = {per_document / letter:.2f}x", "<= 1.0x",
                     per_document <= letter))
    corpora = [(f"letter {size} MB", t[f"{size}mb"]) for size in SIZES_MB]
    corpora.append(("government 10 MB", t["government_10mb"]))
    for label, k in corpora:
        rows.append((f"tokenizer, {label} ({k['runs']} runs): MB/s wall, CPU; x naive \\d+ scan; mentions/s; "
                     "peak RSS", f"{k['mb_per_s']:.1f}, {k['cpu_mb_per_s']:.1f} MB/s; {k['vs_naive']:.1f}x; "
                     f"{k['mentions_per_s']:,.0f}/s; {k['peak_rss_mib']:.0f} MiB", ">= 10 MB/s",
                     k["cpu_mb_per_s"] >= 10))
    prose = t["government_10mb"]
    rows.append(("tokenizer CPU time / naive re.finditer(r'\\d+') CPU time, government prose, same run",
                 f"{prose['vs_naive']:.1f}x", "<= 2x", prose["vs_naive"] <= 2))
    rows.append(("tokenizer time, 100 MB vs 10 x 10 MB (per byte)", f"{t['scaling_100_vs_10x10']:.2f}x", "<= 1.1x",
                 t["scaling_100_vs_10x10"] <= 1.1))
    for name in LONG_LINES:
        k = t[f"line_{name}"]
        rows.append((f"tokenizer, one 10 MB line of {name}: peak RSS; MB/s wall",
                     f"{k['peak_rss_mib']:.0f} MiB; {k['mb_per_s']:.1f} MB/s", "< 300 MiB", k["peak_rss_mib"] < 300))
    small, large = (f"{n // 1000}k" for n in HOSTILE_CHARS)
    for name, h in r["hostile"].items():
        rows.append((f"hostile: {name}, CPU {small} -> {large} chars",
                     f"{h['small_s']:.3f} -> {h['large_s']:.3f} s = {h['ratio']:.1f}x", "<= 5x (4x is linear)",
                     h["ratio"] <= 5))
    failed = f", {s['failed_runs']} of {s['runs']} runs failed" if s["failed_runs"] else ""
    rows.append(("test suite, make test (dataset up to date)", f"{s['make_test_s']:.1f} s{failed}", "< 60 s",
                 s["make_test_s"] < 60 and not s["failed_runs"]))  # a failing suite meets no target
    failed = f", {s['failed_check_runs']} of {s['runs']} runs failed" if s["failed_check_runs"] else ""
    rows.append(("fast check, make check (dataset up to date)", f"{s['make_check_s']:.1f} s{failed}", "< 15 s",
                 s["make_check_s"] < 15 and not s["failed_check_runs"]))
    width = max(len(row[0]) for row in rows)
    value_width = max(len(row[1]) for row in rows)
    lines = [f"{'measure':<{width}}  {'median':<{value_width}}  target", "-" * (width + value_width + 22)]
    for label, value, target, *ok in rows:
        verdict = ("met" if ok[0] else "MISSED") if ok else ""
        lines.append(f"{label:<{width}}  {value:<{value_width}}  {target:<10} {verdict}".rstrip())
    m = r["machine"]
    lines.append(f"median of {b['runs']} runs; {m['nproc']} CPUs ({m['cpu']}), {m['ram_gib']} GiB RAM, "
                 f"Python {m['python']}, commit {m['commit']}, {m['date']}")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="runs per measurement; the median is reported")
    parser.add_argument("--big-runs", type=int, default=5, help="runs of the 100 MB tokenizer case")
    args = parser.parse_args()
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="baoshan-bench-") as scratch:
        ws = workspace(Path(scratch))
        results = {"machine": machine(), "build": bench_build(ws, args.runs),
                   "tokenizer": bench_tokenizer(Path(scratch), args.runs, args.big_runs),
                   "hostile": bench_hostile(args.runs),
                   "tests": bench_tests(ws, args.runs)}
    results["bench_s"] = time.perf_counter() - started
    (ROOT / "build").mkdir(exist_ok=True)
    (ROOT / "build" / "bench.json").write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(table(results))
    for failure in results["tests"]["failures"]:
        print(f"  make test in the copy: {failure}")
    print(f"written build/bench.json in {results['bench_s']:.0f} s")


if __name__ == "__main__":
    if sys.argv[1:2] == ["tokenize"]:
        tokenize(Path(sys.argv[2]))
    else:
        main()
