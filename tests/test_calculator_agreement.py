"""The SimpleCalculator has one behaviour: on every input, the Python contestants' tool
(chainmark.contestants.tools.calculate), the Go contestant's tool (the real langchaingo binary,
through its `--calculate` test hook) and the harness's verifier
(chainmark.scenarios.checks.tool_observations) give the very same observation, and nothing
raises. Inputs are generated with a fixed seed: ordinary arithmetic, deep nesting, runs of
signs, long digit runs, numbers around the magnitude limit, divisions by zero, garbage and
Unicode, odd whitespace, and every limit of chainmark.arith exactly at it and one past it.
"""

from __future__ import annotations

import json
import random
import shutil
import subprocess
from collections import Counter
from collections.abc import Callable

import pytest

from chainmark import arith
from chainmark.arith import CalculatorError, evaluate, format_number
from chainmark.contestants.tools import calculate
from chainmark.contract import ContestantResult
from chainmark.gobuild import GO_BASELINE_MODULE, LANGCHAINGO_MODULE, go_binary
from chainmark.scenarios import checks
from chainmark.scenarios.common import TOOLS
from chainmark.scenarios.evidence import Evidence

pytestmark = pytest.mark.skipif(shutil.which("go") is None, reason="needs the Go toolchain")

SEED = 20240611
LIMIT = arith.MAX_MAGNITUDE
LENGTH = arith.MAX_EXPRESSION_CHARS
DEPTH = arith.MAX_DEPTH

# Whitespace as str.isspace sees it (the tools strip it, the tokenizer skips it), and
# characters that are neither: Unicode digits (Arabic-Indic, fullwidth, mathematical, Kawi,
# which is new in Unicode 15: Go's tables have it, Python 3.11's do not), letters, marks,
# invisible and control characters, emoji new and old. No lone surrogates: Go strings cannot
# hold them (its JSON decoder turns them into U+FFFD, so Go never sees one).
SPACES = [" ", "\t", "\n", "\r", "\v", "\f", "\x1c", "\x1f", "\x85", "\xa0", "\u1680",
          "\u2000", "\u2009", "\u200a", "\u2028", "\u2029", "\u202f", "\u205f", "\u3000"]
STRANGERS = ["\u0661", "\u0669", "\uff11", "\U0001d7d1", "\U00011f51", "\u00b2", "\u2155",
             "\u00e9", "e", "E", "x", "_", ",", "%", "^", "=", "!", "'", '"', "`", "\\", "\x00",
             "\x7f", "\u200b", "\u200e", "\ufeff", "\u180e", "\U0001f600", "\U0001fae8",
             "\ufffd", "\U0010ffff", "\u0378", "inf", "nan", "**", "//", "1e5", "0x10"]
QUOTES = ["'", '"', "`"]


def _space(rng: random.Random) -> str:
    roll = rng.random()
    if roll < 0.6:
        return ""
    if roll < 0.9:
        return " "
    return "".join(rng.choice(SPACES) for _ in range(rng.randint(1, 3)))


def _digits(rng: random.Random, n: int) -> str:
    return "".join(rng.choice("0123456789") for _ in range(n))


def _number(rng: random.Random) -> str:
    roll = rng.random()
    if roll < 0.45:
        return str(rng.randint(0, 100))
    if roll < 0.65:
        return f"{rng.uniform(0, 1000):.{rng.randint(1, 6)}f}"
    if roll < 0.72:
        return "." + _digits(rng, rng.randint(1, 4))
    if roll < 0.77:
        return _digits(rng, rng.randint(1, 3)) + "."
    if roll < 0.9:
        return str(rng.randint(0, 10 ** rng.randint(1, 17)))
    if roll < 0.95:
        return f"{rng.uniform(0, 10 ** rng.randint(1, 17)):.{rng.randint(1, 3)}f}"
    return "0." + "0" * rng.randint(0, 30) + _digits(rng, rng.randint(1, 3))


def _expression(rng: random.Random, depth: int) -> str:
    """Ordinary arithmetic: numbers, the four operators, parentheses, unary signs, spaces."""
    if depth == 0 or rng.random() < 0.3:
        return _number(rng)
    roll = rng.random()
    if roll < 0.15:
        return "(" + _space(rng) + _expression(rng, depth - 1) + _space(rng) + ")"
    if roll < 0.25:
        return rng.choice("-+") + _space(rng) + _expression(rng, depth - 1)
    op = rng.choice("+-*/")
    return (_expression(rng, depth - 1) + _space(rng) + op + _space(rng)
            + _expression(rng, depth - 1))


