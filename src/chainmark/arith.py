"""Arithmetic over + - * / and parentheses, parsed by hand: model and tool input is never
handed to `eval`. Shared by the Python tools (chainmark.contestants.tools.calculate) and the
harness's verifier (chainmark.scenarios.checks.tool_observations); the LangChainGo
contestant's calculator (contestants/langchaingo/tools.go) mirrors it byte for byte.

Grammar, with Python's number semantics (integers stay exact, `/` gives a float, a float on
either side makes a float):

    expression := term (('+' | '-') term)*
    term       := factor (('*' | '/') factor)*
    factor     := number | '-' factor | '+' factor | '(' expression ')'
    number     := digits ['.' [digits]] | '.' digits    (ASCII digits 0-9, no exponent)

Whitespace (str.isspace) between tokens is ignored. Only ASCII digits are digits, and error
messages quote characters as Python's ascii() does ("'\\xe9'" for an e-acute), so nothing
depends on the Unicode database's version (Python 3.11 has Unicode 14, Go 1.26 Unicode 15:
they disagree on which characters are digits or printable).

The limits: the one definition every implementation follows (Go mirrors them in
contestants/langchaingo/tools.go). Exceeding one is a CalculatorError with this message, which
the tools show as "Error: <message>":

- Length: at most MAX_EXPRESSION_CHARS (1000) characters (code points) of expression, counted
  on what `evaluate` receives (the tools first strip surrounding whitespace and quotes):
  "expression too long (max 1000 characters)". Checked before anything else.
- Nesting: at most MAX_DEPTH (100) open parentheses and unary signs enclosing any point of the
  expression: "((1))" and "--1" and "-(1)" nest 2 deep, "(1)+(2)" 1, "1+2*3" 0. The 101st is
  "expression nested too deeply (max 100 parentheses and signs)", raised as its token is read.
- Magnitude: every number written and every result (each + - * / as it is computed, so every
  intermediate and the final value) has an absolute value of at most MAX_MAGNITUDE (10**15,
  compared exactly; a decimal is compared as the float it reads as). A larger number written
  is "number too large (max 1e15 in absolute value)", a larger result is
  "result too large (max 1e15 in absolute value)". So integers fit a float exactly, no float
  is ever inf or nan, and nothing can overflow.
- Division by a zero (0, 0.0, -0.0, or a decimal too small to be anything but 0.0):
  "division by zero".
- Anything else: "empty expression", "unexpected character 'x'" (before parsing: the first
  character that is neither whitespace, digit, '.', nor one of + - * / ( ); quoted as by
  ascii()), "unexpected end of expression", "unexpected ')'" (or the unexpected token),
  "expected ')'".

Errors come from a single left-to-right pass that computes as it parses, so the first problem
met wins: "1/0+" is a division by zero, "1/0 2" too, "1 2+" an unexpected '2'.

Results print as `format_number` does: integers in full, integral floats below 1e15 as
integers ("10/5" is "2"), other floats as Python's repr ("7/2" is "3.5", "0.00001*1" is
"1e-05"; so an integral float exactly at the limit, "1000000000000000/1", prints as
"1000000000000000.0").

The parser is iterative (an explicit stack, no Python recursion), so its result never depends
on how deep the caller's stack already is, and `evaluate` raises nothing but CalculatorError.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

MAX_EXPRESSION_CHARS = 1000
MAX_DEPTH = 100
MAX_MAGNITUDE = 10**15

TOO_LONG = f"expression too long (max {MAX_EXPRESSION_CHARS} characters)"
TOO_DEEP = f"expression nested too deeply (max {MAX_DEPTH} parentheses and signs)"
NUMBER_TOO_LARGE = "number too large (max 1e15 in absolute value)"
RESULT_TOO_LARGE = "result too large (max 1e15 in absolute value)"
DIVISION_BY_ZERO = "division by zero"

# Python's int() refuses strings longer than sys.get_int_max_str_digits() (4300 by default):
# the length limit keeps every digit run far below that.
assert MAX_EXPRESSION_CHARS < 4300

_TOKEN = re.compile(r"\s*(?:([0-9]+(?:\.[0-9]*)?|\.[0-9]+)|(.))")


class CalculatorError(ValueError):
    pass


def _tokenize(text: str) -> list[tuple[str, str]]:
    tokens: list[tuple[str, str]] = []
    for number, symbol in _TOKEN.findall(text):
        if number:
            tokens.append(("num", number))
        elif symbol.strip():
            if symbol not in "+-*/()":
                raise CalculatorError(f"unexpected character {symbol!a}")
            tokens.append(("op", symbol))
    return tokens


def _number(text: str) -> int | float:
    value: int | float = int(text) if text.isdigit() else float(text)
    # `not <=` also refuses a nan, which no literal can be.
    if not abs(value) <= MAX_MAGNITUDE:
        raise CalculatorError(NUMBER_TOO_LARGE)
    return value


def _apply(left: int | float, op: str, right: int | float) -> int | float:
    if op == "+":
        value = left + right
    elif op == "-":
        value = left - right
    elif op == "*":
        value = left * right
    elif right == 0:
        raise CalculatorError(DIVISION_BY_ZERO)
    else:
        value = left / right
    if not abs(value) <= MAX_MAGNITUDE:
        raise CalculatorError(RESULT_TOO_LARGE)
    return value


@dataclass
class _Level:
    """The whole expression, or one open parenthesis: the parts of it still waiting for their
    right-hand side, as the recursive-descent frames of the grammar would hold them."""

    total: int | float = 0  # the sum so far, when `add_op` waits for a term
    add_op: str | None = None
    product: int | float = 1  # the product so far, when `mul_op` waits for a factor
    mul_op: str | None = None
    signs: list[str] = field(default_factory=list)  # unary signs before the next factor


def _parse(tokens: list[tuple[str, str]]) -> int | float:
    """The grammar's recursive descent, run on an explicit stack: the same values, the same
    errors at the same tokens, without Python recursion."""
    levels = [_Level()]
    depth = 0  # open parentheses + pending unary signs, over all levels
    pos, end = 0, len(tokens)
    while True:
        # A factor's prefix: unary signs and opening parentheses, up to its number.
        if pos >= end:
            raise CalculatorError("unexpected end of expression")
        kind, text = tokens[pos]
        pos += 1
        if kind == "op" and text in "+-(":
            depth += 1
            if depth > MAX_DEPTH:
                raise CalculatorError(TOO_DEEP)
            if text == "(":
                levels.append(_Level())
            else:
                levels[-1].signs.append(text)
            continue
        if kind != "num":
            raise CalculatorError(f"unexpected {text!a}")
        value = _number(text)
        # The factor is complete: apply what waited for it, closing parentheses as they come,
        # until an operator asks for another factor.
        while True:
            level = levels[-1]
            depth -= len(level.signs)
            for sign in reversed(level.signs):
                if sign == "-":
                    value = -value
            level.signs.clear()
            if level.mul_op is not None:
                value = _apply(level.product, level.mul_op, value)
                level.mul_op = None
            following = tokens[pos] if pos < end else None
            if following in (("op", "*"), ("op", "/")):
                level.product, level.mul_op = value, following[1]
                pos += 1
                break
            if level.add_op is not None:
                value = _apply(level.total, level.add_op, value)
                level.add_op = None
            if following in (("op", "+"), ("op", "-")):
                level.total, level.add_op = value, following[1]
                pos += 1
                break
            if len(levels) == 1:
                if following is not None:
                    raise CalculatorError(f"unexpected {following[1]!a}")
                return value
            if following is None:
                raise CalculatorError("unexpected end of expression")
            if following != ("op", ")"):
                raise CalculatorError("expected ')'")
            pos += 1
            levels.pop()
            depth -= 1


def evaluate(expression: str) -> int | float:
    """Evaluates an arithmetic expression within the module's limits; raises CalculatorError
    (and nothing else) on anything else."""
    if not isinstance(expression, str):
        raise CalculatorError("the expression must be text")
    if len(expression) > MAX_EXPRESSION_CHARS:
        raise CalculatorError(TOO_LONG)
    try:
        tokens = _tokenize(expression)
        if not tokens:
            raise CalculatorError("empty expression")
        return _parse(tokens)
    except CalculatorError:
        raise
    except Exception as exc:  # pragma: no cover - the limits leave no other failure
        # A contract, not a hope: a caller (the verifier above all) must never see another
        # exception, so a bug here becomes a readable error instead of a crash.
        raise CalculatorError(f"cannot evaluate ({type(exc).__name__})") from exc


def format_number(value: int | float) -> str:
    """How the tools print a result: integers in full, integral floats below 1e15 as integers,
    other floats as Python's repr (the shortest decimal that reads back as the same float)."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return repr(value) if isinstance(value, float) else str(value)
