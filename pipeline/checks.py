"""Cross-figure checks: small, single-purpose objects, declared in catalog/checks.yaml.

Each check computes what one figure should be from others and compares it with what the
text reports. A check the source fails is accepted only as a pinned `source_discrepancy`:
the pin is a fingerprint of the figures involved (value, unit, qualifier), so any change to
them fails the build.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, field

from pipeline import metadata
from pipeline.errors import ValidationFailed


@dataclass
class Outcome:
    check_id: str
    check_type: str
    description: str
    fact_ids: list[str]
    expected: float | None
    observed: float | None
    tolerance: float
    passed: bool
    formula: str
    relation: str = "implied"
    status: str = "pass"
    note: str | None = None
    extra_lines: list[str] = field(default_factory=list)


def fingerprint(facts: dict[str, dict], fact_ids: list[str]) -> str:
    """Short hash of the figures a discrepancy is pinned to: value, upper bound, unit and qualifier.

    It hashes normalized figures, not quotes or offsets, so the same figures written in full-width
    digits or moved by a line ending keep the pin, and any changed figure, even one that only gains
    a qualifier such as 约, breaks it.
    """
    fields = ("value", "value_max", "unit", "qualifier")
    material = "\n".join("\t".join([fid, *(repr(facts[fid][f]) for f in fields)]) for fid in fact_ids)
    return hashlib.sha256(material.encode("utf-8")).hexdigest()[:16]


# Every check type, by its `type_name`; filled as the classes below are defined.
TYPES: dict[str, type[Check]] = {}


def half_unit(decimals: int) -> float:
    return 0.5 * 10 ** -decimals


class Check:
    """Base: subclasses read their figure ids from the declaration and implement `evaluate`.

    A subclass registers a check type, and says in one place what it is and what its published
    columns mean: `type_name` (the `type:` of checks.yaml), `label_zh` and `label_en` (the check_type
    label vocabulary is generated from them), `expected_means`, `observed_means` and `tolerance_means`
    (printed in the data dictionary), `roles` (the keys of checks.yaml naming its figures) and
    `list_roles` (those of them that name a list of figures). `declarable = False` keeps a type out
    of checks.yaml (list_count checks are generated from figures.yaml's lists).

    A check is an equality (any change to one of its figures breaks it) unless it names a bound:
    `bounded` (the role of the figure that is limited), `bounds` (the role of the figures that set the
    limit) and `breaks_when` ("above" or "below" the limit); `limit` computes the limit (by default
    the product of the `bounds` figures). The robustness suite (tests/test_robustness.py) reads these
    to test every check of every type.
    """

    type_name: str = ""
    label_zh: str = ""
    label_en: str = ""
    expected_means: str = ""
    observed_means: str = ""
    tolerance_means: str = ""
    roles: tuple[str, ...] = ()
    list_roles: tuple[str, ...] = ()
    declarable: bool = True
    bounded: str | None = None
    bounds: str | None = None
    breaks_when: str | None = None

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        required = ("type_name", "label_zh", "label_en", "expected_means", "observed_means", "tolerance_means")
        missing = [name for name in required if not getattr(cls, name)]
        if missing or not cls.roles:
            raise TypeError(f"check class {cls.__name__} must set {', '.join(missing or ['roles'])}: every check type "
                            "registers its label and what expected, observed and tolerance mean (pipeline/checks.py)")
        bound = (cls.bounded, cls.bounds, cls.breaks_when)
        if any(bound) and not (cls.bounded in cls.roles and cls.bounds in cls.roles
                               and cls.breaks_when in ("above", "below")):
            raise TypeError(f"check class {cls.__name__}: a bound names its `bounded` and `bounds` roles and whether "
                            "it `breaks_when` the bounded figure is above or below the limit")
        if cls.type_name in TYPES:
            raise TypeError(f"check type {cls.type_name!r} is registered twice ({TYPES[cls.type_name].__name__}, "
                            f"{cls.__name__})")
        TYPES[cls.type_name] = cls

    def __init__(self, spec: dict):
        self.spec = spec
        self.check_id = spec["check_id"]
        self.description = " ".join(spec["description"].split())

    def fact_ids(self) -> list[str]:
        ids: list[str] = []
        for role in self.roles:
            value = self.spec[role]
            ids += value if isinstance(value, list) else [value]
        return ids

    def limit(self, facts: dict[str, dict]) -> float:
        """A bound's limit: the bounded figure breaks the check past it (`breaks_when`)."""
        bounds = self.spec[self.bounds]
        return math.prod(facts[f]["value"] for f in (bounds if isinstance(bounds, list) else [bounds]))

    def outcome(self, expected, observed, tolerance, formula) -> Outcome:
        passed = abs(expected - observed) <= tolerance + 1e-9
        return Outcome(self.check_id, self.spec["type"], self.description, self.fact_ids(),
                       expected, observed, tolerance, passed, formula, self.spec["relation"])


class RateCheck(Check):
    type_name, label_zh, label_en = "rate", "比率", "Rate"
    expected_means = "numerator / denominator x 100, rounded to 4 decimals"
    observed_means = "the rate the text reports"
    tolerance_means = ("half a unit of the reported rate's last printed decimal: 0.05 for a rate printed with one "
                       "decimal, 0.005 with two")
    roles = ("numerator", "denominator", "rate")

    def evaluate(self, facts):
        numerator, denominator, rate = (facts[self.spec[r]] for r in self.roles)
        expected = numerator["value"] / denominator["value"] * 100
        return self.outcome(round(expected, 4), rate["value"], half_unit(rate["decimals"]),
                            f"{self.spec['numerator']} / {self.spec['denominator']} x 100")


class SumCheck(Check):
    type_name, label_zh, label_en = "sum", "求和", "Sum"
    expected_means = "the sum of the parts"
    observed_means = "the total the text reports"
    tolerance_means = "0: the sum must equal the total"
    roles = ("parts", "total")
    list_roles = ("parts",)

    def evaluate(self, facts):
        expected = sum(facts[p]["value"] for p in self.spec["parts"])
        return self.outcome(expected, facts[self.spec["total"]]["value"], 0.0, " + ".join(self.spec["parts"]))


class AtMostCheck(Check):
    type_name, label_zh, label_en = "at_most", "不超过", "At most"
    expected_means = "the whole: the largest value the part may take"
    observed_means = "the part"
    tolerance_means = "0: passes when the part is at most the whole"
    roles = ("part", "whole")
    bounded, bounds, breaks_when = "part", "whole", "above"

    def evaluate(self, facts):
        part, whole = facts[self.spec["part"]]["value"], facts[self.spec["whole"]]["value"]
        result = self.outcome(whole, part, 0.0, f"{self.spec['part']} <= {self.spec['whole']}")
        result.passed = part <= whole
        return result


class EqualCheck(Check):
    type_name, label_zh, label_en = "equal", "相等", "Equal"
    expected_means = "figure b (a range's lower bound)"
    observed_means = "figure a (a range's lower bound)"
    tolerance_means = "0: the two must be equal"
    roles = ("a", "b")

    def evaluate(self, facts):
        return self.outcome(facts[self.spec["b"]]["value"], facts[self.spec["a"]]["value"], 0.0,
                            f"{self.spec['a']} == {self.spec['b']}")


class MinProductCheck(Check):
    type_name, label_zh, label_en = "min_product", "最低乘积", "Minimum product"
    expected_means = "the product of the factors: the smallest value the figure may take"
    observed_means = "the figure the text reports"
    tolerance_means = "0: passes when the figure is at least the product"
    roles = ("value", "factors")
    list_roles = ("factors",)
    bounded, bounds, breaks_when = "value", "factors", "below"

    def evaluate(self, facts):
        minimum = math.prod(facts[f]["value"] for f in self.spec["factors"])
        result = self.outcome(minimum, facts[self.spec["value"]]["value"], 0.0,
                              " x ".join(self.spec["factors"]) + " (a minimum)")
        result.passed = result.observed >= minimum
        return result


class ImpliedTotalCheck(Check):
    """count / share implies a total; every whole total that reproduces the share is accepted."""

    type_name, label_zh, label_en = "implied_total", "推算总数", "Implied total"
    expected_means = "count / (share / 100), the total the count and share imply, rounded to 4 decimals"
    observed_means = "the total the text reports elsewhere (compare)"
    tolerance_means = ("how far below `expected` a total may lie and still reproduce the share at its printed "
                       "decimals; passes when the reported total is a whole number that reproduces the share")
    roles = ("count", "share", "compare")

    def evaluate(self, facts):
        count, share, compare = (facts[self.spec[r]] for r in self.roles)
        tolerance = half_unit(share["decimals"])
        low = count["value"] / ((share["value"] + tolerance) / 100)
        high = count["value"] / ((share["value"] - tolerance) / 100)
        candidates = [n for n in range(math.ceil(low), math.floor(high) + 1)
                      if abs(count["value"] / n * 100 - share["value"]) <= tolerance]
        implied = count["value"] / (share["value"] / 100)
        result = self.outcome(round(implied, 4), compare["value"], round(implied - low, 4),
                              f"{self.spec['count']} / ({self.spec['share']} / 100)")
        result.passed = compare["value"] in candidates
        result.extra_lines.append(f"whole totals that reproduce the share: {candidates or 'none'}")
        return result


class WithinImpliedTotalCheck(Check):
    """A count of part of a set does not exceed the set's total that another count and its share imply."""

    type_name, label_zh, label_en = "within_implied_total", "不超过推算总数", "Within the implied total"
    expected_means = "count / (share / 100), the total the count and share imply, rounded to 4 decimals"
    observed_means = "the count of part of the same set that the text reports elsewhere (part)"
    tolerance_means = ("how far above `expected` a total may lie and still reproduce the share at its printed "
                       "decimals; passes when `observed` is at most the largest whole number within it")
    roles = ("count", "share", "part")
    bounded, bounds, breaks_when = "part", "count", "above"

    def highest_total(self, facts) -> float:
        """The largest total, not yet rounded down, that still reproduces the share at its printed decimals."""
        count, share = facts[self.spec["count"]], facts[self.spec["share"]]
        return count["value"] / ((share["value"] - half_unit(share["decimals"])) / 100)

    def limit(self, facts):
        return math.floor(self.highest_total(facts))

    def evaluate(self, facts):
        count, share, part = (facts[self.spec[r]] for r in self.roles)
        implied = count["value"] / (share["value"] / 100)
        result = self.outcome(round(implied, 4), part["value"], round(self.highest_total(facts) - implied, 4),
                              f"{self.spec['count']} / ({self.spec['share']} / 100)")
        result.passed = part["value"] <= self.limit(facts)
        return result


class ListCountCheck(Check):
    """A list the text enumerates has as many items as the count the text states."""

    type_name, label_zh, label_en = "list_count", "列举项数", "List count"
    expected_means = "the count the text states"
    observed_means = "the number of items the text enumerates"
    tolerance_means = "0: the two must be equal"
    roles = ("count_fact",)
    declarable = False

    def __init__(self, spec: dict, items: list[dict]):
        super().__init__(spec)
        self.items = [i for i in items if i["list_id"] == spec["list_id"]]

    def evaluate(self, facts):
        result = self.outcome(facts[self.spec["count_fact"]]["value"], float(len(self.items)), 0.0,
                              f"items of list {self.spec['list_id']}")
        names = "、".join(i["name_zh"] for i in self.items) or "(none found)"
        result.extra_lines.append(f"items found: {names}")
        return result


def vocabulary() -> dict[str, dict[str, str]]:
    """The check_type label vocabulary: {type: {zh, en}}, from the registered classes."""
    return {name: {"zh": cls.label_zh, "en": cls.label_en} for name, cls in TYPES.items()}


def declared_checks(items: list[dict]) -> list[Check]:
    checks: list[Check] = [TYPES[spec["type"]](spec) for spec in metadata.checks()]
    for entry in metadata.figures()["lists"]:
        if entry.get("count_fact"):
            spec = {"check_id": f"list_count.{entry['list_id']}", "type": "list_count",
                    "description": f"The list '{entry['title_en']}' has as many items as the text says.",
                    "count_fact": entry["count_fact"], "list_id": entry["list_id"], "relation": "implied"}
            checks.append(ListCountCheck(spec, items))
    return checks


def describe_failure(outcome: Outcome, facts: dict[str, dict], reason: str) -> str:
    kind = "a plausibility limit" if outcome.relation == "plausibility" else "a relation the text implies"
    lines = [f"check {outcome.check_id} failed ({kind}): {outcome.description}",
             f"  {reason}",
             f"  expected {outcome.expected:g} (from {outcome.formula}), observed {outcome.observed:g}, "
             f"tolerance {outcome.tolerance:g}"]
    lines += [f"  {line}" for line in outcome.extra_lines]
    for fid in outcome.fact_ids:
        fact = facts[fid]
        lines.append(f"  {fid} = {fact['value']:g}  quote {fact['quote']!r} at "
                     f"[{fact['char_start']}:{fact['char_end']}] in {fact['section']}")
    return "\n".join(lines)


def run_checks(facts_list: list[dict], items: list[dict]) -> list[Outcome]:
    """Evaluate every check; raise ValidationFailed naming each one that fails unpinned."""
    facts = {f["fact_id"]: f for f in facts_list}
    outcomes, failures = [], []
    for check in declared_checks(items):
        missing = [fid for fid in check.fact_ids() if fid not in facts]
        if missing:
            failures.append(f"check {check.check_id} cannot run: figures {missing} were not extracted")
            continue
        outcome = check.evaluate(facts)
        pin = check.spec.get("known_discrepancy")
        if pin:
            actual = fingerprint(facts, outcome.fact_ids)
            if outcome.passed or actual != pin["fingerprint"]:
                state = "now passes" if outcome.passed else "still fails"
                failures.append(describe_failure(
                    outcome, facts,
                    f"a known source discrepancy is pinned to these exact figures (fingerprint "
                    f"{pin['fingerprint']}), but they changed (fingerprint now {actual}) and the check "
                    f"{state}. Review the figures, then update or remove the pin in pipeline/catalog/checks.yaml."))
                continue
            outcome.status = "source_discrepancy"
            outcome.note = " ".join(pin["note"].split())
        elif not outcome.passed:
            failures.append(describe_failure(outcome, facts, "the figures in the text do not agree."))
            continue
        else:
            outcome.note = f"{outcome.formula}; " + "; ".join(outcome.extra_lines) if outcome.extra_lines \
                else outcome.formula
        outcomes.append(outcome)
    if failures:
        raise ValidationFailed("\n\n".join(failures))
    return outcomes
