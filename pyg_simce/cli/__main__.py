r"""``python -m pyg_simce.cli`` runs the command line (as ``python -m
pyg_simce`` does)."""
import sys

from pyg_simce.cli import main

sys.exit(main())
