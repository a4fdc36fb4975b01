"""Our own tiny base models: tokenizer + config from a size preset, CPU pretraining, rebuild recipes.

A training pipeline, not inference: it builds corpora from the task families and scores held-out
tasks (tasks, eval, sandbox), so it sits above `llm`, which only loads and runs the result.
"""
