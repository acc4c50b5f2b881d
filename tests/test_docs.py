"""The documentation site: generated catalogue pages, the executed guide, and MathJax in a browser.

Needs the ``docs`` extra (``pip install -e '.[docs]'``); the tests skip cleanly
without it, and the browser test skips without Debian's ``chromium``.  The site is
built once per module (catalogue verification skipped: that is what
``symbolic-mf verify --all`` is for; the slow test builds with it).
"""

from __future__ import annotations

import importlib
import os
import re
import shutil
import subprocess
import sys
import tempfile

import pytest
import sympy as sp

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DOCS = os.path.join(ROOT, "docs")
BUILD = os.path.join(DOCS, "_build")
TEST_OUT = os.path.join(BUILD, "test")

_NEEDED = ("sphinx", "numpydoc", "myst_parser", "matplotlib")


def _missing():
    out = []
    for m in _NEEDED:
        try:
            importlib.import_module(m)
        except ImportError:
            out.append(m)
    return out


needs_docs = pytest.mark.skipif(bool(_missing()), reason="docs extra not installed: pip install -e '.[docs]'")


@pytest.fixture(scope="module")
def ext():
    if _missing():
        pytest.skip("docs extra not installed: pip install -e '.[docs]'")
    sys.path.insert(0, os.path.join(DOCS, "_ext"))
    try:
        import mf_catalogue
    finally:
        sys.path.pop(0)
    return mf_catalogue


# ---------------------------------------------------------------------------
# The generator, without Sphinx


def _toy_registry():
    from symbolic_mf.domains import CORRELATION, REALS
    from symbolic_mf.functions import bivariate_expectation, rho, u, v
    from symbolic_mf.identity import Identity
    from symbolic_mf.registry import Registry

    x = sp.Symbol("x", real=True)
    c = sp.Symbol("c", real=True)
    reg = Registry()
    reg.add(Identity("toy.square", "a square, a*b_c stays text", (x + 1) ** 2, x**2 + 2 * x + 1,
                     {x: REALS}, topics=["brandnew"], references=["Someone (2024), eq. (1)"]))
    reg.add(Identity("toy.sheppard", r"Sheppard for $\rho_0$", bivariate_expectation(rho(0, u) * rho(0, v), c),
                     sp.Rational(1, 4) + sp.asin(c) / (2 * sp.pi), {c: CORRELATION},
                     topics=["otherone", "brandnew"], method="polar"))
    return reg


def test_every_topic_gets_a_page_and_every_identity_an_anchor(ext, tmp_path):
    reg = _toy_registry()
    rows = {"toy.square": {"id": "toy.square", "verdict": "FAIL", "points": 1, "digits": 0.3,
                           "dps": 30, "check_dps": 45, "seconds": 0.1, "reason": "sides agree to only 0.3 digits",
                           "counterexample": None, "source": "test"}}
    (tmp_path / "catalogue").mkdir()
    (tmp_path / "catalogue" / "gone.rst").write_text("a topic that no longer exists")
    n = ext.write_pages(str(tmp_path), reg, rows)
    assert n == {"identities": 2, "topics": 2, "derivations": 0}
    pages = sorted(p.name for p in (tmp_path / "catalogue").iterdir())
    assert pages == ["brandnew.rst", "index.rst", "otherone.rst"]  # the stale page is removed
    new = (tmp_path / "catalogue" / "brandnew.rst").read_text()
    other = (tmp_path / "catalogue" / "otherone.rst").read_text()
    # stated once, on its primary topic's page, with its id as label and HTML anchor
    assert ".. _toy.square:" in new and '<span id="toy.square"></span>' in new
    assert ".. _toy.sheppard:" in other and ".. _toy.sheppard:" not in new
    assert ":ref:`toy.sheppard <toy.sheppard>`" in new
    # the formula is the identity's own LaTeX, verbatim
    tex = ext.identity_latex(reg["toy.sheppard"])
    assert "   " + tex + "\n" in other and r"\frac{1}{4}" in tex
    assert r":math:`c \in \left[-1, 1\right]`" in other
    assert "derived by the ``polar`` engine" in other
    assert "reference identity from the literature" in new
    assert "Someone (2024), eq. (1)" in new
    # its verification, as given: a FAIL is shown as a FAIL
    assert ":Verification: **FAIL**; 1 points; sides agree to only 0.3 digits" in new
    assert ":Verification: not verified in this build" in other
    assert r"a square, a\*b\_c stays text" in new
    assert r"Sheppard for :math:`\rho_0`" in other
    idx = (tmp_path / "catalogue" / "index.rst").read_text()
    assert "brandnew <brandnew>" in idx and "otherone <otherone>" in idx
    assert "1 UNKNOWN" not in idx and "0 PASS, 1 FAIL, 0 UNKNOWN" in idx


