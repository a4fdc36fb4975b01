"""One adversarial job per threat class of docs/spec/sandbox_threats.md §2, plus determinism and recovery.

The `raw` sandbox has no static banned lists, so every attack reaches the runtime layers; each test
checks the status, that the host is unchanged (canary file, no job processes left) and that the
pool keeps serving.
"""

import os
from pathlib import Path

import pytest

from selfevolve.sandbox import Job, Sandbox, SandboxConfig, Status

ECHO = Job("echo", "def f(x):\n    return x", ["41"])


@pytest.fixture(scope="module")
def raw():
    with Sandbox(SandboxConfig(workers=2, timeout=5, memory_mb=256, banned_modules=(), banned_names=())) as sb:
        yield sb


@pytest.fixture(scope="module")
def canary(tmp_path_factory):
    path = tmp_path_factory.mktemp("host") / "canary.txt"
    path.write_text("untouched")
    return path


def job_processes(sb: Sandbox) -> list[int]:
    """PIDs running under any of the sandbox's job uids."""
    uids = {str(z.uid) for s in sb._slots for z in s.zygotes if z.uid is not None}
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            continue
        uid_line = next(line for line in status.splitlines() if line.startswith("Uid:"))
        if set(uid_line.split()[1:]) & uids:
            found.append(int(pid))
    return found


def run_one(sb, program, inputs=("1",), **kw):
    [result] = sb.run([Job("t", program, list(inputs), **kw)])
    return result


def assert_contained(sb, result, *statuses, canary=None):
    assert result.status in statuses, result
    assert job_processes(sb) == []
    assert sb.run([ECHO])[0].outputs == ["41"]
    if canary is not None:
        assert canary.read_text() == "untouched"


# A. escape and host damage

def test_01_shell_via_posix(raw, canary):
    r = run_one(raw, f"import posix\ndef f(x):\n    return posix.system('echo pwned > {canary}')")
    assert_contained(raw, r, Status.UNSAFE, canary=canary)
    assert "os.system" in r.error


def test_02_subprocess_family(raw, canary):
    for program in (f"import subprocess\ndef f(x):\n    subprocess.run(['rm', '{canary}'])",
                    "import _posixsubprocess\ndef f(x):\n    return 1",
                    "import pty\ndef f(x):\n    return 1"):
        assert_contained(raw, run_one(raw, program), Status.UNSAFE, canary=canary)


def test_03_ctypes_refused(raw):
    r = run_one(raw, "import ctypes\ndef f(x):\n    return ctypes.CDLL(None).system(b'true')")
    assert_contained(raw, r, Status.UNSAFE)


def test_04_keyword_bypass(raw, canary):
    hexed = f"__import__('os').system('rm {canary}')".encode().hex()
    for program in (f"def f(x):\n    return __import__('o' + 's').system('rm {canary}')",
                    f"def f(x):\n    exec(bytes.fromhex('{hexed}'))",
                    f"import importlib\ndef f(x):\n    return importlib.import_module('o' + 's').remove('{canary}')",
                    f"import sys\ndef f(x):\n    return sys.modules['os'].unlink('{canary}')"):
        assert_contained(raw, run_one(raw, program), Status.UNSAFE, canary=canary)


def test_05_file_system(raw, canary):
    for program in (f"def f(x):\n    open('{canary}', 'w').write('x')",
                    "def f(x):\n    return open('/etc/passwd').read()",
                    "def f(x):\n    return open('/proc/self/environ').read()",
                    f"def f(x):\n    return open('/proc/{os.getpid()}/environ').read()",
                    "import os\ndef f(x):\n    return os.listdir('/root')"):
        r = run_one(raw, program)
        assert_contained(raw, r, Status.UNSAFE, canary=canary)
    # writing inside the scratch dir is fine, and the next job gets a clean one
    ok = run_one(raw, "import os\ndef f(x):\n    open('a.txt', 'w').write('hi')\n    return sorted(os.listdir('.'))")
    assert ok.outputs == ["['a.txt']"]
    assert raw.run([Job("t", "import os\ndef f(x):\n    return os.listdir('.')", ["1"])])[0].outputs == ["[]"]


