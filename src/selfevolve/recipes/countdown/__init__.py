"""Countdown R1-Zero: config, step, run; SFT priming and the priming study."""