def test_derivations_index_follows_the_markdown_present(ext, tmp_path):
    reg = _toy_registry()
    ext.write_pages(str(tmp_path), reg, {})
    assert "No derivation pages are present" in (tmp_path / "derivations" / "index.rst").read_text()
    (tmp_path / "derivations" / "kernels.md").write_text("# Kernels\n\n$$x^2$$\n")
    assert ext.write_pages(str(tmp_path), reg, {})["derivations"] == 1
    text = (tmp_path / "derivations" / "index.rst").read_text()
    assert ".. toctree::" in text and "\n   kernels" in text and "No derivation pages" not in text


def test_rst_text_escapes_markup_and_keeps_dollar_math(ext):
    assert ext.rst_text("a*rho_alpha(x) |y|") == r"a\*rho\_alpha(x) \|y\|"
    assert ext.rst_text(r"kernel of $\rho_\alpha$s") == r"kernel of :math:`\rho_\alpha`\ s"


def test_identity_latex_is_the_export_layer_s_when_present(ext):
    from symbolic_mf.catalogue import get_identity

    idy = get_identity("gauss.arccos-relu")
    try:
        from symbolic_mf.export.latex import identity_latex
    except ImportError:
        assert ext.identity_latex(idy) == idy.latex(conditions=False)
    else:
        assert ext.identity_latex(idy) == identity_latex(idy, conditions=False)
        assert r"\arccos" in ext.identity_latex(idy)


def test_catalogue_pages_cover_the_registry(ext, tmp_path):
    from symbolic_mf.catalogue import catalogue

    reg = catalogue()
    n = ext.write_pages(str(tmp_path), reg, {})
    assert n["topics"] == len(reg.topics()) >= 1
    for idy in reg:
        page = (tmp_path / "catalogue" / (ext.topic_page_name(idy.topics[0]) + ".rst")).read_text()
        assert f".. _{idy.id}:" in page, idy.id


# ---------------------------------------------------------------------------
# The site


def _sphinx(builder, out, env_extra):
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    env.update(env_extra)
    cmd = [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b", builder,
           "-d", os.path.join(TEST_OUT, "doctrees"), DOCS, out]
    return subprocess.run(cmd, cwd=DOCS, env=env, capture_output=True, text=True, timeout=900)


@pytest.fixture(scope="module")
def site(ext):
    try:
        ext.find_mathjax()
    except Exception as e:  # noqa: BLE001 - sphinx's ExtensionError
        pytest.skip(str(e))
    out = os.path.join(TEST_OUT, "html")
    r = _sphinx("html", out, {"SYMBOLIC_MF_DOCS_VERIFY": "skip"})
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-5000:]
    return out


def test_site_builds_offline_with_warnings_as_errors(site):
    pages = [os.path.join(d, f) for d, _, fs in os.walk(site) for f in fs if f.endswith(".html")]
    names = {os.path.relpath(p, site) for p in pages}
    assert {"index.html", "guide.html", "kernels.html", "catalogue/index.html",
            "derivations/index.html", "api.html"} <= names
    assert os.path.exists(os.path.join(site, "_static", "mathjax", "tex-chtml.js"))
    assert os.path.exists(os.path.join(site, "_static", "mathjax", "output", "chtml", "fonts",
                                       "woff-v2", "MathJax_Main-Regular.woff"))
    for p in pages:
        with open(p) as f:
            html = f.read()
        # nothing is fetched from a network: no remote scripts, styles or fonts
        assert not re.search(r"""<(script|link)[^>]+(src|href)=["']https?://""", html), p
    with open(os.path.join(site, "kernels.html")) as f:
        assert re.search(r'<img[^>]+kernels-1\.png', f.read())  # the J_phi(c) plot was drawn