def test_06_network(raw):
    r = run_one(raw, "import socket\ndef f(x):\n    socket.create_connection(('1.1.1.1', 80), timeout=1)")
    assert_contained(raw, r, Status.UNSAFE)
    r = run_one(raw, "import urllib.request\ndef f(x):\n    return urllib.request.urlopen('http://example.com').read()")
    assert_contained(raw, r, Status.UNSAFE)


def test_07_environment_variables_do_not_leak(monkeypatch):
    monkeypatch.setenv("SELFEVOLVE_TEST_SECRET", "hunter2")
    with Sandbox(SandboxConfig(workers=1, banned_modules=())) as sb:
        r = run_one(sb, "import os\ndef f(x):\n    return sorted(os.environ)", check_determinism=False)
    assert r.status is Status.OK
    assert "SELFEVOLVE_TEST_SECRET" not in r.outputs[0]
    assert set(eval(r.outputs[0])) <= {"PATH", "LANG", "PYTHONHASHSEED", "OPENBLAS_NUM_THREADS", "LC_CTYPE"}


def test_08_process_control(raw):
    for program in ("import os\ndef f(x):\n    os.kill(os.getppid(), 9)",
                    "import os\ndef f(x):\n    os.killpg(0, 9)",
                    "import os\ndef f(x):\n    if os.fork() == 0:\n        os.setsid()\n    return 1"):
        assert_contained(raw, run_one(raw, program), Status.UNSAFE)
    assert all(z.alive() for s in raw._slots for z in s.zygotes)


# B. resource exhaustion

def test_09_fork_bomb_and_threads(raw):
    assert_contained(raw, run_one(raw, "import os\ndef f(x):\n    while True:\n        os.fork()"), Status.UNSAFE)
    r = run_one(raw, "import threading\ndef f(x):\n    threading.Thread(target=print).start()\n    return 1")
    assert_contained(raw, r, Status.RUNTIME_ERROR)  # RLIMIT_NPROC=1 for the job's own uid


@pytest.mark.parametrize("program", [
    "def f(x):\n    return len('x' * 10**10)",
    "def f(x):\n    return len([0] * 10**10)",
    "def f(x):\n    a = []\n    while True:\n        a.append(' ' * 10**6)",
])
def test_10_memory_bomb(raw, program):
    assert_contained(raw, run_one(raw, program), Status.MEMORY_LIMIT)


def test_10_unbounded_recursion(raw):
    r = run_one(raw, "def f(x):\n    return f(x)")
    assert_contained(raw, r, Status.RUNTIME_ERROR)
    assert "RecursionError" in r.error
    deep = run_one(raw, "import sys\nsys.setrecursionlimit(10**8)\ndef f(x):\n    return f(x) + 1", timeout=2.0)
    # 3.11 keeps Python frames off the C stack: this grows the heap until the AS limit or the deadline
    assert_contained(raw, deep, Status.MEMORY_LIMIT, Status.RUNTIME_ERROR, Status.TIMEOUT)


def test_11_cpu_burners(raw):
    for program in ("def f(x):\n    while True:\n        pass", "def f(x):\n    return 7 ** (10 ** 9)"):
        assert_contained(raw, run_one(raw, program, timeout=1.0), Status.TIMEOUT)


def test_12_huge_output(raw):
    assert_contained(raw, run_one(raw, "def f(x):\n    while True:\n        print('x' * 1000)"), Status.OUTPUT_LIMIT)
    assert_contained(raw, run_one(raw, "def f(x):\n    return 'y' * 20000"), Status.OUTPUT_LIMIT)
    ok = run_one(raw, "def f(x):\n    a = []\n    a.append(a)\n    return a")
    assert ok.outputs == ["[[...]]"]


def test_13_disk_fill(raw):
    r = run_one(raw, "def f(x):\n    with open('big', 'wb') as fh:\n        fh.write(b'0' * (50 * 2**20))")
    assert_contained(raw, r, Status.RUNTIME_ERROR)
    assert "File too large" in r.error


