r"""``python -m pyg_simce`` runs the ``pyg-simce`` command line."""
from pyg_simce.cli import console_main

if __name__ == '__main__':
    console_main()
