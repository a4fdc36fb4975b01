"""One generation interface over local transformers models, OpenAI-compatible endpoints, and our tiny models."""
