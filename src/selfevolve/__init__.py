"""selfevolve: self-improving LLM reasoners on one set of small, tested parts."""

__version__ = "0.1.0"
