r"""Re-renders the plots of the committed benchmark results from their JSON,
without training anything.

Usage::

    python -m benchmarks.replot [--results DIR] [--only PATTERN]

Every ``<suite>/<dataset>.json`` (and ``quick/<suite>/...``) of a suite with
a plot (``longtail``, ``magnitude``, ``convergence``) is drawn again to the
PNG beside it, with the current plotting code of
:mod:`benchmarks.suites.report`.  Needs matplotlib (the ``plot`` extra).
"""
import argparse
import json
from pathlib import Path
from typing import List, Optional

from benchmarks.suites.report import PLOTS, plot_title
from pyg_simce.typing import WITH_MATPLOTLIB

RESULTS = Path(__file__).resolve().parent / 'results'


def plotted_results(root: Path) -> List[Path]:
    r"""The result files under :obj:`root` whose suite has a plot."""
    found = []
    for path in sorted(root.rglob('*.json')):
        try:
            payload = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
        if isinstance(payload, dict) and payload.get('suite') in PLOTS \
                and isinstance(payload.get('summary'), dict):
            found.append(path)
    return found


def replot(path: Path) -> Path:
    r"""Draws the plot of one result file to the PNG beside it."""
    payload = json.loads(path.read_text())
    fn, key = PLOTS[payload['suite']]
    png = path.with_suffix('.png')
    fn(payload['summary'][key], png,
       plot_title(payload['title'], payload['dataset']))
    return png


def main(argv: Optional[List[str]] = None) -> List[Path]:
    parser = argparse.ArgumentParser(
        description=__doc__.split('\n\n')[0],
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--results', default=str(RESULTS), metavar='DIR',
                        help='results tree (default: benchmarks/results)')
    parser.add_argument('--only', metavar='PATTERN', default=None,
                        help='only the result files whose path relative to '
                        'DIR contains PATTERN (e.g. quick/ or ml-1m)')
    args = parser.parse_args(argv)
    if not WITH_MATPLOTLIB:
        raise SystemExit('error: matplotlib is not installed (pip install '
                         '-e ".[plot]")')
    root = Path(args.results)
    paths = [p for p in plotted_results(root)
             if args.only is None or args.only in p.relative_to(root)
             .as_posix()]
    if not paths:
        raise SystemExit(f'error: no result file with a plot under {root}')
    written = []
    for path in paths:
        png = replot(path)
        written.append(png)
        print(f'{png.relative_to(root).as_posix()}')
    return written


if __name__ == '__main__':
    main()
