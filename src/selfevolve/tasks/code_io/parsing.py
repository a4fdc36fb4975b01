"""Parse proposer and solver completions (docs/spec/azr.md §5.1-§5.4 and §6) without running anything.

Everything here is pure text and AST work: nothing a model wrote is evaluated in this process.
Failures raise `ParseError` whose `reason` is a short machine-readable code.
"""

from __future__ import annotations

import ast
import io
import re
import tokenize

from selfevolve.sandbox.static import parse_untrusted
from selfevolve.tasks.code_io.types import Proposal, TaskType

_ANSWER_RE = re.compile(r"<answer>(.*?)</answer>", re.DOTALL)
_THINK_RE = re.compile(r"^\s*(?:<think>)?(.*?)</think>", re.DOTALL)
_FENCE_RE = re.compile(r"```[ \t]*([A-Za-z_][\w\-]*)?[ \t]*\n?(.*?)```", re.DOTALL)
_DATA_TAGS = {"input", "output", "message"}
_CODE_TAGS = {"", "python", "py", "python3"}


class ParseError(ValueError):
    """A completion that does not have the shape the spec requires."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


# ---------------------------------------------------------------- generic pieces


def last_answer(text: str) -> str | None:
    """The text inside the last complete `<answer>...</answer>`, or None."""
    found = _ANSWER_RE.findall(text)
    return found[-1] if found else None


def leading_thought(text: str) -> str:
    """The reasoning a completion opens with, up to its first `</think>` (the prompt usually
    pre-fills the opening `<think>`); "" if it does not open with one. The proposer's thought."""
    m = _THINK_RE.match(text)
    return m.group(1).strip() if m else ""


def fenced_blocks(text: str) -> list[tuple[str, str]]:
    """All fenced blocks as (lower-cased tag, body) in order of appearance."""
    return [((tag or "").lower(), body.strip("\n")) for tag, body in _FENCE_RE.findall(text)]


def _tagged(blocks: list[tuple[str, str]], tag: str) -> list[str]:
    return [body for t, body in blocks if t == tag]


def _code_blocks(blocks: list[tuple[str, str]]) -> list[str]:
    return [body for t, body in blocks if t in _CODE_TAGS]


def _marker_line(text: str, marker: str) -> str | None:
    """The text after a `# Input:`-style marker on its line (last occurrence)."""
    found = re.findall(rf"#\s*{marker}\s*:[ \t]*(.+)", text, flags=re.IGNORECASE)
    return found[-1].strip() if found else None


# ---------------------------------------------------------------- programs


def parse_program(program: str) -> ast.Module:
    try:
        return parse_untrusted(program)
    except (SyntaxError, ValueError, RecursionError, MemoryError) as e:
        raise ParseError("syntax", f"{type(e).__name__}: {e}") from None


def top_level_functions(tree: ast.Module) -> list[ast.FunctionDef | ast.AsyncFunctionDef]:
    return [n for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]


def _bound_names(tree: ast.AST) -> set[str]:
    """Every identifier the program uses or binds (names, args, defs, classes, import aliases)."""
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            names.add(node.id)
        elif isinstance(node, ast.arg):
            names.add(node.arg)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.alias):
            names.add((node.asname or node.name).split(".")[0])
    return names


def rename_entry(program: str, entry: str = "f") -> str:
    """Rename the first top-level function to `entry` everywhere it is referenced (recursive calls
    included), keeping the rest of the text (comments, formatting) untouched.

    Raises ParseError('no_function') without a top-level def and ParseError('name_conflict') when
    the program already uses `entry` for something else.
    """
    tree = parse_program(program)
    funcs = top_level_functions(tree)
    if not funcs:
        raise ParseError("no_function", "the code defines no top-level function")
    first = funcs[0]
    old = first.name
    if old == entry:
        return program
    if entry in _bound_names(tree):
        raise ParseError("name_conflict", f"the entry function is {old!r} but {entry!r} is already used")
    lines = program.splitlines(keepends=True)
    spots = {_char_pos(lines, n.lineno, n.col_offset) for n in ast.walk(tree) if isinstance(n, ast.Name) and n.id == old}
    return _replace_tokens(program, old, entry, spots, first.lineno)


