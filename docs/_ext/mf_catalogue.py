"""Sphinx extension: the catalogue and derivation pages, generated at build time.

Nothing in ``docs/catalogue/`` or ``docs/derivations/index.rst`` is written by
hand.  On ``builder-inited`` this extension

* walks the registry (:func:`symbolic_mf.catalogue.catalogue`) and writes one
  reStructuredText page per topic, in the order topics first appear; an
  identity is written out in full on the page of its primary topic (first in
  ``Identity.topics``) and linked from its other topics;
* attaches to each identity its last verification, read from the JSON that
  ``symbolic-mf verify --all --json`` prints (config ``mf_verify_json`` or the
  environment variable ``SYMBOLIC_MF_VERIFY_JSON``); if no such file is given
  the verifier runs here, in process (``mf_verify = "run"``), or is skipped
  (``mf_verify = "skip"``, for quick test builds: the page then says so);
* writes ``derivations/index.rst``: a toctree over ``docs/derivations/*.md``
  (written by ``derivations/<topic>.py``), or a note when there are none.

On ``build-finished`` it copies the local MathJax (see :func:`find_mathjax`)
into ``_static/mathjax`` so the site typesets formulas without a network.

The formula of each identity comes from :func:`identity_latex`, the single
switch between ``Identity.latex`` and the export layer's LaTeX printer.
"""

from __future__ import annotations

import datetime
import glob
import hashlib
import importlib
import importlib.metadata
import json
import os
import re
import shutil
import time
from typing import Dict, List, Optional

from sphinx.errors import ExtensionError
from sphinx.util import logging

logger = logging.getLogger(__name__)

# ---------------------------------------------------------------------------
# LaTeX: one function to switch


def identity_latex(identity, conditions: bool = False) -> str:
    """The LaTeX of ``identity`` as users get it.

    Uses ``symbolic_mf.export.latex.identity_latex`` when that module exists
    (the export layer, issue 4), else :meth:`Identity.latex`.  Both must give
    the statement ``lhs REL rhs``; the variables and their domains are shown
    separately on the page.
    """
    try:
        mod = importlib.import_module("symbolic_mf.export.latex")
    except ImportError:
        mod = None
    fn = getattr(mod, "identity_latex", None) if mod is not None else None
    if fn is not None:
        try:
            return fn(identity, conditions=conditions)
        except TypeError:  # a printer without the keyword
            return fn(identity)
    return identity.latex(conditions=conditions)


def domain_latex(symbol, domain) -> str:
    """LaTeX of ``symbol in domain`` (the Identity module's own rendering)."""
    try:
        from symbolic_mf.identity import _domain_latex
    except ImportError:  # pragma: no cover - spine changed
        import sympy as sp

        return r"%s \in \text{%s}" % (sp.latex(symbol), domain)
    return _domain_latex(symbol, domain)


# ---------------------------------------------------------------------------
# reStructuredText helpers

_RST_SPECIAL = re.compile(r"([\\`*_|<>\[\]])")
_DOLLAR = re.compile(r"\$([^$]+)\$")


def rst_text(s: str) -> str:
    """Plain text (with optional ``$...$`` math) as safe inline reST."""
    out, pos = [], 0
    for m in _DOLLAR.finditer(s):
        out.append(_RST_SPECIAL.sub(r"\\\1", s[pos:m.start()]))
        out.append(":math:`%s`" % m.group(1).replace("`", r"\`"))
        # an inline role must be followed by a word boundary
        if m.end() < len(s) and s[m.end()].isalnum():
            out.append("\\ ")
        pos = m.end()
    out.append(_RST_SPECIAL.sub(r"\\\1", s[pos:]))
    return "".join(out)


def heading(text: str, char: str) -> str:
    return f"{text}\n{char * max(len(text), 4)}\n"


def math_block(tex: str, indent: str = "") -> str:
    tex = " ".join(tex.split())  # one line: no blank line may end the block
    return f"{indent}.. math::\n\n{indent}   {tex}\n"


