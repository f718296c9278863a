"""The declared shape of every catalog file (pipeline/catalog/*.yaml), as pydantic models.

metadata.py validates each file against its model when it loads it. Every model forbids unknown
keys and requires the keys it does not default, and the references between entries are checked on
the way: a unit, a section, a label vocabulary, a check type and a fact id must each be one that
is declared. The vocabularies to check against come in the validation context (metadata.py builds
it); a field whose vocabulary is not in the context is not checked against one.

A problem is reported as one paragraph naming the file, the entry and the key
(pipeline/model_errors.py).
"""

from __future__ import annotations

import collections
import re
from typing import Annotated, Any, Literal, Union

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    create_model,
    field_validator,
    model_validator,
)

from pipeline import expressions
from pipeline.corroborations import STATUSES
from pipeline.model_errors import suggest
from pipeline.numbers import QUALIFIERS  # the tokenizer's qualifiers, declared once there

PERIOD_MEANINGS = ("reply_date", "reply_year", "mention_date", "five_year_plan")
COLUMN_TYPES = ("string", "int64", "float64", "bool")


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=False)


def known(vocabulary: str, what: str, show: bool = True) -> AfterValidator:
    """A value (or each value of a list) must be in the context's `vocabulary`."""
    def check(value: Any, info: ValidationInfo) -> Any:
        allowed = (info.context or {}).get(vocabulary)
        if allowed is None or value is None:
            return value
        for item in value if isinstance(value, list) else [value]:
            if item not in allowed:
                listing = f"; known: {', '.join(sorted(allowed))}" if show else ""
                raise ValueError(f"unknown {what} {item!r}{suggest(item, allowed)}{listing}")
        return value
    return AfterValidator(check)


UnitName = Annotated[str, known("units", "unit")]
SectionId = Annotated[str, known("sections", "section")]
PopulationId = Annotated[str, known("populations", "population")]
FactId = Annotated[str, known("fact_ids", "fact id", show=False)]
Vocabulary = Annotated[str, known("vocabularies", "label vocabulary")]


# --- raw/manifest.yaml ------------------------------------------------------------------------------

# The kinds of source text (documents.kind): an official document of a state organ, the news an
# authority publishes on its own site, a media report, and a copy of any of them republished elsewhere.
DOCUMENT_KINDS = ("official_document", "official_news", "media_report", "republished_copy")
DocumentId = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,63}$")]
IsoDay = Annotated[str, Field(pattern=r"^\d{4}-\d{2}-\d{2}$")]
IsoPeriod = Annotated[str, Field(pattern=r"^\d{4}(-\d{2}){0,2}$")]


class RelatedDocument(Strict):
    """Another public text that reports figures of the letter: its file in raw/related/ (a plain file
    name, never a path), its hash and size (checked by the related stage), and where and how it was found."""
    document_id: DocumentId
    file: Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,120}\.txt$")]
    sha256: Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]
    bytes: Annotated[int, Field(ge=1)]
    encoding: str | None = None
    kind: Literal[DOCUMENT_KINDS]  # type: ignore[valid-type]
    title_zh: str
    title_en: str
    publisher_zh: str | None
    publisher_en: str | None
    # Who first published a republished copy, where the copy names them.
    original_publisher_zh: str | None = None
    publication_date: IsoPeriod | None
    source_url: Annotated[str, Field(pattern=r"^https?://\S+$")]
    retrieved: IsoDay
    obtained: str
    licence_note: str

    @model_validator(mode="after")
    def _publisher_in_both_languages(self) -> RelatedDocument:
        if (self.publisher_zh is None) != (self.publisher_en is None):
            raise ValueError("publisher_zh and publisher_en go together (both null when the text names none)")
        return self