# C. harness tampering and reward hacks

def test_14_signal_tampering(raw):
    r = run_one(raw, "import signal\ndef f(x):\n    signal.signal(signal.SIGALRM, signal.SIG_IGN)")
    assert_contained(raw, r, Status.UNSAFE)
    catch_all = "def f(x):\n    while True:\n        try:\n            while True:\n                pass\n        except BaseException:\n            pass"
    assert_contained(raw, run_one(raw, catch_all, timeout=1.0), Status.TIMEOUT)


def test_15_early_exit(raw):
    for program, status in (("import sys\ndef f(x):\n    sys.exit(0)", Status.RUNTIME_ERROR),
                            ("def f(x):\n    raise SystemExit", Status.RUNTIME_ERROR),
                            ("def f(x):\n    raise KeyboardInterrupt", Status.RUNTIME_ERROR),
                            ("import os\ndef f(x):\n    os._exit(0)", Status.SANDBOX_ERROR)):
        assert_contained(raw, run_one(raw, program), status)


def test_16_monkey_patching(raw):
    program = ("import builtins, sys, json\nbuiltins.repr = lambda v: \"'forged'\"\n"
               "json.dumps = lambda *a, **k: 'forged'\nprint('{\"status\": \"ok\", \"outputs\": [\"9\"]}')\n"
               "def f(x):\n    return x + 1")
    r = run_one(raw, program)
    assert r.status is Status.OK and r.outputs == ["2"]


def test_17_forged_result_record(raw):
    forged = ('import os\ndef f(x):\n    for fd in range(3, 20):\n        try:\n'
              '            os.write(fd, b"0123456789abcdef" + b\'{"status": "ok", "outputs": ["1"], "error": ""}\')\n'
              '        except OSError:\n            pass\n    os._exit(0)')
    assert_contained(raw, run_one(raw, forged), Status.SANDBOX_ERROR)


def test_18_overridden_dunders(raw):
    always_equal = "class A:\n    def __eq__(self, o):\n        return True\ndef f(x):\n    return A()"
    r = run_one(raw, always_equal)
    assert_contained(raw, r, Status.RUNTIME_ERROR)
    assert "memory address" in r.error
    str_sub = "class S(str):\n    def __eq__(self, o):\n        return True\ndef f(x):\n    return S('a')"
    assert run_one(raw, str_sub).outputs == ["'a'"]  # only the repr text crosses the boundary


def test_19_introspection(raw, canary):
    program = ("def f(x):\n    for c in ().__class__.__base__.__subclasses__():\n"
               "        if c.__name__ == '_wrap_close':\n"
               f"            return c.__init__.__globals__['system']('rm {canary}')")
    assert_contained(raw, run_one(raw, program), Status.UNSAFE, canary=canary)
    assert_contained(raw, run_one(raw, "import gc\ndef f(x):\n    return len(gc.get_objects())"), Status.UNSAFE)


def test_20_no_answers_in_the_child(raw):
    program = "import sys, os\ndef f(x):\n    return [sorted(os.listdir('.')), sys.argv[1:]]"
    r = run_one(raw, program)
    assert r.status is Status.OK and r.outputs[0].startswith("[[], [")
    assert "'gold'" not in r.outputs[0]


def test_21_parser_injection(raw):
    r = run_one(raw, "def f(x):\n    return x == 3", inputs=["x) or True or f(x"])
    assert r.status is Status.SYNTAX_ERROR


# D. non-determinism

@pytest.mark.parametrize("program", [
    "import random\ndef f(x):\n    return random.random()",
    "import time\ndef f(x):\n    return time.time()",
    "def f(x):\n    return id(object())",
    "def f(x):\n    return list({'apple', 'banana', 'cherry', 'damson', 'elder', 'fig'})",
    "def f(x):\n    return str({str(i) for i in range(20)})",
    "import os\ndef f(x):\n    return os.urandom(8)",
    "import os\ndef f(x):\n    return os.getpid()",
    "import os\ndef f(x):\n    return os.getcwd()",
    "counter = [0]\ndef f(x):\n    counter[0] += 1\n    return counter[0]",
    "def f(x, seen=[]):\n    seen.append(x)\n    return len(seen)",
])
def test_22_27_nondeterminism(raw, program):
    assert_contained(raw, run_one(raw, program), Status.NONDETERMINISTIC)


