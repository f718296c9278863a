"""pydantic's validation errors as people read them: one line per problem naming the file, the entry
(by its id) and the key, with a close match for a misspelt name. Shared by the catalog models
(pipeline/catalog_models.py) and every YAML file read through pipeline/yaml_input.py."""

from __future__ import annotations

import difflib
import types
import typing
from typing import Annotated, Any, Union

from pydantic import BaseModel, ValidationError

# Keys that identify an entry of a list, so that a message can name the entry.
ENTRY_IDS = ("check_id", "fact_id", "list_id", "period_id", "term_id", "name", "id")


def suggest(value: object, known: typing.Iterable[str]) -> str:
    close = difflib.get_close_matches(str(value), [str(k) for k in known], n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _unwrap(annotation: Any) -> Any:
    """The model or container inside Annotated[...] and X | None."""
    while True:
        origin = typing.get_origin(annotation)
        if origin is Annotated:
            annotation = typing.get_args(annotation)[0]
        elif origin in (Union, types.UnionType):
            members = [a for a in typing.get_args(annotation) if a is not type(None)]
            if len(members) != 1:
                return annotation
            annotation = members[0]
        else:
            return annotation


def _model_at(model: Any, loc: tuple) -> type[BaseModel] | None:
    """The model whose keys are at `loc` (to list the allowed keys), following lists, dicts and check types."""
    annotation: Any = model
    for part in loc:
        annotation = _unwrap(annotation)
        origin = typing.get_origin(annotation)
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            if part not in annotation.model_fields:
                return None
            annotation = annotation.model_fields[part].annotation
        elif origin is list and isinstance(part, int):
            annotation = typing.get_args(annotation)[0]
        elif origin is dict:
            annotation = typing.get_args(annotation)[1]
        elif origin in (Union, types.UnionType):
            tagged = [a for a in typing.get_args(annotation) if isinstance(a, type) and issubclass(a, BaseModel)
                      and typing.get_args(a.model_fields.get("type").annotation) == (part,)]
            if not tagged:
                return None
            annotation = tagged[0]
        else:
            return None
    annotation = _unwrap(annotation)
    return annotation if isinstance(annotation, type) and issubclass(annotation, BaseModel) else None


def _where(data: Any, loc: tuple) -> tuple[str, Any]:
    """`loc` in words ("checks entry 4 (check_id coverage.elderly_care)"), and the key the error is about."""
    words, node, key = [], data, None
    for position, part in enumerate(loc):
        last = position == len(loc) - 1
        if not last and isinstance(node, dict) and node.get("type") == part:
            continue  # the tag pydantic adds for a check type, not a key of the file
        if isinstance(node, list) and isinstance(part, int) and part < len(node):
            node = node[part]
            ident = next((f"{k} {node[k]}" for k in ENTRY_IDS if isinstance(node, dict) and k in node), None)
            words.append(f"entry {part + 1}" + (f" ({ident})" if ident else ""))
        elif isinstance(node, dict) and part in node:
            if last:
                key = part
            else:
                words.append(str(part))
            node = node[part]
        elif last and isinstance(part, str) and not (isinstance(node, dict) and node.get("type") == part):
            key = part
    return " ".join(words) or "the top level", key


def problems(error: ValidationError, path: str, data: Any, model: Any) -> list[str]:
    """One line per problem: file, entry, key and what is wrong."""
    lines = []
    for item in error.errors(include_url=False):
        loc = tuple(item["loc"])
        where, key = _where(data, loc)
        kind, message = item["type"], item["msg"].removeprefix("Value error, ")
        if kind == "extra_forbidden":
            owner = _model_at(model, loc[:-1])
            allowed = f"; allowed keys are {', '.join(owner.model_fields)}" if owner else ""
            message = f"unknown key{suggest(key, owner.model_fields if owner else [])}{allowed}"
        elif kind == "missing":
            message = "missing key"
        elif kind == "union_tag_invalid":
            tags = item.get("ctx", {}).get("expected_tags", "")
            message = f"unknown check type {item['input'].get('type')!r}; known types: {tags}"
            key = "type"
        elif kind == "union_tag_not_found":
            message = "missing key"
            key = "type"
        elif "input" in item and not isinstance(item["input"], dict | list) and repr(item["input"]) not in message:
            message += f" (found {item['input']!r})"
        if loc and loc[-1] == "[key]":
            key = None  # the entry's own name, which `where` already gives
        lines.append(f"{path}: {where}" + (f", key {key!r}" if key is not None else "") + f": {message}")
    return lines