class Manifest(Strict):
    """The provenance of the raw text: its hash and size (checked by ingest), and what the release and
    the page say about the source; and the other texts that report its figures (related_documents)."""
    document_id: DocumentId
    file: str
    sha256: Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]
    bytes: Annotated[int, Field(ge=0)]
    encoding: str | None = None
    title_zh: str
    title_en: str
    publisher_zh: str
    publication_date: str
    index_number: str
    catalogue_zh: str
    platform: str
    source_url: str | None = None
    obtained: str
    licence_note: str
    related_documents: list[RelatedDocument] = []

    @model_validator(mode="after")
    def _documents_are_unique(self) -> Manifest:
        _unique(self.related_documents, "document_id", "related document")
        _unique(self.related_documents, "file", "related document")
        if any(d.document_id == self.document_id for d in self.related_documents):
            raise ValueError(f"related_documents names {self.document_id!r}, the letter's own document_id")
        return self


# --- figures.yaml ------------------------------------------------------------------------------------

def _note_names(template: str, info: ValidationInfo) -> str:
    """Every `{fact_id}` and every name in a `{= expression}` of a note is a figure."""
    fact_ids = (info.context or {}).get("fact_ids")
    if fact_ids is None:
        return template
    try:
        used = expressions.template_names(template)
    except expressions.ExpressionError as error:
        raise ValueError(str(error)) from None
    for name in used:
        if name not in fact_ids:
            raise ValueError(f"the placeholder {name!r} is not a fact id{suggest(name, fact_ids)}")
    return template


Note = Annotated[str, AfterValidator(_note_names)]


class Label(Strict):
    zh: str
    en: str


class Unit(Strict):
    counters: list[str]
    zh: str
    en: str


class DocumentEnglish(Strict):
    title_zh: str
    title_en: str
    publisher_en: str
    catalogue_en: str
    addressee_en: str
    session_en: str


class Period(Strict):
    period_id: str
    section: SectionId
    find: str
    means: Literal[PERIOD_MEANINGS]  # type: ignore[valid-type]
    scope: Literal["sentence", "full_stop", "paragraph"]


class Section(Strict):
    zh: str
    title_en: str


class Fact(Strict):
    fact_id: str
    section: SectionId
    metric_zh: str
    metric_en: str
    population: PopulationId
    unit: UnitName
    find: str
    table: str
    row: str | None = None
    column: str | list[str] | None = None
    qualifier: Literal[QUALIFIERS] | None = None  # type: ignore[valid-type]
    sign: Literal[-1, 1] | None = None
    area: str | None = None
    note_en: Note | None = None
    note_zh: Note | None = None
    # What the text leaves open about the figure, in a few words: its sentence's English, its label and
    # every place its value is shown carry it in square brackets (check hedge).
    hedge_en: str | None = None
    hedge_zh: str | None = None

    @model_validator(mode="after")
    def _hedge_in_both_languages_with_a_note(self) -> Fact:
        if (self.hedge_en is None) != (self.hedge_zh is None):
            raise ValueError("hedge_en and hedge_zh go together")
        if self.hedge_en is not None and self.note_en is None:
            raise ValueError("a hedge needs a note_en that explains it")
        return self


class NonFigure(Strict):
    section: SectionId
    find: str
    kind: str
    reason: str


class ListEntry(Strict):
    list_id: str
    section: SectionId
    title_en: str
    find: str
    separators: list[str]
    count_fact: FactId | None = None
    names_en: dict[str, str] = {}


def _unique(entries: list, key: str, what: str) -> None:
    seen: set[str] = set()
    for entry in entries:
        value = getattr(entry, key)
        if value in seen:
            raise ValueError(f"{key} {value!r} is declared twice; every {what} needs its own {key}")
        seen.add(value)


class FiguresCatalog(Strict):
    units: dict[str, Unit]
    document: DocumentEnglish
    default_area: str
    populations: dict[str, Label]
    periods: list[Period]
    sections: dict[str, Section]
    facts: list[Fact]
    non_figures: list[NonFigure] = []
    lists: list[ListEntry] = []

    @model_validator(mode="after")
    def _ids_are_unique(self) -> FiguresCatalog:
        _unique(self.facts, "fact_id", "figure")
        _unique(self.periods, "period_id", "period")
        _unique(self.lists, "list_id", "list")
        return self