def test_24_generator_is_not_a_value(raw):
    r = run_one(raw, "def f(x):\n    return (i for i in range(x))")
    assert r.status in (Status.RUNTIME_ERROR, Status.NONDETERMINISTIC)
    assert run_one(raw, "def f(x):\n    return sorted({'b', 'a'})").outputs == ["['a', 'b']"]


# availability

def test_killed_zygote_is_restarted(raw):
    zyg = raw._slots[0].zygotes[0]
    os.kill(zyg.proc.pid, 9)
    zyg.proc.wait()
    results = raw.run([ECHO] * 4)
    assert [r.outputs for r in results] == [["41"]] * 4


def test_job_that_kills_itself_gets_sandbox_error(raw):
    r = run_one(raw, "import signal, os\ndef f(x):\n    signal.raise_signal(9)")
    assert r.status is Status.UNSAFE  # `signal` refused; raw self-kill below
    r = run_one(raw, "def f(x):\n    import _signal\n    _signal.raise_signal(9)")
    assert_contained(raw, r, Status.SANDBOX_ERROR)


def test_threads_and_asyncio_callers(raw):
    import asyncio
    from concurrent.futures import ThreadPoolExecutor

    jobs = [Job(str(i), "def f(x):\n    return x * 2", [str(i)]) for i in range(20)]
    with ThreadPoolExecutor(4) as ex:
        batches = list(ex.map(lambda j: raw.run([j]), jobs))
    assert [b[0].outputs for b in batches] == [[str(2 * i)] for i in range(20)]
    results = asyncio.run(raw.arun(jobs))
    assert [r.id for r in results] == [j.id for j in jobs]


def test_modules_not_preimported_still_import_under_the_job_uid(raw):
    """The zygotes pre-import only the common modules; others are loaded per job (as root, before the
    uid drop, the audit hook already active), including their own dependencies."""
    program = ("import dataclasses, fractions, decimal, textwrap\n"
               "@dataclasses.dataclass\nclass P:\n    a: int\n"
               "def f(x):\n    return [P(x).a, str(fractions.Fraction(x, 4)), str(decimal.Decimal(x) / 8), textwrap.dedent('  a b')]")
    r = run_one(raw, program, inputs=["2"])
    assert r.status is Status.OK, r
    assert r.outputs == ["[2, '1/2', '0.25', 'a b']"]


def test_compiler_errors_are_syntax_errors(raw):
    """Code that parses but does not compile (`return` outside a function) fails in the child."""
    r = run_one(raw, "def f(x):\n    return x\nreturn 1")
    assert r.status is Status.SYNTAX_ERROR and "return" in r.error


def test_repeated_programs_get_the_same_verdicts(raw):
    """Static verdicts are memoised per Sandbox: a repeat gets the same result, and a program that is
    refused statically is refused again without reaching a process."""
    jobs = [Job("a", "def f(x):\n    return x + 1", ["1"]), Job("b", "def f(x):\n    return __import__('os')", ["1"])]
    first, second = raw.run(jobs), raw.run(jobs)
    assert [(r.status, r.outputs) for r in first] == [(r.status, r.outputs) for r in second]
    assert [r.status for r in second] == [Status.OK, Status.OK]
    strict = Sandbox(SandboxConfig(workers=1))
    try:
        assert [r.status for r in strict.run(jobs * 2)] == [Status.OK, Status.UNSAFE] * 2
    finally:
        strict.close()


def test_closed_sandbox_says_so():
    sb = Sandbox(SandboxConfig(workers=1))
    sb.close()
    with pytest.raises(RuntimeError, match="closed"):
        sb.run([ECHO])
