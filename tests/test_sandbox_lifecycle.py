"""Sandbox lifecycle: hash seeds reproduce across restarts; stopped zygotes leave no scratch behind."""

from pathlib import Path

from selfevolve.sandbox import Job, Sandbox, SandboxConfig, Status

HASH_JOB = Job("h", "def f():\n    return hash('abc')", [""], check_determinism=False)


def _scratch_dirs(root: Path) -> set[Path]:
    return set(root.glob("selfevolve-sbx-*"))


def test_hash_seed_is_the_configured_one_in_every_new_sandbox(tmp_path):
    outputs = []
    for _ in range(2):
        with Sandbox(SandboxConfig(workers=1, tmp_root=str(tmp_path))) as sb:
            result = sb.run([HASH_JOB])[0]
        assert result.status is Status.OK
        outputs.append(result.outputs)
    assert outputs[0] == outputs[1]


def test_close_removes_every_scratch_directory_even_after_a_killed_zygote(tmp_path):
    with Sandbox(SandboxConfig(workers=1, tmp_root=str(tmp_path), timeout=1)) as sb:
        assert sb.run([HASH_JOB])[0].status is Status.OK
        assert _scratch_dirs(tmp_path)  # zygotes are running, each with its scratch root
        hang = Job("t", "def f():\n    while True:\n        pass", [""])
        assert sb.run([hang])[0].status is Status.TIMEOUT  # the zygote is killed and restarted
    assert _scratch_dirs(tmp_path) == set()
