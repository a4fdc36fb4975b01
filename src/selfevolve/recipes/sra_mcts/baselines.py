"""The paper's baselines (docs/spec/sra_mcts.md §5), as searches like `search.mcts`.

* ToT: depth-first over steps: `branch` proposals per node, each scored by the same critic (with its
  prompt formatted, unlike the reference's literal `{problem}`: docs/spec/sra_mcts.md §7, defect 5); the first proposal
  scored >= end_gate is the plan; otherwise descend into the `keep` best children in order, down to
  `max_depth`; if nothing reaches the gate, the node of highest V in the tree.
* CoT: one answer with analysis and code; there is no separate plan.
"""

from __future__ import annotations

from selfevolve.recipes.sra_mcts import prompts
from selfevolve.recipes.sra_mcts.calls import Ask, Context, Search
from selfevolve.recipes.sra_mcts.search import SearchOutcome, propose_steps, score
from selfevolve.recipes.sra_mcts.tree import Node, best_value_node


def tot(ctx: Context) -> Search:
    """The ToT plan for `ctx.problem`; returns a SearchOutcome (finish = depth of the gate node)."""
    root = Node()
    found = yield from _depth_first(ctx, root)
    if found is not None:
        return SearchOutcome(found.y, root, finish=found.depth)
    return SearchOutcome(best_value_node(root).y, root)


def _depth_first(ctx: Context, node: Node) -> Search:
    cfg = ctx.cfg.tot
    if node.depth >= cfg.max_depth:
        return None
    steps = yield from propose_steps(ctx, node.y, node.depth + 1, cfg.branch, "propose_tot")
    children = [c for s in steps if (c := node.add_child(s, ctx.next_order())) is not None]
    if not children:
        return None
    for child, value in zip(children, (yield from score(ctx, [c.y for c in children]))):
        child.V = value
    node.fully_expanded = True
    ranked = sorted(children, key=lambda c: c.V, reverse=True)
    if ranked[0].V >= cfg.end_gate:
        return ranked[0]
    for child in ranked[: cfg.keep]:
        found = yield from _depth_first(ctx, child)
        if found is not None:
            return found
    return None


def cot(ctx: Context) -> Search:
    """One chain-of-thought answer (analysis and code) for `ctx.problem`."""
    prompt = ctx.prompt("cot", lambda problem, _: prompts.cot(problem, ctx.cfg.prompt_style))
    [answer] = yield Ask("cot", (prompt,))
    return answer