# --- tables.yaml -------------------------------------------------------------------------------------

PLACE_CLASSES = ("province", "city", "county", "township", "village")
_PLACE_CLASS = re.compile(r"\{(province|city|county|township|village)\}")
# {name} is never a regex quantifier: in a pattern it can only be a placeholder, and one that is not a
# class of place names would be matched as literal text, that is, never.
_PLACEHOLDER = re.compile(r"(?<!\\)\{([^{}0-9,\\]*)\}")


def _compiles(pattern: str, groups: int = 0) -> str:
    """A regular expression (a place pattern's `{county}` ... placeholders stand for a name group) with
    at least `groups` capturing groups."""
    for name in _PLACEHOLDER.findall(pattern):
        if name not in PLACE_CLASSES:
            classes = ", ".join(f"{{{c}}}" for c in PLACE_CLASSES)
            raise ValueError(f"unknown placeholder {{{name}}}{suggest(name, PLACE_CLASSES)}: a pattern's "
                             f"placeholders are the classes of place names, {classes}; write \\{{ and \\}} for "
                             "literal braces")
    try:
        compiled = re.compile(_PLACE_CLASS.sub(lambda m: f"(?P<{m.group(1)}>.)", pattern))
    except re.error as error:
        raise ValueError(f"{pattern!r} is not a regular expression ({error})") from None
    if compiled.groups < groups:
        raise ValueError(f"{pattern!r} needs a capturing group (...) around the part it finds")
    return pattern


Regex = Annotated[str, AfterValidator(_compiles)]
RegexWithGroup = Annotated[str, AfterValidator(lambda pattern: _compiles(pattern, groups=1))]


# Table and column names become SQL, Parquet and CSV identifiers: lower-case snake_case, nothing to quote.
_IDENTIFIER = re.compile(r"[a-z][a-z0-9_]{0,62}")


def _identifier(name: str) -> str:
    if not _IDENTIFIER.fullmatch(name):
        raise ValueError(f"{name!r} is not a snake_case name (a lower-case letter, then lower-case letters, "
                         "digits or _; at most 63): it becomes an SQL, Parquet and CSV identifier")
    return name


Identifier = Annotated[str, AfterValidator(_identifier)]


def _plain_value(value: Any) -> Any:
    """An allowed value of a column is one value (text, a number, true or false), as a cell holds."""
    if not isinstance(value, str | int | float | bool):
        raise ValueError(f"{value!r} is not a plain value: each allowed value is one text, number, true or false "
                         f"(write `allowed: [a, b]`, not `allowed: [[a, b]]`)")
    return value


class Column(Strict):
    name: Identifier
    type: Literal[COLUMN_TYPES]  # type: ignore[valid-type]
    description: str
    label_zh: str | None = None
    unit: UnitName | None = None
    nullable: bool = False
    unique: bool = False
    allowed: list[Annotated[Any, AfterValidator(_plain_value)]] | None = None
    labels: Vocabulary | None = None
    ge: float | None = None
    le: float | None = None
    pattern: Regex | None = None
    derived: str | None = Field(None, description="An arithmetic expression over the table's columns.")
    matches: str | None = Field(None, description="The reported column a derived column must agree with.")
    figure: bool = False
    from_row: str | None = None
    from_facts: str | None = Field(None, description="The facts column a wide table's context column carries.")
    for_rows: list[str] | None = Field(None, description="The rows a derived column is computed for.")
    references: str | None = None

    @field_validator("derived")
    @classmethod
    def _derived_is_an_expression(cls, derived: str | None) -> str | None:
        if derived is not None:
            try:
                expressions.names(derived)
            except expressions.ExpressionError as error:
                raise ValueError(f"{derived!r} is not an arithmetic expression over columns ({error})") from None
        return derived

    @model_validator(mode="after")
    def _matches_needs_derived(self) -> Column:
        if self.matches is not None and self.derived is None:
            raise ValueError(f"column {self.name}: `matches` needs `derived` (the expression to compare)")
        return self


