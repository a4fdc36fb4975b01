"""Math answers graded with `math-verify`, in a separate process that is killed when it runs too long.

math-verify turns LaTeX into SymPy and compares symbolically; some answers make SymPy compute for
ever (``9^{9^{9^{9}}}`` is an integer with more digits than the universe has atoms), often in C code no in-process
alarm can interrupt. So each comparison runs in a worker process; when it has not answered within
`timeout` seconds, the worker is killed (SIGKILL), the answer counts as wrong, and a fresh worker
takes the next one.
"""

from __future__ import annotations

import json
import os
import select
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

_SRC = str(Path(__file__).resolve().parents[2])  # the directory holding the `selfevolve` package
_WORKER = f"import sys; sys.path.insert(0, {_SRC!r}); from selfevolve.bench.mathgrade import serve; serve()"


def verify_answer(gold: str, answer: str) -> bool:
    """math-verify's verdict, in this process (no timeout): does `answer` equal `gold`?"""
    from math_verify import parse, verify

    if not answer.strip():
        return False
    gold_parsed = parse(_as_latex(gold))
    answer_parsed = parse(_as_latex(answer))
    if not gold_parsed or not answer_parsed:
        return False
    return bool(verify(gold_parsed, answer_parsed))


def _as_latex(text: str) -> str:
    """math-verify extracts from LaTeX environments: a bare answer is put in $...$; a boxed one or one
    already in math delimiters is kept as it is."""
    marked = ("\\boxed", "\\fbox", "\\[", "\\(", "$")
    return text if any(m in text for m in marked) else f"${text}$"


def serve() -> None:
    """Worker loop over stdin/stdout: one JSON [gold, answer] per line in, "1" or "0" per line out;
    an exception is a wrong answer."""
    for line in sys.stdin:
        try:
            gold, answer = json.loads(line)
            ok = verify_answer(gold, answer)
        except Exception:  # noqa: BLE001 - unparsable answers are wrong answers
            ok = False
        sys.stdout.write("1\n" if ok else "0\n")
        sys.stdout.flush()


class MathGrader:
    """Grades (gold, answer) pairs one at a time in a killable worker process."""

    def __init__(self, timeout: float = 10.0, startup_timeout: float = 120.0):
        if timeout <= 0:
            raise ValueError(f"the math grading timeout must be > 0 seconds, got {timeout}")
        self.timeout, self.startup_timeout = timeout, startup_timeout
        self.timeouts = 0  # answers killed for running past `timeout`
        self._proc: subprocess.Popen | None = None

    def __enter__(self) -> MathGrader:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def grade(self, gold: str, answer: str) -> bool:
        if self._proc is None:
            self._start()
        verdict = self._ask(gold, answer, self.timeout)
        if verdict is None:
            self.timeouts += 1
            self._stop()
            return False
        return verdict

    def grade_all(self, pairs: Sequence[tuple[str, str]]) -> list[bool]:
        return [self.grade(gold, answer) for gold, answer in pairs]

    def close(self) -> None:
        self._stop()

    def _ask(self, gold: str, answer: str, timeout: float) -> bool | None:
        """The worker's verdict, or None when it gave none within `timeout` seconds."""
        self._proc.stdin.write(json.dumps([gold, answer]) + "\n")
        self._proc.stdin.flush()
        ready, _, _ = select.select([self._proc.stdout], [], [], timeout)
        line = self._proc.stdout.readline() if ready else ""
        return None if line.strip() not in ("0", "1") else line.strip() == "1"

    def _start(self) -> None:
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        self._proc = subprocess.Popen([sys.executable, "-c", _WORKER], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                      stderr=subprocess.DEVNULL, text=True, env=env)
        # a first, trivial answer pays for importing sympy and math-verify outside any answer's timeout
        if self._ask("1", "1", self.startup_timeout) is not True:
            self._stop()
            raise RuntimeError(f"the math grader process did not start within {self.startup_timeout:g} s; "
                               f"check that math-verify is installed (pip install 'selfevolve[bench]')")

    def _stop(self) -> None:
        if self._proc is None:
            return
        self._proc.kill()
        self._proc.wait()
        for stream in (self._proc.stdin, self._proc.stdout):
            stream.close()
        self._proc = None