def test_guide_examples_execute(ext):
    out = os.path.join(TEST_OUT, "doctest")
    r = _sphinx("doctest", out, {"SYMBOLIC_MF_DOCS_VERIFY": "skip"})
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-5000:]
    with open(os.path.join(out, "output.txt")) as f:
        report = f.read()
    m = re.search(r"(\d+) tests\s+(\d+) failures in tests", report)
    assert m and int(m.group(1)) >= 20 and m.group(2) == "0", report[-2000:]


def _chromium():
    return shutil.which("chromium") or shutil.which("chromium-browser")


def _browser(args, timeout=120):
    base = [_chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
            "--no-first-run", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--hide-scrollbars"]
    with tempfile.TemporaryDirectory() as profile:
        return subprocess.run(base + [f"--user-data-dir={profile}"] + args, capture_output=True,
                              text=True, timeout=timeout)


@pytest.mark.skipif(_chromium() is None, reason="chromium not installed (apt-get install -y chromium)")
def test_mathjax_typesets_every_catalogue_page_in_chromium(site):
    from symbolic_mf.catalogue import catalogue

    sys.path.insert(0, os.path.join(DOCS, "_ext"))
    try:
        import mf_catalogue
    finally:
        sys.path.pop(0)
    topics = list(catalogue().topics())
    shots = os.path.join(BUILD, "screenshots")
    os.makedirs(shots, exist_ok=True)
    pages = [(t, os.path.join(site, "catalogue", mf_catalogue.topic_page_name(t) + ".html"))
             for t in topics]
    deriv = os.path.join(site, "derivations")  # pages written by derivations/*.py, if any
    pages += [(f, os.path.join(deriv, f)) for f in sorted(os.listdir(deriv))
              if f.endswith(".html") and f != "index.html"]
    for t, page in pages:
        with open(page) as f:
            static = f.read()
        n_math = len(re.findall(r'class="math', static))
        assert n_math >= 1, page
        r = _browser(["--virtual-time-budget=20000", "--dump-dom", "file://" + page])
        assert r.returncode == 0, r.stderr[-2000:]
        dom = re.sub(r"<(script|style)\b.*?</\1>", "", r.stdout, flags=re.S)
        assert dom.count("<mjx-container") >= n_math, (t, dom.count("<mjx-container"), n_math)
        assert "<mjx-merror" not in dom, f"MathJax could not parse a formula on {t}"
        text = re.sub(r"<mjx-assistive-mml.*?</mjx-assistive-mml>", "", dom, flags=re.S)
        for raw in (r"\(", r"\[", "$$"):
            assert raw not in text, f"raw {raw} left untypeset on {t}"
    first = os.path.join(site, "catalogue", mf_catalogue.topic_page_name(topics[-1]) + ".html")
    png = os.path.join(shots, "catalogue.png")
    if os.path.exists(png):
        os.remove(png)
    r = _browser(["--virtual-time-budget=20000", "--window-size=1280,1600",
                  f"--screenshot={png}", "file://" + first])
    assert r.returncode == 0 and os.path.getsize(png) > 20000, r.stderr[-2000:]


@pytest.mark.slow
@needs_docs
def test_build_script_with_verification():
    """docs/build.sh end to end: verify --all to JSON, the guide's doctests, the HTML."""
    r = subprocess.run(["bash", os.path.join(DOCS, "build.sh")], capture_output=True, text=True,
                       timeout=3600)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-5000:]
    with open(os.path.join(DOCS, "catalogue", "index.rst")) as f:
        assert re.search(r"Verification: \d+ PASS, 0 FAIL", f.read())
