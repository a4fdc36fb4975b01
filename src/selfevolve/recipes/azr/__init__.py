"""Absolute Zero self-play: config, step, run."""
