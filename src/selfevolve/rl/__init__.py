"""Policy-gradient RL: pure advantage estimators and losses, a small trainer, rollout helpers."""

from selfevolve.rl.config import RLConfig
from selfevolve.rl.distributed import init_distributed
from selfevolve.rl.rollout import Rollout, RolloutBatch, RewardResult, assemble_batch, rollout, score
from selfevolve.rl.trainer import Trainer

__all__ = [
    "RLConfig",
    "Rollout",
    "RolloutBatch",
    "RewardResult",
    "Trainer",
    "assemble_batch",
    "init_distributed",
    "rollout",
    "score",
]
