r"""``python -m pyg_simce`` runs the ``pyg-simce`` command line."""
import sys

from pyg_simce.cli import main

if __name__ == '__main__':
    sys.exit(main())
