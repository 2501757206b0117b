"""Arithmetic over + - * / and parentheses, parsed by hand: model and tool input is never
handed to `eval`. Shared by the Python tools and the scripted synthetic model."""

from __future__ import annotations

import re

MAX_EXPRESSION_CHARS = 1000
_TOKEN = re.compile(r"\s*(?:(\d+(?:\.\d*)?|\.\d+)|(.))")
MAX_EXPRESSION_CHARS = 1000


class CalculatorError(ValueError):
    pass


class _Parser:
    """Recursive descent over + - * / and parentheses, with Python's number semantics
    (integers stay exact; `/` gives a float), so results match what Python would print."""

    def __init__(self, text: str) -> None:
        self.tokens: list[tuple[str, str]] = []
        for number, symbol in _TOKEN.findall(text):
            if number:
                self.tokens.append(("num", number))
            elif symbol.strip():
                if symbol not in "+-*/()":
                    raise CalculatorError(f"unexpected character {symbol!r}")
                self.tokens.append(("op", symbol))
        self.pos = 0

    def peek(self) -> str | None:
        return self.tokens[self.pos][1] if self.pos < len(self.tokens) else None

    def take(self) -> tuple[str, str]:
        if self.pos >= len(self.tokens):
            raise CalculatorError("unexpected end of expression")
        token = self.tokens[self.pos]
        self.pos += 1
        return token

    def expression(self) -> int | float:
        value = self.term()
        while self.peek() in ("+", "-"):
            op = self.take()[1]
            right = self.term()
            value = value + right if op == "+" else value - right
        return value

    def term(self) -> int | float:
        value = self.factor()
        while self.peek() in ("*", "/"):
            op = self.take()[1]
            right = self.factor()
            if op == "*":
                value = value * right
            elif right == 0:
                raise CalculatorError("division by zero")
            else:
                value = value / right
        return value

    def factor(self) -> int | float:
        kind, text = self.take()
        if kind == "num":
            return int(text) if text.isdigit() else float(text)
        if text == "-":
            return -self.factor()
        if text == "+":
            return +self.factor()
        if text == "(":
            value = self.expression()
            if self.take()[1] != ")":
                raise CalculatorError("expected ')'")
            return value
        raise CalculatorError(f"unexpected {text!r}")


def evaluate(expression: str) -> int | float:
    """Evaluates an arithmetic expression; raises CalculatorError on anything else."""
    if len(expression) > MAX_EXPRESSION_CHARS:
        raise CalculatorError("expression too long")
    parser = _Parser(expression)
    if not parser.tokens:
        raise CalculatorError("empty expression")
    value = parser.expression()
    if parser.pos != len(parser.tokens):
        raise CalculatorError(f"unexpected {parser.peek()!r}")
    return value


def format_number(value: int | float) -> str:
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    # repr: the shortest decimal that reads back as the same float, as Python prints it.
    return repr(value) if isinstance(value, float) else str(value)
