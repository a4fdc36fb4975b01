"""Verifiable task families: make a task, render its prompt, parse a completion, verify, reward."""