def _mutate(rng: random.Random, text: str) -> str:
    """Garbage in an otherwise ordinary expression: a character inserted, dropped or doubled."""
    chars = list(text)
    for _ in range(rng.randint(1, 3)):
        at = rng.randint(0, len(chars))
        roll = rng.random()
        if roll < 0.5:
            chars.insert(at, rng.choice(STRANGERS + list("+-*/().0123456789") + SPACES))
        elif roll < 0.75 and chars:
            del chars[min(at, len(chars) - 1)]
        elif chars:
            chars.insert(at, chars[min(at, len(chars) - 1)])
    return "".join(chars)


def _random_text(rng: random.Random) -> str:
    pool = list("0123456789+-*/(). ") + STRANGERS + SPACES
    out = [rng.choice(pool) for _ in range(rng.randint(0, 20))]
    if rng.random() < 0.3:
        out.append(chr(rng.choice([rng.randint(0x80, 0xD7FF), rng.randint(0xE000, 0x10FFFF)])))
    return "".join(out)


def _nested(rng: random.Random, n: int) -> str:
    """n levels of parentheses and/or unary signs around a number, closed or not."""
    style = rng.randrange(5)
    inner = _number(rng) if rng.random() < 0.7 else _expression(rng, 2)
    if style == 0:
        return "(" * n + inner + ")" * n
    if style == 1:
        return rng.choice(["-", "+", "-+", "--"])[0] * n + inner
    if style == 2:
        pairs = n // 2
        return "-(" * pairs + "-" * (n % 2) + inner + ")" * pairs
    if style == 3:
        opened = [rng.choice(["(", "-", "+"]) for _ in range(n)]
        return "".join(opened) + inner + ")" * opened.count("(")
    # Unbalanced: a parenthesis too few or too many.
    return "(" * n + inner + ")" * max(0, n + rng.choice([-1, 1]))


