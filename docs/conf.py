r"""Sphinx configuration of the pyg_simce documentation.

The build and the built pages are offline: no intersphinx inventories are
fetched, and MathJax comes from the ``sphinx-mathjax-offline`` package (the
``docs`` extra), which copies its MathJax files into ``_static/mathjax/`` of
the build, so that formulas render without any network access.  Build with
``make docs`` or ``sphinx-build -W --keep-going -b html docs
docs/_build/html``.
"""
import importlib.util
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
    # Ships MathJax and copies it into the build (module name with dashes).
    'sphinx-mathjax-offline',
    'sphinx.ext.viewcode',
]
# The local copy of MathJax (set by sphinx-mathjax-offline as well; stated
# here so that no build ever points at a CDN).
mathjax_path = 'mathjax/tex-chtml.js'
if importlib.util.find_spec('sphinx-mathjax-offline') is None:
    raise RuntimeError('sphinx-mathjax-offline is not installed: pip install '
                       '-e ".[docs]" (the formulas need its local MathJax)')

root_doc = 'index'
exclude_patterns = ['_build']
templates_path = []
html_static_path = ['_static']
# Wide tables scroll inside the content column instead of overflowing it.
html_css_files = ['pyg_simce.css']
html_theme = 'alabaster'
# Room for the wide tables of the benchmarks and losses pages.
html_theme_options = {'page_width': '1120px'}
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
            # A line may break after each '/' of the result paths (a zero
            # width space), so that the tables fit the column.
            for cell in container.findall(nodes.entry):
                for text_node in list(cell.findall(nodes.Text)):
                    if '/' in text_node:
                        text_node.parent.replace(text_node, nodes.Text(
                            text_node.replace('/', '/\u200b')))
            return container.children

    return BenchmarkTables


def _plain_text_addresses():
    # docutils turns any ``word@word`` of the text into an e-mail link, so
    # metric names such as Recall@20 or NDCG@20 became ``mailto:`` links.
    # The documentation contains no e-mail address: every such link that
    # docutils recognised in running text is turned back into plain text.
    from docutils import nodes
    from sphinx.transforms import SphinxTransform

    class PlainTextAddresses(SphinxTransform):
        default_priority = 100

        def apply(self, **kwargs):
            for ref in list(self.document.findall(nodes.reference)):
                uri = ref.get('refuri', '')
                if uri.startswith('mailto:') and uri[7:] == ref.astext():
                    ref.replace_self(nodes.Text(ref.astext()))

    return PlainTextAddresses


def setup(app):
    app.add_directive('benchmark-tables', _benchmark_tables_directive())
    app.add_transform(_plain_text_addresses())
    return {'parallel_read_safe': True}
