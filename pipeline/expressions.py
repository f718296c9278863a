"""A small, safe arithmetic language, shared by derived columns (tables.yaml `derived:`) and notes
(figures.yaml `{= expression}`).

An expression is numbers (where allowed), names (a column, or a dotted fact id), + - * /, unary
minus, parentheses and calls of the few functions a caller allows. Nothing else parses: no
attribute access beyond dotted names, no subscripts, no comparisons, no keywords. Evaluation works
on plain numbers and on pandas Series alike, so one expression computes a column and validates it.
"""

from __future__ import annotations

import ast
import operator
import re
from collections.abc import Callable, Mapping
from typing import Any

OPERATORS = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv}
SYMBOLS = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/"}

NOTE_FUNCTIONS: dict[str, Callable[..., float]] = {
    # The share before a rise of `change` per cent, read as a relative rise.
    "previous_if_relative": lambda value, change: value / (1 + change / 100),
    # The whole that `count` is `share` per cent of.
    "total_from_share": lambda count, share: round(count / (share / 100)),
}


class ExpressionError(ValueError):
    """The text is not an expression of this language."""


# Templates (the English of sentences, notes) name a figure as `{fact_id}` or `{fact_id|filter}` /
# `{fact_id|filter:n}`, and a note computes a value as `{= expression}` in the language below.
PLACEHOLDER = re.compile(r"\{([a-z0-9_.]+)(?:\|([a-z]+)(?::(\d+))?)?\}")
TEMPLATE_EXPRESSION = re.compile(r"\{=\s*([^{}]+?)\s*\}")


def template_names(template: str) -> list[str]:
    """The fact ids a template uses: in its placeholders and in its `{= expression}`s (ExpressionError
    when an expression is not one of this language)."""
    used = [m.group(1) for m in PLACEHOLDER.finditer(TEMPLATE_EXPRESSION.sub("", template))]
    for match in TEMPLATE_EXPRESSION.finditer(template):
        try:
            used += names(match.group(1), functions=NOTE_FUNCTIONS)
        except ExpressionError as error:
            raise ExpressionError(f"{{= {match.group(1)}}} is not an arithmetic expression over figures "
                                  f"({error})") from None
    return used


def parse(expression: str, functions: Mapping[str, Callable] | None = None, constants: bool = True) -> ast.AST:
    """The syntax tree of `expression`, after checking that it uses only the language above."""
    try:
        tree = ast.parse(expression.strip(), mode="eval")
    except SyntaxError as error:
        raise ExpressionError(f"cannot parse: {error.msg}") from None
    functions = functions or {}

    def check(node: ast.AST) -> None:
        if isinstance(node, ast.Expression):
            check(node.body)
        elif isinstance(node, ast.BinOp) and type(node.op) in OPERATORS:
            check(node.left)
            check(node.right)
        elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            check(node.operand)
        elif isinstance(node, ast.Constant) and type(node.value) in (int, float) and constants:
            pass
        elif isinstance(node, ast.Name) or (isinstance(node, ast.Attribute) and _dotted(node)):
            pass
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in functions \
                and not node.keywords:
            for argument in node.args:
                check(argument)
        else:
            raise ExpressionError(f"{ast.unparse(node)!r} is not allowed (only names, "
                                  + ("numbers, " if constants else "") + "+ - * /, parentheses"
                                  + (f" and {', '.join(sorted(functions))}" if functions else "") + ")")

    check(tree)
    return tree


def _dotted(node: ast.AST) -> bool:
    while isinstance(node, ast.Attribute):
        node = node.value
    return isinstance(node, ast.Name)


def names(expression: str, functions: Mapping[str, Callable] | None = None, constants: bool = True) -> list[str]:
    """The names an expression uses, in order of appearance (dotted names whole)."""
    tree = parse(expression, functions, constants)
    found: list[str] = []

    def walk(node: ast.AST) -> None:
        if isinstance(node, (ast.Name, ast.Attribute)):
            found.append(ast.unparse(node))
        elif isinstance(node, ast.Call):
            for argument in node.args:
                walk(argument)
        else:
            for child in ast.iter_child_nodes(node):
                walk(child)

    walk(tree)
    return found


def evaluate(expression: str, values: Mapping[str, Any], functions: Mapping[str, Callable] | None = None,
             constants: bool = True) -> tuple[Any, list[str]]:
    """The value of `expression` with each name looked up in `values` (numbers or Series), and the
    names used. An unknown name raises KeyError; anything outside the language, ExpressionError."""
    functions = functions or {}
    used: list[str] = []

    def value(node: ast.AST) -> Any:
        if isinstance(node, ast.Expression):
            return value(node.body)
        if isinstance(node, ast.BinOp):
            return OPERATORS[type(node.op)](value(node.left), value(node.right))
        if isinstance(node, ast.UnaryOp):
            return -value(node.operand)
        if isinstance(node, ast.Constant):
            return node.value
        if isinstance(node, ast.Call):
            return functions[node.func.id](*(value(a) for a in node.args))
        name = ast.unparse(node)
        result = values[name]
        used.append(name)
        return result

    return value(parse(expression, functions, constants)), used
