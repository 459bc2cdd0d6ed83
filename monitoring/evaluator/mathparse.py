"""Parser for CloudWatch metric math expressions (the subset our alarms use, as an AST of tuples).

Syntax: https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/using-metric-math.html
Ids start with a lowercase letter; functions and keywords are uppercase. Precedence from low to
high: `OR`/`||`, `AND`/`&&`, comparisons, `+ -`, `* /`, unary `-`, `^` (right-associative).
Nodes: ("num", v) ("id", name) ("str", s) ("kw", NAME) ("neg", x) ("bin", op, a, b)
("call", NAME, [args]) ("array", [items]).
"""

from __future__ import annotations

import re
from typing import Any

from monitoring.evaluator.model import EvaluatorError

_TOKEN = re.compile(
    r"\s*(?:(?P<num>\d+(?:\.\d*)?(?:[eE][+-]?\d+)?|\.\d+)|(?P<str>\"[^\"]*\")|"
    r"(?P<name>[A-Za-z_][A-Za-z0-9_]*)|(?P<op>==|!=|<=|>=|&&|\|\||[-+*/^<>()\[\],]))"
)
_COMPARISONS = ("==", "!=", "<=", ">=", "<", ">")
Node = tuple[Any, ...]


def tokenize(text: str) -> list[tuple[str, str]]:
    tokens, pos = [], 0
    text = text.rstrip()
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if not match or match.end() == pos:
            raise EvaluatorError(f"cannot parse metric math {text!r} at {text[pos:]!r}")
        kind = match.lastgroup or ""
        tokens.append((kind, match.group(kind)))
        pos = match.end()
    return tokens


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = tokenize(text)
        self.pos = 0

    def peek(self) -> str | None:
        return self.tokens[self.pos][1] if self.pos < len(self.tokens) else None

    def take(self, expected: str | None = None) -> tuple[str, str]:
        if self.pos >= len(self.tokens):
            raise EvaluatorError(f"metric math {self.text!r} ends too early")
        tok = self.tokens[self.pos]
        if expected is not None and tok[1] != expected:
            raise EvaluatorError(f"metric math {self.text!r}: expected {expected!r}, found {tok[1]!r}")
        self.pos += 1
        return tok

    def parse(self) -> Node:
        node = self.binary(0)
        if self.pos != len(self.tokens):
            raise EvaluatorError(f"metric math {self.text!r}: unexpected {self.peek()!r}")
        return node

    _LEVELS: tuple[tuple[str, ...], ...] = (("OR", "||"), ("AND", "&&"), _COMPARISONS, ("+", "-"), ("*", "/"))

    def binary(self, level: int) -> Node:
        if level == len(self._LEVELS):
            return self.unary()
        node = self.binary(level + 1)
        while self.peek() in self._LEVELS[level]:
            token = self.take()[1]
            op = {"||": "OR", "&&": "AND"}.get(token, token)
            node = ("bin", op, node, self.binary(level + 1))
        return node

    def unary(self) -> Node:
        if self.peek() == "-":
            self.take()
            return ("neg", self.unary())
        return self.power()

    def power(self) -> Node:
        base = self.atom()
        if self.peek() == "^":
            self.take()
            return ("bin", "^", base, self.unary())
        return base

    def atom(self) -> Node:
        kind, value = self.take()
        if kind == "num":
            return ("num", float(value))
        if kind == "str":
            return ("str", value[1:-1])
        if value == "(":
            node = self.binary(0)
            self.take(")")
            return node
        if value == "[":
            items = self.items("]")
            return ("array", items)
        if kind == "name":
            if self.peek() == "(":
                self.take("(")
                return ("call", value, self.items(")"))
            if value[0].islower():
                return ("id", value)
            return ("kw", value)
        raise EvaluatorError(f"metric math {self.text!r}: unexpected {value!r}")

    def items(self, closer: str) -> list[Node]:
        items: list[Node] = []
        if self.peek() == closer:
            self.take()
            return items
        while True:
            items.append(self.binary(0))
            if self.take()[1] == closer:
                return items
            if self.tokens[self.pos - 1][1] != ",":
                raise EvaluatorError(f"metric math {self.text!r}: expected ',' or {closer!r}")


def parse(text: str) -> Node:
    """Parse one metric math expression; a syntax error is one `EvaluatorError` line."""
    return _Parser(text).parse()


def references(node: Node) -> set[str]:
    """Ids of metrics/expressions the expression reads."""
    if node[0] == "id":
        return {node[1]}
    children = node[2] if node[0] in ("call",) else node[1] if node[0] == "array" else node[1:]
    found: set[str] = set()
    for child in children:
        if isinstance(child, tuple):
            found |= references(child)
        elif isinstance(child, list):
            for item in child:
                found |= references(item)
    return found
