"""Where every template is found (``templates/``, shipped with the package), and the one
environment of the pages people read: the report's and the forecast's HTML and markdown."""

from __future__ import annotations

from functools import cache

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

TEMPLATES = PackageLoader("csa_closure.render", "templates")


@cache
def pages() -> Environment:
    """HTML and SVG templates escape every value; markdown and CSS are taken as written."""
    return Environment(
        loader=TEMPLATES,
        autoescape=select_autoescape(enabled_extensions=("html.j2", "svg.j2"), default_for_string=False),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
