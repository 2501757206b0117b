"""The agent tools: a real arithmetic parser (never eval), word length, per-run counters."""

import operator
import random
import threading

import pytest

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
    assert calculate("(" * 600 + "1" + ")" * 600).startswith("Error")


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
