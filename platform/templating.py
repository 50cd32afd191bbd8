"""The Jinja2 environment: autoescaped, with i18n and our display filters.

An Environment built by hand has autoescape off unless it is turned on; every template here
is HTML or text that shows user input, so it is on for all of them.
"""

from __future__ import annotations

from datetime import date, datetime
from functools import lru_cache
from typing import Any

from babel.dates import format_date, format_datetime
from jinja2 import Environment, FileSystemLoader, StrictUndefined, pass_context, select_autoescape
from jinja2.runtime import Context
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.template.config import TemplateConfig
from markupsafe import Markup, escape

from linju.platform import display, i18n
from linju.platform.assets import static_url
from linju.platform.kernel.clock import COMMUNITY_TIMEZONE, community_date, community_time
from linju.platform.kernel.markdown import render_markdown
from linju.platform.kernel.money import Money, format_money
from linju.platform.resources import package_dir
from linju.platform.settings import GATEWAYS, get_settings
from linju.platform.web import FormState


def templates_dir() -> str:
    return str(package_dir("linju.templates"))


def _money(value: Money) -> str:
    return format_money(value, i18n.current_locale.get())


def _date(value: date | None) -> str:
    """A day, one way per language (Babel's long date: 2026年11月27日, November 27, 2026); a
    moment is first taken to the community's time zone, so its day is the residents' day."""
    if value is None:
        return ""
    return format_date(
        community_date(value), format="long", locale=i18n.babel_locale(i18n.current_locale.get())
    )


def _datetime(value: datetime | str | None) -> str:
    """A moment, one way per language and in the community's time zone (Babel's medium date and
    time: 2026年11月27日 17:44:51, Nov 27, 2026, 5:44:51 PM); docs/adr/0028. A ledger entry's
    `at` (ISO 8601 text, UTC) is read first: raw ISO text never reaches a page's visible content
    (a `<time datetime="...">` attribute may keep it)."""
    if value is None or value == "":
        return ""
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return format_datetime(
        community_time(moment),
        format="medium",
        tzinfo=COMMUNITY_TIMEZONE,
        locale=i18n.babel_locale(i18n.current_locale.get()),
    )


def _paragraphs(text: str) -> Markup:
    """Plain text to escaped paragraphs: blank lines split paragraphs, newlines become <br>."""
    blocks = [block.strip() for block in text.replace("\r\n", "\n").split("\n\n") if block.strip()]
    return Markup("").join(
        Markup("<p>{}</p>").format(Markup("<br>").join(escape(line) for line in block.split("\n")))
        for block in blocks
    )


def _short_hash(value: str, length: int = 12) -> str:
    return value[:length]


@pass_context
def _csrf_field(context: Context) -> Markup:
    """The hidden CSRF input for a form: `{{ csrf_field() }}` inside every <form method="post">.

    Litestar puts the ready-made input in the context as a plain string; it is our own markup
    (no user input), so it is emitted as-is rather than escaped.
    """
    field = context.get("csrf_input", "")
    if 'value=""' in field:  # no token: a cached public page's anonymous form (ADR 0036)
        return Markup("")
    return Markup(field)  # noqa: S704 - Litestar's own hidden input


@pass_context
def _form_state(context: Context, name: str, initial: Any = None) -> FormState:
    """A form of the page: `{% set f = form_state("offline") %}`, drawn with partials/forms.html.

    The form that just failed (`failed_form`, from `platform.web.Page.submit`) comes back with its
    values and problems; any other starts from `initial` (a mapping of field values).
    """
    failed = context.get("failed_form")
    if isinstance(failed, FormState) and failed.name == name:
        return failed
    return FormState(name, dict(initial or {}))


@lru_cache(maxsize=1)
def build_environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(templates_dir()),
        autoescape=select_autoescape(enabled_extensions=("html", "txt"), default=True),
        undefined=StrictUndefined,
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,
    )
    env.install_gettext_callables(  # type: ignore[attr-defined]
        gettext=lambda message, **params: i18n.gettext(message, **params),
        ngettext=lambda s, p, n, **params: i18n.ngettext(s, p, n, **params),
        newstyle=True,
    )
    env.filters.update(
        money=_money, date=_date, datetime=_datetime, paragraphs=_paragraphs, short_hash=_short_hash
    )
    env.filters.update(markdown=render_markdown)  # a project's story (sanitised by nh3)
    env.globals.update(
        current_locale=i18n.current_locale.get,
        elder_mode=display.elder_mode,
        language_tags=i18n.LANGUAGE_TAGS,
        csrf_field=_csrf_field,
        form_state=_form_state,
        static_url=static_url,
        test_mode=_test_mode,
    )
    return env


def _test_mode() -> bool:
    """Whether the sandbox takes the donations (GATEWAYS[0]): every page then says so."""
    return get_settings().payment_gateway == GATEWAYS[0]


def template_config() -> TemplateConfig[Any]:
    return TemplateConfig(instance=JinjaTemplateEngine.from_environment(build_environment()))
