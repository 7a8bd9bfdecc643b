r"""``python -m pyg_simce.cli`` runs the command line (as ``python -m
pyg_simce`` does)."""
from pyg_simce.cli import console_main

console_main()