def _char_pos(lines: list[str], lineno: int, byte_col: int) -> tuple[int, int]:
    """AST columns are UTF-8 byte offsets; tokenize columns are characters."""
    line = lines[lineno - 1].encode("utf-8")
    return lineno, len(line[:byte_col].decode("utf-8", errors="replace"))


def _replace_tokens(program: str, old: str, new: str, spots: set[tuple[int, int]], def_line: int) -> str:
    edits: list[tuple[int, int]] = []
    prev = None
    try:
        for tok in tokenize.generate_tokens(io.StringIO(program).readline):
            if tok.type == tokenize.NAME and tok.string == old:
                is_def = prev is not None and prev.string == "def" and tok.start[0] == def_line
                if is_def or tok.start in spots:
                    edits.append(tok.start)
            if tok.type not in (tokenize.NL, tokenize.COMMENT, tokenize.INDENT, tokenize.DEDENT):
                prev = tok
    except (tokenize.TokenError, SyntaxError) as e:
        raise ParseError("syntax", str(e)) from None
    lines = program.splitlines(keepends=True)
    for row, col in sorted(edits, reverse=True):
        line = lines[row - 1]
        lines[row - 1] = line[:col] + new + line[col + len(old) :]
    return "".join(lines)


def collect_imports(program: str) -> tuple[str, ...]:
    """Top-level import statements, as source lines, in order (prepended when the program runs)."""
    tree = parse_program(program)
    out = []
    for node in tree.body:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            seg = ast.get_source_segment(program, node)
            out.append(seg if seg is not None else ast.unparse(node))
    return tuple(out)


def strip_comments(program: str) -> str:
    """Drop `#` comments (used when seeding, docs/spec/azr.md §3); strings that contain `#` are untouched."""
    lines = program.splitlines(keepends=True)
    cuts: list[tuple[int, int]] = []
    try:
        for tok in tokenize.generate_tokens(io.StringIO(program).readline):
            if tok.type == tokenize.COMMENT:
                cuts.append(tok.start)
    except (tokenize.TokenError, SyntaxError) as e:
        raise ParseError("syntax", str(e)) from None
    for row, col in sorted(cuts, reverse=True):
        line = lines[row - 1]
        ending = "\n" if line.endswith("\n") else ""
        lines[row - 1] = line[:col].rstrip() + ending
    kept = [ln for ln in lines if ln.strip()]
    return "".join(kept).rstrip("\n")


def strip_after_entry(program: str, entry: str = "f") -> str:
    """Drop top-level statements after the entry function (test calls, prints), keeping any later
    defs, classes and imports (docs/spec/azr.md §3: code after the final top-level `return` is removed)."""
    tree = parse_program(program)
    lines = program.splitlines(keepends=True)
    entry_idx = next((i for i, n in enumerate(tree.body) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) and n.name == entry), None)
    if entry_idx is None:
        return program
    keep_types = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Import, ast.ImportFrom)
    drop = [n for n in tree.body[entry_idx + 1 :] if not isinstance(n, keep_types)]
    for node in sorted(drop, key=lambda n: n.lineno, reverse=True):
        del lines[node.lineno - 1 : node.end_lineno]
    return "".join(lines).rstrip("\n")


# ---------------------------------------------------------------- proposer


def parse_proposal(
    text: str,
    task_type: TaskType | str,
    *,
    program: str = "",
    imports: tuple[str, ...] = (),
    num_inputs: int = 10,
) -> Proposal:
    """Parse a proposer completion (docs/spec/azr.md §5.1-§5.4).

    Abduction/deduction: the program is the first fenced code block of the last `<answer>` (never a
    block tagged `input`), its first top-level def renamed to `f`; the input is the first `input`
    block (fallback `# Input:`). Induction: `program`/`imports` are the existing program the prompt
    showed; the answer must hold at least `num_inputs` `input` blocks (the last `num_inputs` are kept)
    and a message (`message` block, `<message>` tags or `# Message:`).
    """
    task_type = TaskType.parse(task_type)
    answer = last_answer(text)
    if answer is None:
        raise ParseError("no_answer", "no <answer>...</answer> in the completion")
    blocks = fenced_blocks(answer)
    if task_type is TaskType.INDUCTION:
        return _parse_induction_proposal(answer, blocks, program, imports, num_inputs, leading_thought(text))
    codes = _code_blocks(blocks)
    if not codes:
        raise ParseError("no_code", "the answer has no fenced python block")
    code = rename_entry(codes[0])
    given = _tagged(blocks, "input")
    inp = given[0] if given else _marker_line(answer, "input")
    if inp is None or not inp.strip():
        raise ParseError("no_input", "the answer has no ```input block (or '# Input:' line)")
    return Proposal(task_type, code, (inp.strip(),), imports=collect_imports(code), thought=leading_thought(text))


