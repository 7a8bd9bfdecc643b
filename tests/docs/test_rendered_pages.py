r"""Every page of the built documentation, rendered in headless Chromium the
way a reader sees it offline: MathJax (a local copy) has typeset every
formula, no raw LaTeX delimiter and no ``mailto:`` link is left, and nothing
runs over the content column.

Chromium is found as ``chromium``, ``chromium-browser`` or ``google-chrome``;
without one the rendering tests are skipped (``.ci/run`` installs Debian's
``chromium``).  Pages render in a few browser processes side by side, each
loading its share of the pages one after the other.
"""
import json
import os
import re
import shutil
import subprocess
import tempfile
from concurrent.futures import ThreadPoolExecutor
from html.parser import HTMLParser
from pathlib import Path
from typing import Dict, List, Optional

import pytest

BROWSERS = ('chromium', 'chromium-browser', 'google-chrome')
CHROMIUM = next(filter(None, map(shutil.which, BROWSERS)), None)
needs_chromium = pytest.mark.skipif(
    CHROMIUM is None, reason='no Chromium found (chromium, chromium-browser '
    'or google-chrome); the rendered pages are not checked (apt-get install '
    'chromium)')

#: What MathJax leaves behind when it did not typeset a formula.
RAW_LATEX = ('\\(', '\\)', '\\[', '\\]', '$$')
#: Elements whose text is shown verbatim (code) or not shown at all.
VERBATIM = {'pre', 'code', 'kbd', 'samp', 'script', 'style', 'textarea',
            'noscript', 'title'}
MATH_MARKUP = re.compile(r'class="math[ "]')
MAILTO = re.compile(r'href="\s*mailto:', re.IGNORECASE)
WIDTH, HEIGHT = 1280, 900

#: The page that renders the documentation pages: it loads each page of
#: PAGES in an iframe as wide as a browser window, one after the other, and
#: once MathJax has typeset a page, it marks on the page's <html> the
#: elements of the content column that stick out of it (a table, an image,
#: a code block, a formula) outside any scrolling box, then copies the
#: page's DOM into a <textarea> of its own, which Chromium's --dump-dom
#: prints at the end.
DRIVER = """<!DOCTYPE html>
<html><head><meta charset="utf-8"></head><body><script>
var PAGES = %(pages)s;
function scrolls(win, el, stop) {
  for (var e = el.parentElement; e && e !== stop; e = e.parentElement) {
    var o = win.getComputedStyle(e).overflowX;
    if (o === 'auto' || o === 'scroll' || o === 'hidden') return true;
  }
  return false;
}
function probe(win) {
  var doc = win.document, body = doc.querySelector('div.body'), out = [];
  if (body) {
    var right = body.getBoundingClientRect().right;
    var sel = 'table, img, pre, figure, mjx-container, div.highlight';
    body.querySelectorAll(sel).forEach(function (el) {
      var r = el.getBoundingClientRect();
      if (r.width > 0 && r.right > right + 1 && !scrolls(win, el, body)) {
        var id = (el.id || el.className || '').toString().slice(0, 40);
        out.push(el.tagName.toLowerCase() + '.' + id + ' by ' +
                 Math.round(r.right - right) + 'px');
      }
    });
  }
  doc.documentElement.setAttribute('data-overflow', out.join('; '));
  doc.documentElement.setAttribute('data-probed', 'yes');
}
function next(i) {
  if (i >= PAGES.length) return;
  var frame = document.createElement('iframe');
  frame.style.width = '%(width)dpx';
  frame.style.height = '%(height)dpx';
  frame.onload = function () {
    var win = frame.contentWindow;
    function keep() {
      probe(win);
      var box = document.createElement('textarea');
      box.setAttribute('data-page', PAGES[i]);
      box.textContent = win.document.documentElement.outerHTML;
      document.body.appendChild(box);
      frame.remove();
      next(i + 1);
    }
    var mj = win.MathJax;
    if (mj && mj.startup && mj.startup.promise) {
      mj.startup.promise.then(keep, keep);
    } else {
      keep();
    }
  };
  frame.src = PAGES[i];
  document.body.appendChild(frame);
}
next(0);
</script></body></html>
"""