def topic_page_name(topic: str) -> str:
    return re.sub(r"[^a-z0-9_-]+", "-", topic.lower()).strip("-") or "topic"


# ---------------------------------------------------------------------------
# Verification results


def load_verification(app) -> Dict[str, dict]:
    """id -> verification row; rows carry a ``source`` describing their origin."""
    cfg = app.config
    path = os.environ.get("SYMBOLIC_MF_VERIFY_JSON") or cfg.mf_verify_json
    mode = os.environ.get("SYMBOLIC_MF_DOCS_VERIFY") or cfg.mf_verify
    if path:
        path = os.path.join(app.confdir, path) if not os.path.isabs(path) else path
        if not os.path.exists(path):
            raise ExtensionError(f"mf_verify_json: no such file {path!r}")
        with open(path) as f:
            rows = json.load(f)
        when = datetime.datetime.fromtimestamp(os.path.getmtime(path), datetime.timezone.utc)
        src = f"``symbolic-mf verify --all --json``, {when:%Y-%m-%d %H:%M} UTC"
        return {r["id"]: dict(r, source=src) for r in rows}
    if mode == "skip":
        return {}
    if mode != "run":
        raise ExtensionError(f"mf_verify must be 'run' or 'skip', got {mode!r}")
    from symbolic_mf.catalogue import catalogue
    from symbolic_mf.verify import verify

    out = {}
    t0 = time.perf_counter()
    for idy in catalogue():
        out[idy.id] = dict(verify(idy).to_dict(), source="verified during this build")
    logger.info(f"[mf_catalogue] verified {len(out)} identities in {time.perf_counter() - t0:.1f} s")
    return out


def verification_text(row: Optional[dict]) -> str:
    if row is None:
        return "not verified in this build (see ``symbolic-mf verify``)"
    v = row["verdict"]
    parts = [f"**{v}**"]
    if v == "PASS":
        dig = "exact" if row.get("digits") is None else f"at least {int(row['digits'])} significant digits"
        parts.append(f"{row['points']} points, {dig} at dps {row['dps']} "
                     f"(checked at {row['check_dps']})")
    else:
        parts.append(f"{row['points']} points")
        why = row.get("counterexample") or row.get("reason")
        if why:
            parts.append(rst_text(str(why)))
    parts.append(f"{row['seconds']:.2f} s")
    return "; ".join(parts) + f" — {row['source']}"


# ---------------------------------------------------------------------------
# Page generation


def identity_section(idy, row) -> str:
    lines = []
    lines.append(f".. _{idy.id}:\n")
    lines.append(".. raw:: html\n\n   <span id=\"%s\"></span>\n" % idy.id)
    lines.append(heading(f"``{idy.id}``", "-"))
    lines.append(rst_text(idy.title) + "\n")
    try:
        tex = identity_latex(idy, conditions=False)
    except Exception as e:  # a side that fails to derive is shown, not hidden
        logger.warning(f"[mf_catalogue] {idy.id}: no LaTeX ({type(e).__name__}: {e})")
        tex = r"\text{(could not be rendered)}"
    lines.append(math_block(tex))
    fields = []
    if idy.variables:
        fields.append(("Variables", ", ".join(
            ":math:`%s`" % domain_latex(v.symbol, v.domain) for v in idy.variables)))
    if idy.assumptions:
        import sympy as sp

        fields.append(("Assumptions", ", ".join(":math:`%s`" % sp.latex(a) for a in idy.assumptions)))
    fields.append(("Method", f"derived by the ``{idy.method}`` engine" if idy.method
                   else "reference identity from the literature (checked, not derived)"))
    if idy.references:
        fields.append(("References", "; ".join(rst_text(r) for r in idy.references)))
    if len(idy.topics) > 1:
        fields.append(("Also in", ", ".join(
            f":doc:`{t} <{topic_page_name(t)}>`" for t in idy.topics[1:])))
    fields.append(("Verification", verification_text(row)))
    if idy.notes:
        fields.append(("Notes", rst_text(idy.notes)))
    for name, body in fields:
        lines.append(f":{name}: {body}")
    lines.append("")
    return "\n".join(lines) + "\n"


