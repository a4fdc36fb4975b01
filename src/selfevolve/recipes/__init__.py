"""The four systems, composed from the parts below (no new mechanisms here)."""