def _of_length(rng: random.Random, n: int) -> str:
    """An expression of exactly n characters (n >= 1)."""
    roll = rng.randrange(4)
    if roll == 0:
        return "0" * (n - 1) + "7"
    if roll == 1 and n >= 3:
        body = "1+" * ((n - 1) // 2) + "1"
        return body + " " * (n - len(body))
    if roll == 2 and n >= 3:
        return "(" + " " * (n - 3) + "2)"
    return "-" * (n - 1) + "3"


def _at_the_magnitude_limit(rng: random.Random) -> str:
    delta = rng.choice([-2, -1, 0, 1, 2])
    sign = rng.choice(["", "-"])
    roll = rng.randrange(8)
    if roll == 0:
        return f"{sign}{LIMIT + delta}"
    if roll == 1:
        return f"{sign}{LIMIT + delta}.{_digits(rng, rng.randint(0, 3))}"
    if roll == 2:
        a = rng.randint(1, LIMIT)
        return f"{sign}{a}+{LIMIT - a + delta}"
    if roll == 3:
        a = rng.choice([2, 3, 7, 10, 1000, 31622776, rng.randint(2, 10**8)])
        return f"{LIMIT // a + delta}*{sign}{a}"
    if roll == 4:
        return f"{rng.randint(1, 1000)}/0.{'0' * rng.randint(10, 330)}{rng.randint(1, 9)}"
    if roll == 5:
        return f"{LIMIT}*{rng.randint(1, 10)}/{rng.randint(1, 10)}"
    if roll == 6:
        return f"0.{'0' * rng.randint(0, 400)}{rng.randint(1, 9)}*{rng.randint(1, 10)}"
    return f"{sign}{LIMIT + delta}/{rng.choice(['1', '1.0', '3', '0.5', '2'])}"


def _division_by_zero(rng: random.Random) -> str:
    zero = rng.choice(["0", "0.0", "-0", "-0.0", ".0", "0.", "(1-1)", "(2*0)", "(0/5)",
                       "0." + "0" * rng.randint(1, 400) + "1", "(0.5-0.5)", "000"])
    return _expression(rng, 2) + "/" + zero + rng.choice(["", "+1", "*x", " 2", ")"])


def _misplaced(rng: random.Random) -> str:
    """An operand where an operator or a ')' belongs, or an operator where an operand does."""
    a, b = _expression(rng, 2), _expression(rng, 1)
    return rng.choice([f"({a} {b})", f"{a} ({b})", f"({a}", f"{a})", f"({a}){b}",
                       f"{a}{rng.choice('+-*/')}", f"{rng.choice('*/)')}{a}", f"{a}*/{b}",
                       f"{a}()", f"(({a}) {b}"])


def _long_digits(rng: random.Random) -> str:
    n = rng.choice([rng.randint(1, 40), rng.randint(15, 17), rng.randint(300, 1200)])
    run = _digits(rng, n)
    roll = rng.randrange(4)
    if roll == 0:
        return run
    if roll == 1:
        return run[: n // 2] + "." + run[n // 2:]
    if roll == 2:
        return "0" * rng.randint(0, 990) + run[:16]
    return rng.choice(["1+", "2*", "-", "(", "1/"]) + run + rng.choice(["", ")", "/1", "+0.5"])


def _quoted(rng: random.Random, text: str) -> str:
    """How agents send input: quoted, padded."""
    if rng.random() < 0.3:
        q = rng.choice(QUOTES)
        text = q + text + q
    if rng.random() < 0.3:
        text = _space(rng) + text + _space(rng)
    return text


def _boundary_cases() -> list[str]:
    """Every limit exactly at it and one past it (and one before), plus the review's inputs."""
    rng = random.Random(SEED + 1)
    cases = []
    for n in (LENGTH - 1, LENGTH, LENGTH + 1):
        for _ in range(8):
            text = _of_length(rng, n)
            cases += [text, f"  '{text}'  ", "\u3000" * 5 + text]
    for n in (DEPTH - 1, DEPTH, DEPTH + 1):
        cases += ["(" * n + "7" + ")" * n, "-" * n + "7", "+" * n + "7", "(" * n,
                  "-(" * (n // 2) + "-" * (n % 2) + "7" + ")" * (n // 2),
                  "(" * n + "x", "(" * n + "1)" + ")" * (n - 1) + "+" + "(" * n + "1" + ")" * n]
    for sign in ("", "-"):
        for delta in (-1, 0, 1):
            cases += [f"{sign}{LIMIT + delta}", f"{sign}{LIMIT + delta}.0",
                      f"{sign}{LIMIT - 1}+{1 + delta}", f"{sign}1+{LIMIT - 1 + delta}",
                      f"10000000*{sign}{100000000 + delta}", f"{sign}{LIMIT + delta}/1",
                      f"{sign}{LIMIT}-{delta}", f"{sign}1/0.{'0' * 14}{1 + delta}"]
    # The hostile-input review: each raised OverflowError or RecursionError before.
    cases += ["9" * 400 + "/1", "(" * 334 + "1" + ")" * 334, "-" * 999 + "1",
              "1" + "0" * 400 + "+0.5", "1" + "0" * 308 + ".0*10", "9" * 999,
              "(" * 950 + "1" + ")" * 950, "-" * 950 + "1", "1/" + "9" * 400]
    # Ordinary agent input keeps working.
    cases += ["25*4", "1+2*3", "(2+3)*4", "-5+3", "10/4", "0.1+0.2", "'25 * 4'", "`7/2`",
              "3.14159*2", "100/3", "  42  ", "2*-3", "1/0", "", "   ", "''"]
    return cases


def generate_inputs(seed: int = SEED) -> list[str]:
    rng = random.Random(seed)
    makers: list[tuple[int, Callable[[], str]]] = [
        (2500, lambda: _expression(rng, rng.randint(0, 5))),
        (800, lambda: _mutate(rng, _expression(rng, rng.randint(1, 4)))),
        (500, lambda: _random_text(rng)),
        (600, lambda: _nested(rng, rng.choice([rng.randint(0, 2000), rng.randint(90, 110),
                                               rng.randint(0, 30)]))),
        (400, lambda: _long_digits(rng)),
        (600, lambda: _at_the_magnitude_limit(rng)),
        (300, lambda: _division_by_zero(rng)),
        (150, lambda: _misplaced(rng)),
        (150, lambda: _of_length(rng, rng.randint(LENGTH - 3, LENGTH + 3))),
    ]
    inputs = [_quoted(rng, make()) for count, make in makers for _ in range(count)]
    return _boundary_cases() + inputs


@pytest.fixture(scope="module")
def go_calculator() -> Callable[[list[str]], list[str]]:
    binary = go_binary(LANGCHAINGO_MODULE, "langchaingo")

    def run(inputs: list[str]) -> list[str]:
        done = subprocess.run(
            [str(binary), "--calculate"], input="".join(json.dumps(x) + "\n" for x in inputs),
            capture_output=True, text=True, encoding="utf-8", timeout=60, check=False)
        assert done.returncode == 0, done.stderr
        return [json.loads(line) for line in done.stdout.splitlines()]

    return run


def _verifier_problems(inputs: list[str], observations: list[str]) -> list[str]:
    """What the harness's verifier says about these calculator calls and observations."""
    result = ContestantResult(contract=2, contestant="test", scenario="agent.multi",
                              language="go", runtime="test")
    evidence = Evidence(result=result, params={"tools": TOOLS}, server=None, model="m")
    calls = [{"tool": TOOLS["calc"]["name"], "input": x, "observation": o}
             for x, o in zip(inputs, observations, strict=True)]
    checks.tool_observations(evidence, 0, calls)
    return evidence.problems


def _python_truth(text: str) -> str:
    """evaluate() on its own, as the verifier calls it: a value or a CalculatorError only."""
    try:
        return format_number(evaluate(text.strip().strip("'\"`")))
    except CalculatorError as exc:
        return f"Error: {exc}"


def test_python_tool_go_tool_and_verifier_agree_on_every_input(go_calculator):
    inputs = generate_inputs()
    assert len(inputs) > 5000
    go = go_calculator(inputs)
    assert len(go) == len(inputs)
    disagreements = []
    kinds: Counter[str] = Counter()
    for text, go_observation in zip(inputs, go, strict=True):
        python_observation = calculate(text)  # raises nothing, or the test fails here
        truth = _python_truth(text)
        if not python_observation == go_observation == truth:
            disagreements.append(f"{text[:80]!r}: python {python_observation[:80]!r}, "
                                 f"go {go_observation[:80]!r}, truth {truth[:80]!r}")
        kinds[_kind(truth)] += 1
    assert not disagreements, f"{len(disagreements)} disagreements:\n" + "\n".join(
        disagreements[:20])
    assert _verifier_problems(inputs, go) == []
    # The generator reaches every outcome, each many times.
    for kind in ("integer", "float", "division by zero", "expression too long",
                 "expression nested too deeply", "number too large", "result too large",
                 "unexpected character", "unexpected end of expression", "unexpected",
                 "expected ')'", "empty expression"):
        assert kinds[kind] >= 20, (kind, kinds)


def _kind(observation: str) -> str:
    if not observation.startswith("Error: "):
        return "float" if "." in observation or "e" in observation else "integer"
    message = observation.removeprefix("Error: ")
    for kind in ("division by zero", "expression too long", "expression nested too deeply",
                 "number too large", "result too large", "unexpected character",
                 "unexpected end of expression", "expected ')'", "empty expression"):
        if message.startswith(kind):
            return kind
    return "unexpected" if message.startswith("unexpected ") else message


def test_the_verifier_catches_an_observation_that_differs(go_calculator):
    inputs = ["25*4", "(" * (DEPTH + 1), str(LIMIT + 1)]
    observations = go_calculator(inputs)
    assert observations == ["100", f"Error: {arith.TOO_DEEP}", f"Error: {arith.NUMBER_TOO_LARGE}"]
    problems = _verifier_problems(inputs, ["101", observations[1], "Error: number out of range"])
    assert len(problems) == 2 and "returned '101', expected '100'" in problems[0], problems


def test_go_reads_any_input_through_the_hook(go_calculator):
    # JSON lines carry newlines, quotes, escapes and characters beyond the BMP intact.
    inputs = ["1\n+\n2", "'\"`3`\"'", "\\", "\u2028 4 \u2029", "\U0001f600", "5" + "\x00"]
    assert go_calculator(inputs) == [calculate(x) for x in inputs]


def test_the_go_baseline_calculator_agrees_too():
    """go-baseline carries its own copy of the calculator (a separate Go module): through its
    --calculate hook it gives the very observations the Python truth gives, on every input."""
    binary = go_binary(GO_BASELINE_MODULE, "go-baseline")
    inputs = generate_inputs()
    done = subprocess.run(
        [str(binary), "--calculate"], input="".join(json.dumps(x) + "\n" for x in inputs),
        capture_output=True, text=True, encoding="utf-8", timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    observations = [json.loads(line) for line in done.stdout.splitlines()]
    assert len(observations) == len(inputs)
    disagreements = [f"{text[:80]!r}: go-baseline {got[:80]!r}, truth {truth[:80]!r}"
                     for text, got in zip(inputs, observations, strict=True)
                     if got != (truth := _python_truth(text))]
    assert not disagreements, f"{len(disagreements)} disagreements:\n" + "\n".join(
        disagreements[:20])
    assert _verifier_problems(inputs, observations) == []
