"""tiny-coder's held-out figures: solver accuracy per task type and proposer validity, via the sandbox."""

from __future__ import annotations

from selfevolve.eval.code_io import HELDOUT_TINY, load_tasks, sample_answers, score_answers, summarize
from selfevolve.llm.types import SamplingParams
from selfevolve.tasks.code_io import CodeIOConfig, ParseError, TaskType, parse_proposal, proposer_prompt, solver_prompt, validate_proposals

SOLVER_TOKENS = 256  # the AZR tiny preset's budgets (longest corpus completions: answers 235, proposals 343)
PROPOSER_TOKENS = 352


def evaluate_coder(generator) -> dict[str, float]:
    """Greedy and T=1 solver accuracy on the shipped held-out set, and the share of valid proposals."""
    from selfevolve.sandbox import Sandbox

    tasks = load_tasks(HELDOUT_TINY)
    fits = sum(len(generator.encode(solver_prompt(t, style="compact"))) < generator.context_length for t in tasks.values())
    scores: dict[str, float] = {"heldout_tasks": len(tasks), "heldout_prompts_fitting_context": fits}
    with Sandbox(CodeIOConfig().sandbox_config()) as sandbox:
        for label, temperature in (("greedy", 0.0), ("t1", 1.0)):
            answers = sample_answers(tasks, _generate_fn(generator, SOLVER_TOKENS), n=1, temperature=temperature)
            for kind, summary in summarize(score_answers(tasks, answers, sandbox)).items():
                scores[f"solver_{kind}_accuracy_{label}"] = summary.accuracy
        scores.update(_proposer_validity(generator, list(tasks.values()), sandbox))
    return scores


def _generate_fn(generator, max_new_tokens: int):
    """Prompts that do not fit the context get empty answers, so they count as failures."""

    def generate(prompts: list[str], n: int, temperature: float) -> list[list[str]]:
        params = SamplingParams(n=n, max_new_tokens=max_new_tokens, temperature=temperature, stop=("</answer>",), seed=0)
        fits = [i for i, p in enumerate(prompts) if len(generator.encode(p)) < generator.context_length]
        outs = generator.generate([prompts[i] for i in fits], params)
        texts = [[""] * n for _ in prompts]
        for i, cs in zip(fits, outs):
            texts[i] = [c.text + "</answer>" for c in cs]
        return texts

    return generate


def _proposer_validity(generator, tasks, sandbox) -> dict[str, float]:
    """Proposals for each task type, one reference each, sampled at T=1 and greedy: share that parse and run."""
    scores = {}
    for task_type in TaskType:
        refs = [t for t in tasks if t.type is task_type][:50]
        prompts = [proposer_prompt(task_type, [r], style="compact") for r in refs]
        for label, temperature in (("t1", 1.0), ("greedy", 0.0)):
            completions = _generate_fn(generator, PROPOSER_TOKENS)(prompts, 1, temperature)
            scores.update(_score_proposals(task_type, refs, [c[0] for c in completions], sandbox, label))
    return scores


def _score_proposals(task_type, refs, completions, sandbox, label) -> dict[str, float]:
    proposals, their_refs = [], []
    for ref, text in zip(refs, completions):
        try:
            program = ref.program if task_type is TaskType.INDUCTION else ""
            proposals.append(parse_proposal(text, task_type, program=program, imports=ref.imports))
            their_refs.append(ref)
        except ParseError:
            continue
    valid = validate_proposals(proposals, sandbox) if proposals else []
    name = task_type.long_name
    scores = {f"proposer_{name}_valid_{label}": sum(v.valid for v in valid) / len(refs)}
    if task_type is not TaskType.INDUCTION:  # a valid proposal that is not the reference copied
        novel = sum(v.valid and p.program != r.program for v, p, r in zip(valid, proposals, their_refs))
        scores[f"proposer_{name}_valid_and_new_{label}"] = novel / len(refs)
    return scores
