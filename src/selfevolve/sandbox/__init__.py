"""Runs untrusted Python: jobs in, repr text out. Knows nothing about models or tasks."""
