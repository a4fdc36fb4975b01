"""SRA-MCTS (docs/spec/sra_mcts.md): a model searches natural-language plans for coding problems
with MCTS, judging its own steps, translates the chosen plan into code, and is fine-tuned on the
result. Modules, in the order data flows:

    problems (files, shipped LeetCode, MBPP+ pool) → calls (what a search asks) → prompts / replies
    → tree (the data structure, pure functions) → search (MCTS) / baselines (ToT, CoT)
    → pipeline (one problem: search → judge → clean → translate → tests → record)
    → engine (many problems at once, one model call per phase) → store → run (`synth`) → train (`sft`)
"""
