"""Cognitive behaviours: judges (LLM and rule-based) and behaviour-rich trace synthesis for priming."""
