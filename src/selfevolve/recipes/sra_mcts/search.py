"""SRA-MCTS's search over natural-language steps for one problem, as a generator of asks
(docs/spec/sra_mcts.md §3):

    root → [select → reflect → expand + score children → simulate from the best child → backpropagate] × rounds
         → final plan (end-gate node, else the highest V) → completion judge

Read top to bottom it is the reference algorithm with the defects of docs/spec/sra_mcts.md §7 fixed:
- the rollout asks for plain next steps with an empty history (docs/spec/sra_mcts.md §7.1);
- reflections end only on an explicit `<end>` (docs/spec/sra_mcts.md §7.2, `replies.parse_reflection`);
- the critic's steps are never truncated (docs/spec/sra_mcts.md §7.4, `prompts.fit`);
- ties start from -inf (docs/spec/sra_mcts.md §7.5, `tree.best_child`).
The step helpers (`propose_steps`, `score`) serve the ToT baseline too.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import count

from selfevolve.recipes.sra_mcts import prompts
from selfevolve.recipes.sra_mcts.calls import Ask, Context, RunTests, Search
from selfevolve.recipes.sra_mcts.replies import MIN_SCORE, MISSING_SCORE, normalise_step, parse_reflection, parse_score, parse_verdict
from selfevolve.recipes.sra_mcts.tree import (
    CONTINUE,
    END,
    Node,
    backpropagate,
    best_child,
    best_value_node,
    blend_execution,
    blend_rollout,
    is_terminal,
    select,
)
from selfevolve.tasks.code_tests import extract_code

REFLECTION_ATTEMPTS = 3  # the reference asks again after an empty reflection, three times in all


@dataclass
class SearchOutcome:
    """A finished search: the plan (the chosen node's `y`), the tree, and the round that reached the
    end gate (None: the round or time limit ended the search)."""

    plan: str
    tree: Node
    finish: int | None = None


def mcts(ctx: Context) -> Search:
    """The whole search for `ctx.problem`; returns a SearchOutcome."""
    cfg = ctx.cfg.search
    root = Node()
    start = ctx.clock()
    for round_number in count(1):
        if _out_of_budget(ctx, round_number, start):
            break
        node = select(root, cfg.exploration_constant, cfg.unvisited_bonus, ctx.rng)
        if node.V >= cfg.end_gate:
            return SearchOutcome(node.y, root, finish=round_number)
        if node.reflection is None and cfg.reflection != "none":
            node.reflection = yield from reflect(ctx, node.y, node.depth)
        if is_terminal(node):
            yield from execution_value(ctx, node)
        elif (yield from expand(ctx, node)):
            child = best_child(node, cfg.exploration_constant, cfg.unvisited_bonus, ctx.rng)
            blend_rollout(child, (yield from simulate(ctx, child)), cfg.alpha)
        backpropagate(node)
        if is_terminal(root):
            break
    return SearchOutcome(best_value_node(root).y, root)


def _out_of_budget(ctx: Context, round_number: int, start: float) -> bool:
    cfg = ctx.cfg.search
    if cfg.iteration_limit is not None:
        return round_number > cfg.iteration_limit
    return (ctx.clock() - start) * 1000 >= cfg.time_limit_ms


def reflect(ctx: Context, y: str, depth: int) -> Search:
    """END, CONTINUE or an analysis for the steps `y` (ending at `depth`)."""
    mode = ctx.cfg.search.reflection
    if "answer is" in y or END in y:
        return END
    if mode == "simple" and depth == 0:
        return CONTINUE  # the reference never asks whether an empty plan is complete
    kind = "reflect" if mode == "common" else "reflect_simple"
    build = prompts.reflect if mode == "common" else prompts.reflect_simple
    prompt = ctx.prompt(kind, lambda problem, _: build(problem, y, ctx.cfg.prompt_style))
    for _ in range(REFLECTION_ATTEMPTS):
        [reply] = yield Ask(kind, (prompt,))
        reflection = parse_reflection(reply, mode)
        if reflection is not None:
            return reflection
    return "" if mode == "common" else END  # as the reference: no analysis, or (simple) stop here


def expand(ctx: Context, node: Node) -> Search:
    """Add up to `branch` scored children to `node`; False (and the node marked <end>) when no valid step came."""
    cfg = ctx.cfg.search
    analysis = node.reflection if cfg.reflection == "common" else None
    steps = yield from propose_steps(ctx, node.y, node.depth + 1, cfg.branch, "propose", analysis, cfg.proposal_history)
    if not steps:
        node.reflection = END
        return False
    children = [c for s in steps if (c := node.add_child(s, ctx.next_order())) is not None]
    for child, value in zip(children, (yield from score(ctx, [c.y for c in children]))):
        child.V = value
    node.fully_expanded = True
    return True


def simulate(ctx: Context, child: Node) -> Search:
    """The rollout value of a new child (docs/spec/sra_mcts.md §3.5): its own V when it is terminal, else the best score
    seen over `roll_forward_steps` steps of `roll_branch` plain proposals each (starting at 0)."""
    cfg = ctx.cfg.search
    if cfg.reflection != "none":
        child.reflection = yield from reflect(ctx, child.y, child.depth)
    if is_terminal(child):
        yield from execution_value(ctx, child)
        return child.V
    best_seen = MIN_SCORE
    y, depth = child.y, child.depth
    for step in range(cfg.roll_forward_steps):
        steps = yield from propose_steps(ctx, y, depth + 1, cfg.roll_branch, "propose")  # empty history (docs/spec/sra_mcts.md §7.1)
        if not steps:
            break
        if cfg.roll_policy == "random":
            steps = [ctx.rng.choice(steps)]
        candidates = [y + s for s in steps]
        values = yield from score(ctx, candidates)
        best = max(range(len(candidates)), key=values.__getitem__)  # first of the best
        y, depth = candidates[best], depth + 1
        best_seen = max(best_seen, values[best])
        if step + 1 < cfg.roll_forward_steps and cfg.reflection != "none":
            if (yield from reflect(ctx, y, depth)) == END:
                break
    return best_seen


def propose_steps(ctx: Context, y: str, depth: int, wanted: int, kind: str, analysis: str | None = None,
                  history: bool = False) -> Search:
    """Up to `wanted` normalised `Step {depth}: ...` proposals continuing `y`, each asked again after an
    empty, invalid or repeated reply (`proposal_attempts` tries in all). Without `history` all are asked
    at once; with it one after the other, each shown the earlier ones ("History i:")."""
    attempts, style = ctx.cfg.search.proposal_attempts, ctx.cfg.prompt_style
    if history:
        found: list[str] = []
        for _ in range(wanted):
            earlier = [s.split(": ", 1)[1] for s in found]
            prompt = ctx.prompt(kind, lambda problem, _: prompts.propose(problem, y, style, analysis, earlier))
            for _ in range(attempts):
                [reply] = yield Ask(kind, (prompt,))
                if step := normalise_step(reply, depth, y):
                    found.append(step)
                    break
        return found
    prompt = ctx.prompt(kind, lambda problem, _: prompts.propose(problem, y, style, analysis))
    steps: list[str | None] = [None] * wanted
    for _ in range(attempts):
        missing = [i for i, s in enumerate(steps) if s is None]
        if not missing:
            break
        replies = yield Ask(kind, (prompt,) * len(missing))
        for i, reply in zip(missing, replies):
            steps[i] = normalise_step(reply, depth, y)
    return [s for s in steps if s is not None]


def score(ctx: Context, ys: list[str]) -> Search:
    """The critic's score of each partial plan, cached by exact `y` per problem."""
    new = [y for y in dict.fromkeys(ys) if y not in ctx.scores]
    if new:
        style, shots = ctx.cfg.prompt_style, ctx.cfg.search.critic_few_shots
        asks = tuple(ctx.prompt("score", lambda problem, n, y=y: prompts.critic(problem, y, style, n), shots) for y in new)
        for y, reply in zip(new, (yield Ask("score", asks))):
            value = parse_score(reply)
            ctx.critic_unscored += value is None
            ctx.scores[y] = MISSING_SCORE if value is None else value
    return [ctx.scores[y] for y in ys]


def execution_value(ctx: Context, node: Node) -> Search:
    """With exec_weight > 0 and tests: translate the terminal node's plan, run the tests, blend the
    pass rate into its V (once per node)."""
    weight, tests = ctx.cfg.search.exec_weight, ctx.problem.tests
    if weight == 0 or not tests or node.pass_rate is not None or not node.y.strip():
        return
    prompt = ctx.prompt("translate", lambda problem, _: prompts.translate(problem, node.y, ctx.cfg.prompt_style))
    [answer] = yield Ask("translate", (prompt,))
    verification = yield RunTests(extract_code(answer), tests)
    blend_execution(node, verification.pass_rate, weight)


def judge_plan(ctx: Context, plan: str) -> Search:
    """The completion judge's verdict (`accurate`); unsolved without asking when there is no Step 2."""
    if "Step 2:" not in plan:
        return False
    prompt = ctx.prompt("judge", lambda problem, _: prompts.judge(problem, plan, ctx.cfg.prompt_style))
    [reply] = yield Ask("judge", (prompt,))
    return parse_verdict(reply)