class Row(Strict):
    """A wide table's row. Where a row is what one of its figures measures, `label_from` names that figure and
    its `metric_zh` / `metric_en` are the row's labels, so a changed figure label reaches the row;
    `zh` or `en` written out is a label of the row's own."""
    zh: str | None = None
    en: str | None = None
    label_from: FactId | None = None
    in_partition: bool | None = None
    denominator: FactId | None = None
    note: str | None = None

    @model_validator(mode="after")
    def _labelled(self) -> Row:
        if self.label_from is None and (self.zh is None or self.en is None):
            raise ValueError("a row needs `zh` and `en`, or `label_from`: the figure whose metric_zh and metric_en "
                             "label it")
        return self


class Table(Strict):
    title: str
    description: str
    primary_key: list[Identifier]
    spans: list[tuple[str, str, str]] = []
    label: Identifier | None = None
    rows: dict[str, Row] | None = None
    columns: list[Column]
    context_columns: list[Column] = []

    def column_names(self) -> list[str]:
        """The declared columns and those metadata.tables() generates from `label` (wide tables), `labels`
        and `figure` (tests/test_catalog.py checks the two agree)."""
        names = [f"{self.label}_{suffix}" for suffix in ("id", "zh", "en")] if self.rows is not None else []
        for column in self.columns + self.context_columns:
            names.append(column.name)
            names += [f"{column.name}_{lang}" for lang in ("zh", "en") if column.labels]
            names += [f"{column.name}_fact_id"] if column.figure else []
        return names

    @model_validator(mode="after")
    def _columns_are_consistent(self) -> Table:
        if self.rows is not None and self.label is None:
            raise ValueError("a table with `rows` needs a `label` (its rows' id column is <label>_id)")
        declared = {c.name: c for c in self.columns}
        names = self.column_names()
        twice = sorted(name for name, n in collections.Counter(names).items() if n > 1)
        if twice:
            raise ValueError(f"column {twice[0]!r} is declared twice (columns ending in _id, _zh, _en and _fact_id "
                             "may be generated from `label`, `labels` and `figure`)")
        if self.context_columns and self.rows is None:
            raise ValueError("`context_columns` are for a table with `rows` (an indicator table has its figures' "
                             "columns already)")
        for column in self.columns + self.context_columns:
            if column.for_rows is not None:
                if column.derived is None or self.rows is None:
                    raise ValueError(f"column {column.name}: `for_rows` is for a derived column of a table with `rows`")
                unknown = [row for row in column.for_rows if row not in self.rows]
                if unknown:
                    raise ValueError(f"column {column.name}: for_rows names {unknown[0]!r}, not a row of this table"
                                     f"{suggest(unknown[0], self.rows)}")
        known = set(names)
        for key, name in [("primary_key", n) for n in self.primary_key] + [("spans", n) for s in self.spans for n in s]:
            if name not in known:
                raise ValueError(f"{key} names {name!r}, not a column of this table{suggest(name, names)}")
        for column in self.columns:
            if column.derived is not None:
                unknown = [n for n in expressions.names(column.derived) if n not in declared]
                if unknown:
                    raise ValueError(f"column {column.name}: derived {column.derived!r} names {unknown[0]!r}, not a "
                                     f"column of this table{suggest(unknown[0], declared)}")
            if column.matches is not None and not (column.matches in declared and declared[column.matches].figure):
                raise ValueError(f"column {column.name}: matches {column.matches!r} should name a `figure: true` "
                                 f"column of this table, whose figure's printed decimals give the tolerance")
        return self


