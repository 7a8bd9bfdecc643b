import re
from pathlib import Path

from setuptools import find_packages, setup

HERE = Path(__file__).resolve().parent


def read_version() -> str:
    text = (HERE / 'pyg_simce' / '__init__.py').read_text()
    match = re.search(r"^__version__ = '([^']+)'", text, re.MULTILINE)
    if match is None:
        raise RuntimeError('pyg_simce/__init__.py defines no __version__')
    return match.group(1)


install_requires = [
    'torch>=2.1',
    'torch_geometric>=2.5',
    'numpy>=1.23',
    'tqdm>=4.60',
]

test_requires = [
    'pytest>=7.0',
    'pytest-timeout>=2.1',
    'hypothesis>=6.0',
    'pandas>=1.5',  # PyG's AmazonBook / MovieLens100K process raw files with it
    'matplotlib>=3.5',  # the plots of the examples and benchmarks are tested
    'sphinx>=7.0',  # the docs build is a test: it must pass with -W
    'sphinx-mathjax-offline>=0.0.2',  # and its pages render offline
    'scipy>=1.9',  # the classical baselines are tested too
    'implicit>=0.7',
]

extras_require = {
    'test': test_requires,
    'sparse': ['torch-scatter>=2.1', 'torch-sparse>=0.6.17'],
    'plot': ['matplotlib>=3.5'],
    # Everything the example scripts use: pandas for PyG's own data sets
    # (examples/pyg_dataset.py), matplotlib for their plots.
    'examples': ['pandas>=1.5', 'matplotlib>=3.5'],
    # Sphinx, and a local copy of MathJax so that formulas render offline.
    'docs': ['sphinx>=7.0', 'sphinx-mathjax-offline>=0.0.2'],
    # Classical baselines (pyg_simce.baselines): sparse algebra, and iALS
    # from the implicit library.
    'baselines': ['scipy>=1.9', 'implicit>=0.7'],
}
extras_require['full'] = sorted({
    pkg
    for name, pkgs in extras_require.items() if name not in ('sparse', )
    for pkg in pkgs
})

setup(
    name='pyg_simce',
    version=read_version(),
    description=('Collaborative filtering with modern ranking losses '
                 '(SimCE, sampled softmax, multi-margin) for PyTorch '
                 'Geometric'),
    long_description=(HERE / 'README.md').read_text(),
    long_description_content_type='text/markdown',
    license='MIT',
    python_requires='>=3.9',
    packages=find_packages(include=['pyg_simce', 'pyg_simce.*']),
    install_requires=install_requires,
    extras_require=extras_require,
    entry_points={
        'console_scripts': ['pyg-simce=pyg_simce.cli:console_main']},
    classifiers=[
        'Programming Language :: Python :: 3',
        'Topic :: Scientific/Engineering :: Artificial Intelligence',
    ],
)
