"""The search tree: a plain data structure and pure functions over it (docs/spec/sra_mcts.md §2-§3).

No model here: selection, backpropagation, rollout blending and final-plan choice are arithmetic on
`Node`s; randomness (ties) comes from the caller's RNG.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field

END = "<end>"
CONTINUE = "<continue>"


@dataclass
class Node:
    """One partial plan. `y` is the concatenation of the steps from the root (root: '');
    `reflection` is None until reflected, then END, CONTINUE, or an analysis text."""

    step: str = ""
    y: str = ""
    depth: int = 0
    V: float = 0.0
    N: int = 0
    children: dict[str, Node] = field(default_factory=dict)
    fully_expanded: bool = False
    reflection: str | None = None
    order: int = 0  # creation order in its tree (root 0)
    pass_rate: float | None = None  # tests passed by this terminal plan's code (exec_weight > 0 only)
    parent: Node | None = field(default=None, repr=False, compare=False)

    def add_child(self, step: str, order: int) -> Node | None:
        """A new child for `step`, or None when this step is already a child (duplicates are dropped)."""
        if step in self.children:
            return None
        child = Node(step=step, y=self.y + step, depth=self.depth + 1, order=order, parent=self)
        self.children[step] = child
        return child

    def nodes(self) -> list[Node]:
        """This node and its descendants, depth first in child order."""
        out = [self]
        for child in self.children.values():
            out += child.nodes()
        return out

    def to_dict(self) -> dict:
        return {
            "step": self.step, "V": self.V, "N": self.N, "depth": self.depth, "order": self.order,
            "fully_expanded": self.fully_expanded, "reflection": self.reflection, "pass_rate": self.pass_rate,
            "children": [c.to_dict() for c in self.children.values()],
        }

    @classmethod
    def from_dict(cls, data: dict, parent: Node | None = None) -> Node:
        node = cls(step=data["step"], y=(parent.y if parent else "") + data["step"], depth=data["depth"], V=data["V"],
                   N=data["N"], fully_expanded=data["fully_expanded"], reflection=data["reflection"],
                   order=data["order"], pass_rate=data["pass_rate"], parent=parent)
        for child in data["children"]:
            node.children[child["step"]] = cls.from_dict(child, node)
        return node


def is_terminal(node: Node) -> bool:
    """Never expanded: the reflection said <end>, or a step says "answer is" or <end>."""
    return node.reflection == END or "answer is" in node.y or END in node.y


def selection_score(child: Node, parent_visits: int, c: float, unvisited_bonus: float) -> float:
    """UCB: V + c*sqrt(2 ln N_parent / N) for visited children, V + bonus for unvisited ones."""
    if child.N == 0:
        return child.V + unvisited_bonus
    return child.V + c * math.sqrt(2 * math.log(parent_visits) / child.N)


def best_child(node: Node, c: float, unvisited_bonus: float, rng: random.Random) -> Node:
    """The child with the highest selection score; ties broken uniformly at random."""
    if not node.children:
        raise ValueError("best_child of a node without children")
    best, tied = -math.inf, []
    for child in node.children.values():
        score = selection_score(child, node.N, c, unvisited_bonus)
        if score > best:
            best, tied = score, [child]
        elif score == best:
            tied.append(child)
    return tied[0] if len(tied) == 1 else rng.choice(tied)


def select(root: Node, c: float, unvisited_bonus: float, rng: random.Random) -> Node:
    """Descend from the root through fully expanded nodes by `best_child`."""
    node = root
    while node.fully_expanded and node.children:
        node = best_child(node, c, unvisited_bonus, rng)
    return node


def blend_rollout(node: Node, rollout_value: float, alpha: float) -> None:
    """After simulating from `node`: V = alpha*V + (1-alpha)*rollout value, one more visit."""
    node.V = alpha * node.V + (1 - alpha) * rollout_value
    node.N += 1


def backpropagate(node: Node) -> None:
    """From `node` to the root: one more visit each; a fully expanded node's V becomes the
    visit-weighted mean of its visited children's V (unvisited children ignored)."""
    while node is not None:
        node.N += 1
        visited = [c for c in node.children.values() if c.N > 0]
        if node.fully_expanded and visited:
            node.V = sum(c.V * c.N for c in visited) / sum(c.N for c in visited)
        node = node.parent


def best_value_node(node: Node) -> Node:
    """The node of maximum V in the tree, through expanded nodes down to the frontier; ties go to the
    later node (a child over its parent, a later sibling's subtree over an earlier one)."""
    if not node.fully_expanded:
        return node
    best = node
    for child in node.children.values():
        candidate = best_value_node(child)
        if candidate.V >= best.V:
            best = candidate
    return best


def blend_execution(node: Node, pass_rate: float, weight: float) -> None:
    """Execution-aware value of a terminal node: V = (1-w)*V_critic + w*10*pass_rate."""
    node.pass_rate = pass_rate
    node.V = (1 - weight) * node.V + weight * 10 * pass_rate