class TablesCatalog(Strict):
    label_vocabularies: dict[str, dict[str, Label]]
    templates: dict[str, list[Column]] = {}
    tables: dict[Identifier, Table]

    @field_validator("tables")
    @classmethod
    def _code_built_tables_are_declared(cls, tables: dict, info: ValidationInfo) -> dict:
        """The tables the stages build with code of their own must be declared (the others are filled
        from figures by their declaration alone)."""
        required = (info.context or {}).get("code_built_tables", ())
        missing = [name for name in required if name not in tables]
        if missing:
            raise ValueError(f"missing table{'s' if len(missing) > 1 else ''} {', '.join(map(repr, missing))}, "
                             "which the stages build with code of their own; declare "
                             f"{'them' if len(missing) > 1 else 'it'}")
        return tables


# --- checks.yaml -------------------------------------------------------------------------------------

class KnownDiscrepancy(Strict):
    fingerprint: Annotated[str, Field(pattern=r"^[0-9a-f]{16}$")]
    note: str


class CheckBase(Strict):
    check_id: str
    relation: Literal["implied", "plausibility"]
    description: str
    known_discrepancy: KnownDiscrepancy | None = None


def check_spec_models(check_types: dict[str, type]) -> Any:
    """One model per declarable check type, its roles (fact ids) read from the check class."""
    models = []
    for name, cls in check_types.items():
        if not getattr(cls, "declarable", True):
            continue
        fields: dict[str, Any] = {"type": (Literal[name], ...)}
        for role in cls.roles:
            fields[role] = (list[FactId] if role in cls.list_roles else FactId, ...)
        models.append(create_model(f"{cls.__name__}Spec", __base__=CheckBase, **fields))
    union = Union[tuple(models)] if len(models) > 1 else models[0]  # noqa: UP007
    return Annotated[union, Field(discriminator="type")]


def checks_catalog_model(check_types: dict[str, type]) -> type[BaseModel]:
    def unique(model: BaseModel) -> BaseModel:
        _unique(model.checks, "check_id", "check")
        return model

    model = create_model("ChecksCatalog", __base__=Strict, checks=(list[check_spec_models(check_types)], ...))
    return create_model("ChecksCatalogUnique", __base__=model,
                        __validators__={"_unique": model_validator(mode="after")(unique)})


# --- glossary.yaml, translations.yaml, entities.yaml ---------------------------------------------------

class Term(Strict):
    term_id: str
    term_zh: str
    term_en: str
    definition_en: str
    source: str
    find: str | None = None
    readings: dict[str, str] | None = None
    # Other English forms a sentence may use for the term (check terminology); term_en is always accepted.
    english_variants: list[str] = []


class GlossaryCatalog(Strict):
    terms: list[Term]

    @model_validator(mode="after")
    def _ids_are_unique(self) -> GlossaryCatalog:
        _unique(self.terms, "term_id", "term")
        return self


class Translation(Strict):
    zh: str
    en: str


class Summary(Strict):
    en: str


class TranslationsCatalog(Strict):
    summary: Summary
    sentences: dict[str, Translation]




# --- catalog/documents/<document_id>/: another document's figures, English and pairs ----------------------

def _no_digits(text: str) -> str:
    """Curated text about another document's figures holds no digit: values come from its text."""
    if re.search(r"[0-9\uff10-\uff19]", text):
        raise ValueError("a note holds no digit: a value comes from the text, through its figure")
    return text


DigitFree = Annotated[str, AfterValidator(_no_digits)]
RELATED_AS_OF = ("publication_date",)