class Dumped(HTMLParser):
    r"""The page DOMs that :data:`DRIVER` copied into its textareas."""
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.page: Optional[str] = None
        self.doms: Dict[str, str] = {}

    def handle_starttag(self, tag, attrs):
        if tag == 'textarea':
            self.page = dict(attrs).get('data-page')
            self.doms[self.page] = ''

    def handle_endtag(self, tag):
        if tag == 'textarea':
            self.page = None

    def handle_data(self, data):
        if self.page is not None:
            self.doms[self.page] += data


class VisibleText(HTMLParser):
    r"""The text a reader sees outside code, the ``href`` of every link and
    the count of typeset formulas and of MathJax errors."""
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.skip = 0
        self.text: List[str] = []
        self.hrefs: List[str] = []
        self.formulas = 0
        self.errors = 0
        self.attrs: Dict[str, str] = {}

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == 'html':
            self.attrs = {k: v or '' for k, v in attrs.items()}
        if tag == 'a' and attrs.get('href'):
            self.hrefs.append(attrs['href'])
        if tag == 'mjx-container':
            self.formulas += 1
        if tag == 'mjx-merror':
            self.errors += 1
        if tag in VERBATIM:
            self.skip += 1

    def handle_endtag(self, tag):
        if tag in VERBATIM and self.skip:
            self.skip -= 1

    def handle_data(self, data):
        if not self.skip:
            self.text.append(data)


def parse(html: str) -> VisibleText:
    parser = VisibleText()
    parser.feed(html)
    parser.close()
    return parser


def pages_of(html: Path) -> List[Path]:
    return sorted(p for p in html.rglob('*.html')
                  if not p.name.startswith('_render_'))


def to_render(html: Path) -> List[Path]:
    r"""Every page but the highlighted source listings of viewcode
    (``_modules/``), which hold no formula and no table (asserted by
    :func:`test_static_pages`); one of them that does is rendered too."""
    return [
        p for p in pages_of(html)
        if '_modules' not in p.relative_to(html).parts
        or MATH_MARKUP.search(p.read_text(encoding='utf-8'))
    ]


