"""Our own tiny base models: tokenizer + config from a size preset, CPU pretraining, rebuild recipes."""
