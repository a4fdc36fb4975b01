"""Policy-gradient RL: pure advantage estimators and losses, a small trainer, rollout helpers."""
