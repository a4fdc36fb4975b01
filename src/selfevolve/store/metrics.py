"""Per-step metrics of a run: written to `metrics.jsonl`, TensorBoard, and W&B when a project is
configured (`MetricsLogger`), and read back from the JSONL file (`read_metrics`), in one place so the
writer (rl), the reports and the resume bookkeeping (recipes) agree on one format."""

from __future__ import annotations

import json
from pathlib import Path


def read_metrics(path: Path) -> list[dict]:
    """Records of a `metrics.jsonl` file (one flat dict per line, each with a `step`); [] when absent."""
    if not path.is_file():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


class MetricsLogger:
    """Writes one JSON line and one set of TensorBoard scalars per step. Call from rank 0 only."""

    def __init__(self, run_dir: str | Path, wandb_project: str | None = None, config: dict | None = None):
        from torch.utils.tensorboard import SummaryWriter

        self.run_dir = Path(run_dir)
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self._jsonl = open(self.run_dir / "metrics.jsonl", "a", encoding="utf-8")
        self._tb = SummaryWriter(log_dir=str(self.run_dir / "tensorboard"))
        self._wandb = None
        if wandb_project:
            try:
                import wandb
            except ImportError as exc:
                raise ImportError("wandb_project is set but wandb is not installed; pip install 'selfevolve[wandb]'") from exc
            self._wandb = wandb.init(project=wandb_project, dir=str(self.run_dir), config=config or {})

    def log(self, step: int, metrics: dict[str, float]) -> None:
        self._jsonl.write(json.dumps({"step": step, **metrics}) + "\n")
        self._jsonl.flush()
        for name, value in metrics.items():
            self._tb.add_scalar(name, value, step)
        self._tb.flush()
        if self._wandb is not None:
            self._wandb.log(metrics, step=step)

    def close(self) -> None:
        self._jsonl.close()
        self._tb.close()
        if self._wandb is not None:
            self._wandb.finish()