def _parse_induction_proposal(answer, blocks, program, imports, num_inputs, thought) -> Proposal:
    if not program:
        raise ValueError("parse_proposal(type=induction) needs program= (the snippet shown in the prompt)")
    inputs = [b.strip() for b in _tagged(blocks, "input") if b.strip()]
    if len(inputs) < num_inputs:
        raise ParseError("too_few_inputs", f"{len(inputs)} ```input blocks, need {num_inputs}")
    message = _message(answer, blocks)
    if not message:
        raise ParseError("no_message", "the answer has no ```message block, <message> tag or '# Message:' line")
    return Proposal(TaskType.INDUCTION, program, tuple(inputs[-num_inputs:]), message=message, imports=tuple(imports), thought=thought)


def _message(answer: str, blocks: list[tuple[str, str]]) -> str:
    tagged = _tagged(blocks, "message")
    if tagged:
        return tagged[0].strip()
    m = re.search(r"<message>(.*?)</message>", answer, re.DOTALL)
    if m:
        return m.group(1).strip()
    m = re.search(r"#\s*message\s*:[ \t]*(.*)", answer, re.DOTALL | re.IGNORECASE)
    return m.group(1).strip() if m else ""


# ---------------------------------------------------------------- solver


def parse_solver_answer(text: str, task_type: TaskType | str) -> str:
    """The solver's answer text (docs/spec/azr.md §6): an argument list (abduction), an output literal
    (deduction) or a program defining `f` (induction). Not yet checked for being a literal."""
    task_type = TaskType.parse(task_type)
    answer = last_answer(text)
    if answer is None:
        raise ParseError("no_answer", "no <answer>...</answer> in the completion")
    if task_type is TaskType.INDUCTION:
        return _solver_program(answer)
    kind = "input" if task_type is TaskType.ABDUCTION else "output"
    found = _solver_value(answer, kind)
    if not found:
        raise ParseError("empty_answer", f"the answer holds no {kind}")
    return found


def _solver_value(answer: str, kind: str) -> str:
    tagged = _tagged(fenced_blocks(answer), kind)
    if tagged:
        return tagged[-1].strip()
    for candidate in (
        _marker_line(answer, kind),
        _call_form(answer, kind),
        _xml_form(answer, kind),
        _sentence_form(answer, kind),
        _untagged_fence(answer),
    ):
        if candidate:
            return candidate
    return answer.strip()


def _call_form(answer: str, kind: str) -> str | None:
    m = re.fullmatch(rf"\s*{kind}\((.*)\)\s*", answer, re.DOTALL)
    return m.group(1).strip() if m else None


def _xml_form(answer: str, kind: str) -> str | None:
    found = re.findall(rf"<{kind}>(.*?)</{kind}>", answer, re.DOTALL)
    return found[-1].strip() if found else None


def _sentence_form(answer: str, kind: str) -> str | None:
    found = re.findall(rf"the {kind} is:?[ \t]*(.+)", answer, re.IGNORECASE)
    return found[-1].strip().rstrip(".").strip() if found else None


def _untagged_fence(answer: str) -> str | None:
    bodies = _tagged(fenced_blocks(answer), "")
    return bodies[-1].strip() if bodies else None


def _solver_program(answer: str) -> str:
    codes = _code_blocks(fenced_blocks(answer))
    if not codes:
        raise ParseError("no_code", "the answer has no fenced python block")
    program = codes[-1]
    tree = parse_program(program)
    if not any(fn.name == "f" for fn in top_level_functions(tree)):
        raise ParseError("no_entry", "the program does not define a top-level function `f`")
    return program
