"""Synthetic pretraining corpora for the shipped tiny models, and their held-out task scorers."""