def topic_page(topic: str, ids: List[str], reg, rows) -> str:
    own = [i for i in ids if reg[i].topics[0] == topic]
    other = [i for i in ids if reg[i].topics[0] != topic]
    out = [".. This page is generated by docs/_ext/mf_catalogue.py from the registry. Do not edit.\n",
           heading(f"Topic: {topic}", "="),
           f"{len(ids)} identities, from ``symbolic_mf.catalogue`` "
           f"(``symbolic-mf list --topic {topic}``).\n"]
    if own:
        out.append(".. contents:: On this page\n   :local:\n   :depth: 1\n")
    for i in own:
        out.append(identity_section(reg[i], rows.get(i)))
    if other:
        out.append(heading("Listed here, stated elsewhere", "-"))
        for i in other:
            out.append(f"* :ref:`{i} <{i}>` — {rst_text(reg[i].title)}")
        out.append("")
    return "\n".join(out)


def catalogue_index(topics: Dict[str, List[str]], reg, rows) -> str:
    counts = {"PASS": 0, "FAIL": 0, "UNKNOWN": 0}
    for r in rows.values():
        counts[r["verdict"]] = counts.get(r["verdict"], 0) + 1
    out = [".. This page is generated by docs/_ext/mf_catalogue.py from the registry. Do not edit.\n",
           heading("Catalogue", "="),
           f"Every identity shipped with ``symbolic_mf``: {len(reg)} identities in "
           f"{len(topics)} topics, generated from the registry when these pages were built.",
           "Each entry shows the statement as LaTeX (the same LaTeX ``symbolic-mf show ID --latex`` "
           "prints), the domains of its variables, its assumptions, references, the engine that "
           "derived it, and its last numerical verification.\n"]
    if rows:
        out.append(f"Verification: {counts['PASS']} PASS, {counts['FAIL']} FAIL, "
                   f"{counts['UNKNOWN']} UNKNOWN.\n")
    else:
        out.append("Verification was not run for this build.\n")
    out.append(".. toctree::\n   :maxdepth: 1\n")
    for t in topics:
        out.append(f"   {t} <{topic_page_name(t)}>")
    out.append("")
    return "\n".join(out)


def derivations_index(md_files: List[str]) -> str:
    out = [".. This page is generated by docs/_ext/mf_catalogue.py. Do not edit.\n",
           heading("Derivations", "="),
           "Each page is written by a script ``derivations/<topic>.py`` (run it with "
           "``python derivations/<topic>.py``), which calls the engines and prints every step.\n"]
    if not md_files:
        out.append(".. note::\n\n   No derivation pages are present in this build: "
                   "``docs/derivations/*.md`` is empty. Run the scripts in ``derivations/`` "
                   "(or ``docs/build.sh --derivations``) to produce them.\n")
        return "\n".join(out)
    out.append(".. toctree::\n   :maxdepth: 1\n")
    for f in md_files:
        out.append("   " + os.path.splitext(os.path.basename(f))[0])
    out.append("")
    return "\n".join(out)


def write_if_changed(path: str, text: str) -> None:
    """Write only on change, so Sphinx does not re-read unchanged pages."""
    if os.path.exists(path):
        with open(path) as f:
            if f.read() == text:
                return
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)


