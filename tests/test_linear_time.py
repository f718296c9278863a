"""Every stage that reads the raw text runs in time linear in it, on any input under the 1 MiB cap.

Each test builds one hostile input at two sizes, n and 2n, in one run, and compares the CPU time of
the two: about 2 when the work is linear, about 4 when it is quadratic. A ratio, not an absolute time,
so a slow or busy machine does not fail it. The hostile inputs are the ones a review found to take
12 to 57 minutes at 1 MiB; the later stages (tables, validate, publish) read only the extracted
figures, which the catalog bounds.
"""

from __future__ import annotations

import gc
import re
import time
from collections.abc import Callable

from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.errors import PipelineError
from pipeline.stages import extract, ingest
from tests.conftest import RAW_TEXT

LINEAR = 3.0  # between 2 (linear) and 4 (quadratic) per doubling


def growth(work: Callable[[str], object], make: Callable[[int], str], n: int, runs: int = 3) -> float:
    """CPU time of `work` on make(2n) over its time on make(n), each the least of `runs`. The garbage
    collector is paused while it runs: its passes over the test process's heap come at times that do not
    depend on the work measured."""
    def cpu(text: str) -> float:
        best = float("inf")
        for _ in range(runs):
            gc.collect()
            gc.disable()
            started = time.process_time()
            try:
                work(text)
            except PipelineError:
                pass  # a hostile text may well fail the build; what matters is how long it took to say so
            finally:
                best = min(best, time.process_time() - started)
                gc.enable()
        return best

    small, large = make(n), make(2 * n)
    cpu(small)  # imports, catalogs and caches, outside the measure
    return cpu(large) / cpu(small)


OPENING = "您在保山市政协四届六次会议提出的"


def test_ingest_is_linear_in_a_run_of_zai_before_the_opening():
    """The letter parser's session pattern used to restart a lazy scan at every 在."""
    ratio = growth(ingest.parse, lambda n: RAW_TEXT.replace(OPENING, "在" * n + " " + OPENING, 1), 8000)
    assert ratio < LINEAR, ratio


def test_ingest_is_linear_in_the_number_of_headings():
    """Sentence splitting used to scan the list of sections for every sentence."""
    def make(n: int) -> str:
        return RAW_TEXT.replace("一、", "".join(f"一、标题{i}\n正文。\n" for i in range(n)) + "一、", 1)

    ratio = growth(ingest.parse, make, 8000)
    assert ratio < LINEAR, ratio


def _extract(text: str) -> None:
    extract.extract({**ingest.parse(text), "text": text})


def test_extract_is_linear_in_a_line_that_repeats_a_list_anchor():
    """A list anchor's `{items}` used to scan to the end of the line from every 推进."""
    ratio = growth(_extract, lambda n: RAW_TEXT.replace("推进蔬菜", "推进" * n + "\n推进蔬菜", 1), 8000)
    assert ratio < LINEAR, ratio


@settings(max_examples=300, deadline=None)
@given(text=st.text(alphabet="ab\n\ue000\ue001", max_size=40),
       pattern=st.sampled_from(["a{items}b", "a{items}{}", "{*}{items}b", "ab{items}{*}a", "{items}b", "a{items}"]))
def test_an_items_anchor_matches_as_the_regular_expression_would(text, pattern):
    """Anchor finds what re.finditer finds for `before(.+?)after`, with mentions matched whole."""
    before, _, after = pattern.partition("{items}")
    regex = re.compile(extract._regex(before) + "(.+?)" + extract._regex(after))
    for start, end in ((0, len(text)), (1, max(len(text) - 1, 1))):
        expected = [(m.span(), m.span(1)) for m in regex.finditer(text, start, end)]
        found = [(m.span(), m.span(1)) for m in extract.Anchor(pattern).finditer(text, start, end)]
        assert found == expected
