"""The agent tools: a real arithmetic parser (never eval), word length, per-run counters."""

import operator
import random
import sys
import threading

import pytest

from chainmark import arith
from chainmark.arith import CalculatorError, evaluate
from chainmark.contestants.tools import Counter, calculate, word_length

OPS = {"+": operator.add, "-": operator.sub, "*": operator.mul, "/": operator.truediv}


def generate(rng: random.Random, depth: int) -> tuple[str, object]:
    """A random expression and its value computed with Python's own operators."""
    if depth == 0 or rng.random() < 0.3:
        number = rng.choice([rng.randint(0, 50), round(rng.uniform(0, 20), 2)])
        return str(number), number
    roll = rng.random()
    if roll < 0.15:
        text, value = generate(rng, depth - 1)
        return f"({text})", value
    if roll < 0.25:
        text, value = generate(rng, depth - 1)
        return f"-({text})", value if value is ZeroDivisionError else -value
    symbol = rng.choice(list(OPS))
    left_text, left = generate(rng, depth - 1)
    right_text, right = generate(rng, depth - 1)
    # Parenthesise both sides so the string's structure is exactly the tree's.
    text = f"({left_text}) {symbol} ({right_text})"
    if ZeroDivisionError in (left, right):
        return text, ZeroDivisionError
    try:
        return text, OPS[symbol](left, right)
    except ZeroDivisionError:
        return text, ZeroDivisionError


@pytest.mark.parametrize("seed", range(300))
def test_agrees_with_python_arithmetic(seed):
    text, expected = generate(random.Random(seed), depth=4)
    if expected is ZeroDivisionError:
        with pytest.raises(CalculatorError, match="division by zero"):
            evaluate(text)
        assert calculate(text) == "Error: division by zero"
    else:
        assert evaluate(text) == expected


@pytest.mark.parametrize(
    ("expression", "answer"),
    [
        ("25*4", "100"), ("'25 * 4'", "100"), ("1+2*3", "7"), ("(1+2)*3", "9"), ("7/2", "3.5"),
        ("10/4*2", "5"), ("2-3-4", "-5"), ("-3*-3", "9"), ("  12  ", "12"),
        ("0.1+0.2", repr(0.1 + 0.2)), ("8/(3-1)", "4"),
    ],
)
def test_known_answers(expression, answer):
    assert calculate(expression) == answer


@pytest.mark.parametrize(
    "junk",
    ["", "abc", "1+", "(1+2", "1+2)", "2**3", "__import__('os')", "1;2", "1 2", "3 % 2",
     "x" * 2000, "()", "*5"],
)
def test_junk_is_an_error_string_never_an_exception(junk):
    result = calculate(junk)
    assert result.startswith("Error:"), result


def test_deep_nesting_is_an_error_not_a_crash():
    assert calculate("(" * 400 + "1" + ")" * 400) == f"Error: {arith.TOO_DEEP}"


TOO_LONG = "Error: expression too long (max 1000 characters)"
TOO_DEEP = "Error: expression nested too deeply (max 100 parentheses and signs)"
NUMBER_TOO_LARGE = "Error: number too large (max 1e15 in absolute value)"
RESULT_TOO_LARGE = "Error: result too large (max 1e15 in absolute value)"


def _nested(n: int) -> str:
    return "(" * n + "7" + ")" * n


def test_the_limits_are_the_documented_ones():
    assert (arith.MAX_EXPRESSION_CHARS, arith.MAX_DEPTH, arith.MAX_MAGNITUDE) == (
        1000, 100, 10**15)
    for message in (TOO_LONG, TOO_DEEP, NUMBER_TOO_LARGE, RESULT_TOO_LARGE):
        assert message.removeprefix("Error: ") in arith.__doc__


