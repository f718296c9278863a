"""The front door: what the release and the README tell a user about getting, loading and citing the data is
true. The source ships in the release and rebuilds the tables; every loading snippet runs; the citations in
the card, the README and CITATION.cff agree; the README's Croissant line works as written."""

from __future__ import annotations

import importlib.metadata
import os
import pty
import re
import shutil
import subprocess
import sys
import tarfile
import textwrap
from pathlib import Path

import pytest
import yaml

from pipeline import config
from pipeline.release import citation, snippets, source
from tests.conftest import tree_digest
from tests.test_release import run_cli, serve

VERSION = config.version()
BIN = Path(sys.executable).parent  # the venv's scripts: the DuckDB CLI from the duckdb-cli package


def test_release_ships_the_commits_source_and_it_rebuilds_the_tables(rel, tmp_path):
    archive = rel.directory / source.archive_name(VERSION)
    commit = source.release_commit()
    tracked = subprocess.run(["git", "-C", str(config.ROOT), "ls-tree", "-r", "--name-only", commit],
                             capture_output=True, text=True, check=True).stdout.split()
    prefix = archive.name.removesuffix(".tar")
    with tarfile.open(archive) as tar:
        assert tar.pax_headers.get("comment") == commit  # git archive records the commit it holds
        members = [m.name.removeprefix(f"{prefix}/") for m in tar.getmembers() if m.isfile()]
        assert sorted(members) == sorted(tracked)
        tar.extractall(tmp_path, filter="data")
    tree = tmp_path / prefix
    assert {"Makefile", "requirements.lock", "raw/manifest.yaml", "pipeline/__main__.py"} <= set(members)
    card = (rel.directory / "README.md").read_text(encoding="utf-8")
    assert f"`git archive` of commit `{commit}`" in card and "can be rerun from this release alone" not in card
    built = subprocess.run([sys.executable, "-m", "pipeline", "build", "--out", str(tmp_path / "rebuilt")],
                           cwd=tree, capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(tree)})
    assert built.returncode == 0, built.stderr
    for sub in ("parquet", "csv"):
        assert tree_digest(tmp_path / "rebuilt" / sub) == tree_digest(rel.directory / sub), sub


def test_card_shows_the_citations_and_every_loading_snippet(rel):
    card = (rel.directory / "README.md").read_text(encoding="utf-8")
    assert citation.bibtex(rel.released) in card
    assert f"> {citation.apa(rel.released)}" in card and f"> {citation.source_apa()}" in card
    for snippet in snippets.SNIPPETS:
        assert f"```{snippet.language}\n{snippet.for_directory('parquet/')}\n```" in card, snippet.id
    assert "Licence: CC BY 4.0" in card.splitlines()[2]


def test_readme_cites_the_dataset_as_citation_cff_does():
    readme = (config.ROOT / "README.md").read_text(encoding="utf-8")
    released = yaml.safe_load((config.ROOT / "CITATION.cff").read_text(encoding="utf-8"))["date-released"]
    expected = (f"> {citation.apa(released)}\n>\n> {citation.source_apa()}\n\nBibTeX:\n\n"
                f"```bibtex\n{citation.bibtex(released)}\n```")
    assert expected in readme, f"after `make release`, the README's How to cite should read:\n{expected}"


def run_snippet(snippet: snippets.Snippet, directory: Path) -> subprocess.CompletedProcess:
    code = snippet.for_directory("parquet/")
    if snippet.language == "python":
        command = [sys.executable, "-c", code]
    elif snippet.language == "sh":
        command = ["sh", "-c", code]
    else:
        command = ["Rscript", "-e", code]
    return subprocess.run(command, cwd=directory, capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}"})


@pytest.mark.parametrize("snippet", [s for s in snippets.SNIPPETS if s.language != "r"], ids=lambda s: s.id)
def test_each_loading_snippet_runs_in_the_release(rel, clean_build, snippet):
    result = run_snippet(snippet, rel.directory)
    assert result.returncode == 0, result.stderr
    checks = clean_build.table("checks")
    if "checks.parquet" in snippet.code:  # the discrepancies, by their check ids
        for check_id in checks.loc[checks["status"] == "source_discrepancy", "check_id"]:
            assert check_id in result.stdout, (snippet.id, result.stdout)
    else:
        assert clean_build.table("facts")["fact_id"].iloc[0] in result.stdout