def write_pages(srcdir: str, reg, rows: Dict[str, dict]) -> Dict[str, int]:
    """Write the catalogue pages for ``reg`` and the derivations index under ``srcdir``.

    Returns counts: identities, topic pages, derivation pages.
    """
    topics = reg.topics()
    cat_dir = os.path.join(srcdir, "catalogue")
    os.makedirs(cat_dir, exist_ok=True)
    wanted = {"index.rst"}
    write_if_changed(os.path.join(cat_dir, "index.rst"), catalogue_index(topics, reg, rows))
    for t, ids in topics.items():
        name = topic_page_name(t) + ".rst"
        wanted.add(name)
        write_if_changed(os.path.join(cat_dir, name), topic_page(t, ids, reg, rows))
    for f in os.listdir(cat_dir):  # a topic that disappeared leaves no stale page
        if f.endswith(".rst") and f not in wanted:
            os.remove(os.path.join(cat_dir, f))
    md = sorted(glob.glob(os.path.join(srcdir, "derivations", "*.md")))
    write_if_changed(os.path.join(srcdir, "derivations", "index.rst"), derivations_index(md))
    return {"identities": len(reg), "topics": len(topics), "derivations": len(md)}


def generate(app) -> None:
    from symbolic_mf.catalogue import catalogue

    t0 = time.perf_counter()
    n = write_pages(app.srcdir, catalogue(), load_verification(app))
    logger.info(f"[mf_catalogue] {n['identities']} identities, {n['topics']} topic pages, "
                f"{n['derivations']} derivation pages ({time.perf_counter() - t0:.1f} s)")


# ---------------------------------------------------------------------------
# MathJax, vendored from an installed package

#: the parts of MathJax 3 (es5/) the tex-chtml component loads: the component,
#: its fonts, the TeX extensions autoload fetches (\boldsymbol, \cancel, ...),
#: and the menu/accessibility modules it loads lazily.  The speech rule engine
#: (sre/, 4 MB) is left out: only the menu's speech option needs it.
MATHJAX_PARTS = ("tex-chtml.js", "output/chtml/fonts/woff-v2", "input/tex/extensions", "ui", "a11y",
                 "adaptors")


def find_mathjax() -> str:
    """Directory holding MathJax 3's ``es5/`` tree (with ``tex-chtml.js``).

    Looked for, in order: ``$MATHJAX_DIR``; the PyPI package
    ``django-static-mathjax`` (MathJax 3.2.2, pure static files, no
    dependencies; listed in the ``docs`` extra); ``docs/_vendor/mathjax/es5``
    (e.g. unpacked from ``npm pack mathjax@3``).
    """
    cands = []
    if os.environ.get("MATHJAX_DIR"):
        cands.append(os.environ["MATHJAX_DIR"])
    try:
        dist = importlib.metadata.distribution("django-static-mathjax")
        for f in dist.files or ():
            if str(f).endswith("es5/tex-chtml.js"):
                cands.append(os.path.dirname(str(dist.locate_file(f))))
                break
    except importlib.metadata.PackageNotFoundError:
        pass
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    cands.append(os.path.join(here, "_vendor", "mathjax", "es5"))
    for c in cands:
        if os.path.exists(os.path.join(c, "tex-chtml.js")):
            return c
    raise ExtensionError(
        "MathJax 3 not found: install the docs extra (pip install -e '.[docs]', which brings "
        "django-static-mathjax), or set MATHJAX_DIR to a MathJax 3 es5/ directory")


def copy_mathjax(app, exc) -> None:
    if exc is not None or app.builder.format != "html":
        return
    src = app.config.mf_mathjax_dir
    dst = os.path.join(app.outdir, "_static", "mathjax")
    for part in MATHJAX_PARTS:
        s, d = os.path.join(src, part), os.path.join(dst, part)
        if os.path.isdir(s):
            shutil.copytree(s, d, dirs_exist_ok=True)
        elif os.path.exists(s):
            os.makedirs(os.path.dirname(d), exist_ok=True)
            shutil.copy2(s, d)


def config_inited(app, config) -> None:
    config.mf_mathjax_dir = find_mathjax()
    config.mathjax_path = "mathjax/tex-chtml.js"


def setup(app):
    app.add_config_value("mf_verify_json", "", "env")
    app.add_config_value("mf_verify", "run", "env")
    app.add_config_value("mf_mathjax_dir", "", "env")
    app.connect("config-inited", config_inited)
    app.connect("builder-inited", generate)
    app.connect("build-finished", copy_mathjax)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
