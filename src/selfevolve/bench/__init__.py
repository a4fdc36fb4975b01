"""Standard benchmarks with their published protocols (`selfevolve bench`; docs/bench.md).

    suite.py          the Suite interface: load tasks, render prompts, keep samples, score them
    registry.py       suites by name: humaneval(+), mbpp(+), cruxeval-o/-i, math sets, livecodebench
    evalplus*.py      HumanEval+/MBPP+ (EvalPlus 0.3.1): data, expected outputs and checks, suite
    sanitize.py       EvalPlus's code sanitiser over `ast`
    cruxeval.py       CRUXEval prompts, extraction and checks
    mathsets.py       math sets: gold answers, AZR / Qwen2.5-Math prompts and extraction
    mathgrade.py      math-verify in a killable worker process
    livecodebench.py  LiveCodeBench code generation from the official files
    child.py          the code that runs inside a sandbox job around the program under test
    harness.py        sandbox jobs for function-call tests; values.py: inputs out, results back
    execution.py      runs test suites in the sandbox, chunked to fit its result record
    generation.py     prompts to text through selfevolve.llm (chat template, raw, OpenAI endpoint)
    run.py            resumable `bench run` and `bench score`; samples.py, results.py, passk.py, data.py
"""
