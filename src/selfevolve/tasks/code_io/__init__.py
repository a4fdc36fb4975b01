"""The AZR code-reasoning task family: abduction (code_i), deduction (code_o), induction (code_f).

Make or sample a task (buffers on the family's run-store table `store`, seeds, synth), render its
prompt (prompts), parse a completion (parsing), validate proposals and verify answers through the
sandbox (validation, verification; `CodeIOConfig.sandbox_config` gives the sandbox the family's
banned list), and turn verdicts into rewards (rewards). `seed_study` checks the public AZR seed files
against the sandbox. No model and no optimiser here.
"""

from selfevolve.tasks.code_io.buffers import TaskBuffer, fill_batch, sample_programs
from selfevolve.tasks.code_io.config import BANNED_KEYWORDS, CodeIOConfig
from selfevolve.tasks.code_io.parsing import ParseError, parse_proposal, parse_solver_answer, rename_entry
from selfevolve.tasks.code_io.prompts import proposer_prompt, render_proposer_completion, render_solver_completion, solver_prompt
from selfevolve.tasks.code_io.rewards import format_ok, proposer_reward, solve_rate, solver_reward
from selfevolve.tasks.code_io.seeds import grow_seeds, import_seeds, read_seed_file, write_seed_file, zero_induction, zero_triplet
from selfevolve.tasks.code_io.store import TaskTable
from selfevolve.tasks.code_io.synth import synth_programs
from selfevolve.tasks.code_io.types import AnswerReason, AnswerVerdict, CodeTask, Proposal, TaskType, Validation
from selfevolve.tasks.code_io.validation import validate_proposals, validate_tasks
from selfevolve.tasks.code_io.verification import verify_answers

__all__ = [
    "AnswerReason", "AnswerVerdict", "BANNED_KEYWORDS", "CodeIOConfig", "CodeTask", "ParseError", "Proposal",
    "TaskBuffer", "TaskTable", "TaskType", "Validation", "fill_batch", "format_ok", "grow_seeds", "import_seeds", "parse_proposal",
    "parse_solver_answer", "proposer_prompt", "proposer_reward", "read_seed_file", "rename_entry",
    "render_proposer_completion", "render_solver_completion", "sample_programs", "solve_rate",
    "solver_prompt", "solver_reward", "synth_programs", "validate_proposals", "validate_tasks",
    "verify_answers", "write_seed_file", "zero_induction", "zero_triplet",
]