@pytest.mark.parametrize(
    ("expression", "answer"),
    [
        # Length: 1000 characters of the cleaned input (spaces and quotes around not counted).
        ("1+" * 499 + "10", "509"),
        ("1+" * 499 + "100", TOO_LONG),
        ("0" * 999 + "7", "7"),
        ("0" * 1000 + "7", TOO_LONG),
        ("  '" + "0" * 999 + "7'  ", "7"),
        (" " * 1000 + "x", "Error: unexpected character 'x'"),
        ("\u00e9" * 1001, TOO_LONG),
        ("(" + "x" * 1000, TOO_LONG),
        # Nesting: open parentheses and unary signs together, at most 100.
        (_nested(100), "7"),
        (_nested(101), TOO_DEEP),
        ("-" * 100 + "7", "7"),
        ("-" * 101 + "7", TOO_DEEP),
        ("-" * 99 + "7", "-7"),
        ("-(" * 50 + "7" + ")" * 50, "7"),
        ("-(" * 50 + "+7" + ")" * 50, TOO_DEEP),
        ("(1)+" * 200 + "1", "201"),
        (_nested(100) + "*" + _nested(100), "49"),
        ("(" * 101, TOO_DEEP),
        ("(" * 100, "Error: unexpected end of expression"),
        # Magnitude: every number written and every result, |x| <= 1e15.
        ("1000000000000000", "1000000000000000"),
        ("-1000000000000000", "-1000000000000000"),
        ("1000000000000001", NUMBER_TOO_LARGE),
        ("-1000000000000001", NUMBER_TOO_LARGE),
        ("0001000000000000000", "1000000000000000"),
        ("1000000000000000.0", "1000000000000000.0"),
        ("1000000000000000.2", NUMBER_TOO_LARGE),
        ("999999999999999.9", "999999999999999.9"),
        ("999999999999999+1", "1000000000000000"),
        ("999999999999999+2", RESULT_TOO_LARGE),
        ("-999999999999999-1", "-1000000000000000"),
        ("-999999999999999-2", RESULT_TOO_LARGE),
        ("100000000*10000000", "1000000000000000"),
        ("100000000*10000001", RESULT_TOO_LARGE),
        ("1000000000000000*10/10", RESULT_TOO_LARGE),
        ("1000000000000000/0.5", RESULT_TOO_LARGE),
        ("1000000000000000/1", "1000000000000000.0"),
        ("999999999999999/1", "999999999999999"),
        ("1/0." + "0" * 322 + "5", RESULT_TOO_LARGE),
        ("1/0." + "0" * 400 + "1", "Error: division by zero"),
        ("0." + "0" * 400 + "1", "0"),
        # The first problem met, left to right, wins.
        ("1/0+1000000000000001", "Error: division by zero"),
        ("1000000000000001/0", NUMBER_TOO_LARGE),
        ("1/0 2", "Error: division by zero"),
        ("(1/0", "Error: division by zero"),
        ("1000000000000000*2 3", RESULT_TOO_LARGE),
        (_nested(101) + "x", "Error: unexpected character 'x'"),
        ("1000000000000001" + _nested(101), NUMBER_TOO_LARGE),
        (_nested(101) + "1000000000000001", TOO_DEEP),
        # Only ASCII digits, and characters quoted as ascii() does: no Unicode-version drift.
        ("\u0661\u0662+1", "Error: unexpected character '\\u0661'"),
        ("1+\u00e9", "Error: unexpected character '\\xe9'"),
        ("\U00011f51+1", "Error: unexpected character '\\U00011f51'"),
    ],
)
def test_limits_at_and_one_past_the_boundary(expression, answer):
    assert calculate(expression) == answer


@pytest.mark.parametrize(
    "expression",
    # The hostile-input review: OverflowError and RecursionError escaped before.
    ["9" * 400 + "/1", "(" * 334 + "1" + ")" * 334, "-" * 999 + "1", "1" + "0" * 400 + "+0.5",
     "1" + "0" * 308 + ".0*10", "9" * 999, "+" * 999 + "1", "(-" * 499 + "1" + ")" * 499],
)
def test_hostile_inputs_raise_only_calculator_error(expression):
    with pytest.raises(CalculatorError):
        evaluate(expression)
    assert calculate(expression).startswith("Error: ")


def _stack_depth() -> int:
    frame, depth = sys._getframe(), 0
    while frame is not None:
        frame, depth = frame.f_back, depth + 1
    return depth


def _with_frames_left(frames: int, fn):
    """fn() called with only `frames` frames left below Python's recursion limit."""
    def descend(n: int):
        return fn() if n == 0 else descend(n - 1)
    return descend(sys.getrecursionlimit() - _stack_depth() - frames)


@pytest.mark.parametrize("expression", [_nested(100), "-" * 100 + "7", _nested(101), "1+2*3",
                                        "-(" * 50 + "7" + ")" * 50])
def test_results_do_not_depend_on_the_callers_stack_depth(expression):
    expected = calculate(expression)
    # 20 frames left: far too few for a recursive parser (3 a parenthesis), plenty for this one.
    assert _with_frames_left(20, lambda: calculate(expression)) == expected


def test_non_text_input_is_an_error_string():
    assert calculate(25) == "25"  # type: ignore[arg-type]
    with pytest.raises(CalculatorError):
        evaluate(None)  # type: ignore[arg-type]


def test_word_length_trims_spaces_and_quotes():
    assert word_length("phenomenon") == "10"
    assert word_length(" 'knowledge' \n") == "9"


def test_counters_are_per_run_and_thread_safe():
    first, second = Counter(), Counter()
    threads = [threading.Thread(target=lambda: [first.increment() for _ in range(1000)])
               for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert first.value == 4000
    assert second.increment() == "1"
