"""The systems, composed from the parts below (no new mechanisms here): each one package of the same
shape (`config.py`, `step.py`, `run.py`) on one run shell (`shell.py`) and one run directory (`rundir.py`)."""
