"""Runs untrusted Python: jobs in, repr text out. Knows nothing about models or tasks.

    from selfevolve.sandbox import Sandbox, SandboxConfig, Job
    with Sandbox(SandboxConfig()) as sb:
        results = sb.run([Job("1", "def f(x):\\n    return x + 1", ["41"])])

See docs/sandbox.md for the design and the threat-by-threat table.
"""

from selfevolve.sandbox.config import SandboxConfig
from selfevolve.sandbox.pool import Sandbox
from selfevolve.sandbox.types import Job, Result, Status

__all__ = ["Sandbox", "SandboxConfig", "Job", "Result", "Status"]
