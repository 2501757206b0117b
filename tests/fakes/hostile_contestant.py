"""A contestant that lies or breaks the contract in one chosen way (tests only).

Invoked as ``python hostile_contestant.py MODE REQUEST.json RESULT.json``; it makes no LLM
call at all, so every mode that "passes" would be a harness bug.
"""

from __future__ import annotations

import json
import sys
import time


def operations(n: int, elapsed_ns: int | None = None, **output: object) -> list[dict]:
    ops = []
    for _ in range(n):
        start = time.time_ns()
        time.sleep(0.002)
        end = time.time_ns()
        ops.append({"name": "invoke", "start_ns": start, "end_ns": end,
                    "elapsed_ns": end - start if elapsed_ns is None else elapsed_ns,
                    "ok": True, "output": dict(output)})
    return ops


def main() -> None:
    mode, request_path, result_path = sys.argv[1:4]
    with open(request_path, encoding="utf-8") as fh:
        request = json.load(fh)
    n = request["params"].get("iterations", 1)
    result: dict = {"contract": 2, "contestant": "hostile", "scenario": request["scenario"],
                    "language": "python", "runtime": "fake"}
    begin = time.time_ns()
    if mode == "wrong-type":
        result["operations"] = operations(n, text="Blue.", ttft_ns="x")
        result["operations"][0]["output"]["text"] = 42
    elif mode in ("no-window", "no-requests"):
        result["operations"] = operations(n, text="Blue.")
    elif mode == "fast-clock":
        result["operations"] = operations(n, elapsed_ns=1000, text="Blue.")
    if mode in ("no-requests", "fast-clock", "wrong-type"):
        result.update(measure_start_ns=begin, measure_end_ns=time.time_ns())
    with open(result_path, "w", encoding="utf-8") as fh:
        if mode == "deep":
            fh.write("[" * 200_000 + "]" * 200_000)
        elif mode == "huge":
            fh.write('{"pad": "' + "x" * (70 * 2**20) + '"}')
        elif mode == "nan":
            fh.write(json.dumps({**result, "setup_s": float("nan"),
                                 "operations": operations(n, text="Blue.")}))
        elif mode == "not-utf8":
            fh.write("")
        else:
            json.dump(result, fh)
    if mode == "not-utf8":
        with open(result_path, "wb") as fh:
            fh.write(b'{"contract": 2, "contestant": "\xff\xfe"}')


if __name__ == "__main__":
    main()
