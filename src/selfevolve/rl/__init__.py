"""Policy-gradient RL: pure advantage estimators and losses, a small trainer, the batch layout,
reward calls under timeouts and rollout helpers."""

from selfevolve.rl.batch import RolloutBatch, assemble_batch
from selfevolve.rl.config import RLConfig
from selfevolve.rl.distributed import init_distributed
from selfevolve.rl.reward_calls import RewardResult, score
from selfevolve.rl.rollout import Rollout, rollout
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
