"""Shipped config presets (YAML), read with importlib.resources."""