R_PACKAGES = {"r-arrow": "arrow", "r-duckdb": "duckdb"}


@pytest.mark.parametrize("snippet", [s for s in snippets.SNIPPETS if s.language == "r"], ids=lambda s: s.id)
def test_each_r_snippet_parses_and_runs_where_r_has_its_package(rel, clean_build, snippet):
    """R comes from Debian (r-base-core); its arrow and duckdb packages are not in Debian and CRAN is out of
    reach here, so the snippet is parsed by R, and run only where R has the package."""
    if shutil.which("Rscript") is None:
        pytest.skip("Rscript is not installed (apt-get install r-base-core)")
    parsed = subprocess.run(["Rscript", "-e", f"invisible(parse(text = {r_string(snippet.code)}))"],
                            capture_output=True, text=True, timeout=60)
    assert parsed.returncode == 0, parsed.stderr
    package = R_PACKAGES[snippet.id]
    available = subprocess.run(["Rscript", "-e", f"quit(status = !requireNamespace('{package}', quietly = TRUE))"],
                               capture_output=True, timeout=60).returncode == 0
    if not available:
        pytest.skip(f"R package {package} is not installed; the snippet was parsed, not run")
    result = run_snippet(snippet, rel.directory)
    assert result.returncode == 0, result.stderr
    assert clean_build.table("facts")["fact_id"].iloc[0] in result.stdout or "population.persons_sum" in result.stdout


def r_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def test_readme_croissant_line_works_as_written(rel, clean_build):
    readme = (config.ROOT / "README.md").read_text(encoding="utf-8")
    install = re.search(r"`(pip install [^`]*mlcroissant[^`]*)`", readme).group(1)
    requirement = install.removeprefix("pip install ").strip("\"'")
    name, extra = re.fullmatch(r"(mlcroissant)\[(\w+)\]", requirement).groups()
    requires = importlib.metadata.requires(name)
    assert any(f'extra == "{extra}"' in r and r.startswith("pyarrow") for r in requires), requires
    code = textwrap.dedent(re.search(r"```python\n( *import mlcroissant as mlc\n.*?)```", readme, flags=re.S).group(1))
    code = code.replace(f"dist/{config.DATASET_NAME}-{VERSION}/croissant.json", str(rel.directory / "croissant.json"))
    result = subprocess.run([sys.executable, "-c", code + "\nprint(len(facts), facts[0]['facts/fact_id'])"],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    count, first = result.stdout.split()[-2:]
    facts = clean_build.table("facts")
    assert int(count) == len(facts) and first == repr(facts["fact_id"].iloc[0].encode())


def test_download_is_quiet_when_its_output_is_not_a_terminal(rel, registered, tmp_path):
    with serve(rel.zip.parent) as url:
        code, stdout, stderr = run_cli("download", "--version", VERSION, "--base-url", url,
                                       "--dest", str(tmp_path / "got"), "--registry", str(registered))
    assert code == 0 and stderr == "" and stdout.startswith("downloaded and verified")


def test_download_shows_progress_on_a_terminal(rel, registered, tmp_path):
    primary, secondary = pty.openpty()
    # A terminal that reports no size, as `script` and some CI runners make: tqdm would draw nothing in it.
    with serve(rel.zip.parent) as url:
        process = subprocess.Popen(
            [sys.executable, "-m", "pipeline", "download", "--version", VERSION, "--base-url", url,
             "--dest", str(tmp_path / "got"), "--registry", str(registered)],
            cwd=config.ROOT, stdout=subprocess.PIPE, stderr=secondary)
        os.close(secondary)
        shown = b""
        while True:
            try:
                block = os.read(primary, 65536)
            except OSError:  # the terminal closed: the process has exited
                break
            if not block:
                break
            shown += block
        stdout, _ = process.communicate(timeout=120)
    os.close(primary)
    text = shown.decode("utf-8", "replace")
    assert process.returncode == 0, text
    for asset in (rel.zip.name, rel.duckdb.name):  # a bar per asset, with its size, rate and time
        assert asset in text and "100%" in text and "B/s" in text, text[-500:]
    assert b"downloaded and verified" in stdout