class RelatedFigure(Strict):
    figure_id: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_.]{0,63}$")]
    metric_zh: str
    metric_en: str
    population_zh: str
    population_en: str
    # The letter's population key, only where the figure counts the very set the letter's figure counts.
    population: PopulationId | None = None
    unit: UnitName
    find: str
    qualifier: Literal[QUALIFIERS] | None = None  # type: ignore[valid-type]
    area_zh: str | None = None
    area_en: str | None = None
    # The reference period: `as_of_find`, an anchor whose {} is the date or year that dates the figure, or
    # `as_of: publication_date`, the document's publication date (raw/manifest.yaml), the latest it can describe.
    as_of_find: str | None = None
    # publication_date, or an ISO period the text gives without its year (with as_of_find at that date).
    as_of: Literal[RELATED_AS_OF] | IsoPeriod | None = None  # type: ignore[valid-type]
    note_en: DigitFree | None = None
    note_zh: DigitFree | None = None

    @model_validator(mode="after")
    def _one_period_and_both_languages(self) -> RelatedFigure:
        if self.as_of_find is None and self.as_of is None:
            raise ValueError("give the period: as_of_find (an anchor at a date or year), as_of: publication_date, "
                             "or both an ISO as_of and as_of_find at the date the text writes without its year")
        if self.as_of == "publication_date" and self.as_of_find is not None:
            raise ValueError("as_of: publication_date takes no as_of_find")
        if self.as_of not in (None, "publication_date") and self.as_of_find is None:
            raise ValueError("an ISO as_of needs as_of_find at the date it reads; its numbers must be the period's")
        if self.as_of not in (None, "publication_date") and self.note_en is None:
            raise ValueError("an ISO as_of needs a note_en that says how its year was read")
        if (self.area_zh is None) != (self.area_en is None):
            raise ValueError("area_zh and area_en go together")
        if (self.note_en is None) != (self.note_zh is None):
            raise ValueError("note_en and note_zh go together")
        return self


class RelatedNonFigure(Strict):
    find: str
    kind: Annotated[str, known("accounted_as", "kind of non-figure")]
    reason: str


class RelatedFiguresCatalog(Strict):
    document_id: DocumentId
    area_zh: str
    area_en: str
    figures: Annotated[list[RelatedFigure], Field(min_length=1)]  # a related text reports a figure of the letter's
    non_figures: list[RelatedNonFigure] = []

    @model_validator(mode="after")
    def _ids_are_unique(self) -> RelatedFiguresCatalog:
        _unique(self.figures, "figure_id", "figure")
        return self


class RelatedTranslations(Strict):
    sentences: dict[str, Translation] = {}


class Corroboration(Strict):
    fact_id: FactId
    figure_id: Annotated[str, known("figure_ids", "figure of this document", show=True)]
    status: Literal[tuple(STATUSES)]  # type: ignore[valid-type]  # declared once, in pipeline/corroborations.py
    note_en: DigitFree
    note_zh: DigitFree


class CorroborationsCatalog(Strict):
    corroborations: Annotated[list[Corroboration], Field(min_length=1)]


class PlaceClasses(Strict):
    """The administrative suffixes of each class of place name (entities.py reads all five)."""
    province: Annotated[list[str], Field(min_length=1)]
    city: Annotated[list[str], Field(min_length=1)]
    county: Annotated[list[str], Field(min_length=1)]
    township: Annotated[list[str], Field(min_length=1)]
    village: Annotated[list[str], Field(min_length=1)]


class PlacePattern(Strict):
    id: str
    description: str
    pattern: Regex


class CuratedPlace(Strict):
    en: str
    full_zh: str | None = None
    parent: str | None = None
    note: str | None = None
    readings: dict[str, str] | None = None  # a character's reading in this name, where the dictionary's is wrong


class DocumentPatterns(Strict):
    number_after_title: Regex
    issuer_pattern: RegexWithGroup  # group 1 is the issuer
    title_issuer_pattern: RegexWithGroup
    types: dict[str, str]  # each in tables.yaml's document_type vocabulary: metadata.document_type_problems
    issuers: dict[str, str]
    titles: dict[str, str]


class EntitiesCatalog(Strict):
    function_characters: str
    place_classes: PlaceClasses
    place_patterns: list[PlacePattern]
    list_places: dict[str, Literal["contains", "settlement_site"]] = {}
    places: dict[str, CuratedPlace]
    documents: DocumentPatterns
