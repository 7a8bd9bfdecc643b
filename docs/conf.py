r"""Sphinx configuration of the pyg_simce documentation.

The build is offline: no intersphinx inventories are fetched and MathJax is
only referenced by a script tag in the HTML.  Build with ``make docs`` or
``sphinx-build -W --keep-going -b html docs docs/_build/html``.
"""
import os
import sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..'))
sys.path.insert(0, ROOT)

import pyg_simce  # noqa: E402

project = 'pyg_simce'
author = 'pyg_simce contributors'
copyright = 'pyg_simce contributors'
version = release = pyg_simce.__version__

extensions = [
    'sphinx.ext.autodoc',
    'sphinx.ext.napoleon',
    'sphinx.ext.mathjax',
    'sphinx.ext.viewcode',
]

root_doc = 'index'
exclude_patterns = ['_build']
templates_path = []
html_static_path = []
html_theme = 'alabaster'
html_title = f'pyg_simce {release}'
pygments_style = 'sphinx'

# Docstrings follow PyG: Google style (``Args:``, ``Returns:``) plus a
# ``Shapes:`` section.
napoleon_google_docstring = True
napoleon_numpy_docstring = False
napoleon_use_rtype = False
napoleon_custom_sections = ['Shapes']

autodoc_member_order = 'bysource'
autodoc_class_signature = 'mixed'
add_module_names = False


def _benchmark_tables_directive():
    # ``.. benchmark-tables::`` renders the committed results under
    # benchmarks/results/ at build time (benchmarks.readme_table), so that the
    # page never shows numbers other than the committed JSON files.
    from docutils import nodes
    from docutils.parsers.rst import Directive, directives
    from docutils.statemachine import StringList

    class BenchmarkTables(Directive):
        has_content = False
        option_spec = {'section': directives.unchanged}

        def run(self):
            from benchmarks.readme_table import render
            section = self.options.get('section', 'all')
            if section == 'results-md':
                # benchmarks/RESULTS.md verbatim, when it is committed.
                path = os.path.join(ROOT, 'benchmarks', 'RESULTS.md')
                if not os.path.isfile(path):
                    return [nodes.paragraph(
                        text='benchmarks/RESULTS.md is not committed yet.')]
                self.state.document.settings.record_dependencies.add(path)
                with open(path, encoding='utf-8') as f:
                    text = f.read()
                block = nodes.literal_block(text, text)
                block['language'] = 'markdown'
                return [block]
            text = render(fmt='rst', speed=section in ('all', 'speed'),
                          quality=section in ('all', 'quality'))
            # Rebuild the page when a result file changes.
            results = os.path.join(ROOT, 'benchmarks', 'results')
            for folder, _, files in os.walk(results):
                for name in files:
                    if name.endswith('.json'):
                        self.state.document.settings.record_dependencies.add(
                            os.path.join(folder, name))
            container = nodes.container()
            self.state.nested_parse(StringList(text.splitlines(), 'results'),
                                    self.content_offset, container)
            return container.children

    return BenchmarkTables


def setup(app):
    app.add_directive('benchmark-tables', _benchmark_tables_directive())
    return {'parallel_read_safe': True}
