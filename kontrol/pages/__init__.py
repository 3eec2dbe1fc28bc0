"""Every HTML page kontrol writes, rendered from Jinja2 templates in one environment.

The templates live in ``kontrol/pages/templates/`` (package data, shipped in
the wheel). All of them extend ``base.html.j2``: one self-contained document
with a Content-Security-Policy that allows no network access at all (inline
style, inline script where a page has one, ``data:`` images), so a page opens
the same offline, from an archive, or from a mail attachment.

Autoescaping is on for every template; a value reaches the page unescaped
only if code marks it :class:`markupsafe.Markup` explicitly. Danish number,
money and date formatting is registered as filters (``dkk``, ``number``,
``count``, ``da_date``, ``period``, ``score``, ``share``) from
:mod:`kontrol.danish`, the one place it is defined.

The output of :func:`render` depends only on its arguments: templates hold no
clock, no random value and iterate only over sequences they are given.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, Template
from markupsafe import Markup

from kontrol import danish

#: ``default-src 'none'``: no request leaves the page, not even for a favicon,
#: and no script runs unless the page has its own inline one (:data:`CSP_SCRIPT`).
CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
    "base-uri 'none'; form-action 'none'"
)
#: For a page with its own inline script (the case list): still no network.
CSP_SCRIPT = CSP.replace("style-src", "script-src 'unsafe-inline'; style-src")


@cache
def environment() -> Environment:
    """The shared environment: package templates, autoescape, strict undefined."""
    env = Environment(
        loader=PackageLoader("kontrol.pages", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        auto_reload=False,
    )
    env.filters.update(
        dkk=danish.fmt_dkk,
        number=danish.fmt_number,
        count=danish.fmt_int,
        da_date=danish.fmt_date,
        period=danish.fmt_period,
        score=danish.fmt_score,
        share=danish.fmt_share,
        month=danish.fmt_month,
    )
    env.globals["csp"] = Markup(CSP)
    env.globals["csp_script"] = Markup(CSP_SCRIPT)
    return env


def template(name: str) -> Template:
    return environment().get_template(name)


def render(name: str, **context: Any) -> str:
    """The named template rendered with ``context``."""
    return template(name).render(**context)


__all__ = ["CSP", "CSP_SCRIPT", "environment", "render", "template"]