def render(html: Path, pages: List[str], name: str,
           profile: Path) -> Dict[str, str]:
    r"""Relative page path -> its DOM after its scripts ran, for each of
    :obj:`pages`, from one headless Chromium process."""
    driver = html / f'{name}.html'
    driver.write_text(DRIVER % {
        'pages': json.dumps(pages), 'width': WIDTH, 'height': HEIGHT
    }, encoding='utf-8')
    cmd = [
        CHROMIUM, '--headless', '--no-sandbox', '--disable-gpu',
        '--no-first-run', '--no-default-browser-check',
        '--disable-extensions', '--disable-background-networking',
        # The driver reads the DOM of the pages it loads from disk.
        '--allow-file-access-from-files', f'--user-data-dir={profile}',
        f'--window-size={WIDTH + 40},{HEIGHT}',
        '--virtual-time-budget=600000', '--dump-dom', driver.as_uri()
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    dumped = Dumped()
    dumped.feed(proc.stdout)
    dumped.close()
    return dumped.doms


@pytest.fixture(scope='module')
def rendered(docs_build, tmp_path_factory) -> Dict[str, str]:
    r"""Relative page path -> rendered DOM, for every page of
    :func:`to_render`, in as many Chromium processes as there are cores
    (two at least, four at most)."""
    if CHROMIUM is None:
        pytest.skip('no Chromium')
    html = docs_build.succeeded()
    pages = [p.relative_to(html).as_posix() for p in to_render(html)]
    base = tmp_path_factory.getbasetemp()
    workers = min(len(pages), max(2, os.cpu_count() or 1), 4)
    shares = [pages[k::workers] for k in range(workers)]
    with ThreadPoolExecutor(workers) as pool:
        doms = pool.map(
            lambda k: render(html, shares[k], f'_render_{k}',
                             Path(tempfile.mkdtemp(dir=base))),
            range(workers))
    return {name: dom for part in doms for name, dom in part.items()}


def test_checks_notice_each_defect():
    # A page with every defect the checks look for, and one without.
    page = parse('<html data-probed="yes" data-overflow="table. by 80px">'
                 '<p>see \\(x^2\\) and $$y$$ <a href="mailto:Recall@20">'
                 'Recall@20</a></p><pre>\\[kept\\]</pre>'
                 '<mjx-container><mjx-merror>x</mjx-merror></mjx-container>'
                 '</html>')
    assert 'kept' not in ''.join(page.text)
    found = '\n'.join(problems('p.html', page, '<span class="math">'))
    for token in ('\\(', '\\)', '$$'):
        assert f'raw LaTeX {token} in' in found
    assert 'raw LaTeX \\[' not in found  # code is shown verbatim
    assert 'mailto link mailto:Recall@20' in found
    assert '1 MathJax error(s)' in found
    assert 'sticks out of the content column: table. by 80px' in found
    assert 'typeset none' not in found
    plain = parse('<html data-probed="yes" data-overflow=""><p>Recall@20'
                  '</p></html>')
    assert problems('q.html', plain) == []
    assert problems('q.html', plain, '<span class="math">') == [
        'q.html: has formulas but MathJax typeset none'
    ]


def problems(name: str, page: VisibleText,
             source: Optional[str] = None) -> List[str]:
    found = []
    text = re.sub(r'\s+', ' ', ''.join(page.text))
    for token in RAW_LATEX:
        at = text.find(token)
        if at >= 0:
            context = text[max(0, at - 40):at + 40].strip()
            found.append(f'{name}: raw LaTeX {token} in "{context}"')
    found += [f'{name}: mailto link {h}' for h in page.hrefs
              if h.lower().startswith('mailto:')]
    if page.errors:
        found.append(f'{name}: {page.errors} MathJax error(s)')
    if source is not None and MATH_MARKUP.search(source) \
            and not page.formulas:
        found.append(f'{name}: has formulas but MathJax typeset none')
    if page.attrs.get('data-overflow'):
        found.append(f'{name}: sticks out of the content column: '
                     f"{page.attrs['data-overflow']}")
    return found


def test_static_pages(docs_build):
    # Every page of the build: no mailto link, only local scripts and style
    # sheets (MathJax included), and no formula or table in a viewcode
    # listing (those are not rendered below).
    html = docs_build.succeeded()
    pages = pages_of(html)
    assert len(pages) > 20
    remote = re.compile(r'<(?:script|link)\b[^>]*\b(?:src|href)="'
                        r'(?:[a-z]+:)?//[^"]*"')
    math_pages = 0
    for page in pages:
        source = page.read_text(encoding='utf-8')
        name = page.relative_to(html).as_posix()
        assert not MAILTO.search(source), (name, MAILTO.search(source))
        assert not remote.search(source), (name, remote.search(source)[0])
        math_pages += bool(MATH_MARKUP.search(source))
        if name.startswith('_modules/'):
            assert '<table class="docutils' not in source, name
    assert math_pages >= 5
    mathjax = html / '_static' / 'mathjax' / 'tex-chtml.js'
    assert mathjax.is_file() and mathjax.stat().st_size > 100_000
    loss = (html / 'losses.html').read_text(encoding='utf-8')
    assert 'src="_static/mathjax/tex-chtml.js' in loss


@needs_chromium
def test_rendered_pages(docs_build, rendered):
    html = docs_build.succeeded()
    missing = sorted({p.relative_to(html).as_posix()
                      for p in to_render(html)} - set(rendered))
    assert not missing, f'Chromium rendered no DOM for {missing}'
    found = []
    formulas = 0
    for name, dom in sorted(rendered.items()):
        page = parse(dom)
        formulas += page.formulas
        found += problems(name, page,
                          (html / name).read_text(encoding='utf-8'))
    assert not found, '\n'.join(found)
    assert formulas >= 50, 'MathJax typeset fewer formulas than expected'
