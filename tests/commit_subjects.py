"""`make lint`: every commit subject after SINCE is under LIMIT characters (the rest goes in the body).

Run in a clone without SINCE (a shallow one), it says so and checks nothing older than what it has.
"""

from __future__ import annotations

import subprocess
import sys

from pipeline import config

SINCE = "ef5603c"  # the last commit whose subject was a paragraph
LIMIT = 72


def git(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["git", *args], cwd=config.ROOT, capture_output=True, text=True)


def main() -> None:
    if git("rev-parse", "--is-inside-work-tree").returncode != 0:
        print("commit subjects: not a git checkout, nothing to check")
        return
    known = git("cat-file", "-e", f"{SINCE}^{{commit}}").returncode == 0
    log = git("log", "--format=%h %s", f"{SINCE}..HEAD" if known else "HEAD")
    if log.returncode != 0:
        sys.exit(f"commit subjects: git log failed: {log.stderr.strip()}")
    if not known:
        print(f"commit subjects: {SINCE} is not in this clone (shallow?); checking the commits it has")
    long = [line for line in log.stdout.splitlines() if len(line.split(" ", 1)[1]) >= LIMIT]
    if long:
        sys.exit(f"commit subjects must be under {LIMIT} characters, the rest in the body after a blank line:\n  "
                 + "\n  ".join(long))


if __name__ == "__main__":
    main()
