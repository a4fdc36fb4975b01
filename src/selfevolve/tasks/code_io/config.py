"""Settings of the code-reasoning task family, named and defaulted as in the AZR paper (docs/spec/azr.md §5-§7)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from selfevolve.sandbox import SandboxConfig
from selfevolve.sandbox.static import DEFAULT_BANNED_MODULES

# docs/spec/azr.md §5.5: the reference's banned list; the full prompt shows it ("in any form, even in comments").
# The one copy: validation and verification check programs against it, and `sandbox_config` makes the
# sandbox refuse it at run time too (an import inside `exec`'d text never reaches the static check).
BANNED_KEYWORDS: tuple[str, ...] = (
    "logging", "random", "multiprocessing", "pebble", "subprocess", "threading", "datetime", "time",
    "hashlib", "hmac", "bcrypt", "os.sys", "os.path", "sys.exit", "os.environ", "calendar",
)


class CodeIOConfig(BaseModel):
    """Everything that changes how code tasks are proposed, validated, verified and rewarded."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    num_references: int = Field(6, ge=0, description="K reference triplets shown to the proposer (paper: 6).")
    num_inputs: int = Field(10, ge=2, description="Inputs an induction proposal must give (paper: 10; first half shown, rest hidden).")
    banned_keywords: tuple[str, ...] = Field(
        BANNED_KEYWORDS, description="Modules/dotted names a proposal may not import or use (paper: the reference list)."
    )
    timeout: float = Field(10.0, gt=0, description="Seconds per sandbox job (paper: 10).")
    max_output_chars: int = Field(400, ge=1, description="Longest gold output repr accepted (reference truncates past 400).")
    oversize_output: Literal["reject", "truncate"] = Field(
        "reject", description="Over-long outputs: 'reject' the task (default) or 'truncate' to first/last 200 chars (reference)."
    )
    allow_nonliteral_output: bool = Field(
        False, description="Accept gold reprs that ast.literal_eval cannot parse (custom classes); reference: accepted."
    )
    reject_multiple_functions: bool = Field(
        False, description="Reject proposals with more than one top-level def (reference option, off)."
    )
    require_distinct_outputs: bool = Field(
        False, description="Induction: reject proposals whose outputs are all equal (reference: off)."
    )
    equality: Literal["strict", "python_eq"] = Field(
        "strict", description="Deduction comparison: 'strict' (type-exact) or 'python_eq' (reference: 1 == 1.0)."
    )
    induction_reward: Literal["binary", "accuracy", "if_one_correct"] = Field(
        "binary", description="Induction solver score over hidden pairs (paper: binary, all must pass)."
    )
    proposer_extreme_reward: float = Field(
        0.0, description="Proposer reward when the solve rate is 0 or 1 (paper Eq. 4: 0.0; reference code: -0.5)."
    )
    learnability_samples: int = Field(8, ge=1, description="Solver samples per valid proposal for learnability (paper: 8, at T=1.0).")
    max_answer_chars: int = Field(10_000, ge=1, description="Longest solver answer accepted before parsing (guards the parent).")

    def sandbox_config(self, **settings) -> SandboxConfig:
        """The SandboxConfig for this family's jobs: `settings` (workers, timeout, ...), and the banned
        modules on top of the sandbox's own, so the sandbox refuses them statically and at run time.

            with Sandbox(CodeIOConfig().sandbox_config(workers=2)) as sandbox: ...
        """
        return SandboxConfig(banned_modules=DEFAULT_BANNED_MODULES + self.banned_keywords, **settings)

    @property
    def compare_mode(self) -> str:
        """The mode name `selfevolve.sandbox.compare` uses."""
        return "python" if self.equality == "python_eq" else "strict"
