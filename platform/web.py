"""What every area's routes share for people's forms: errors beside fields, safe redirects.

Controllers stay thin by leaving the plumbing here (docs/adr/0011-house-plan.md).
"""

from __future__ import annotations

from typing import Any

from litestar.response import Template

from linju.platform.i18n import gettext
from linju.platform.kernel.errors import DomainError, ValidationErrors


def safe_next(next_path: str | None) -> str:
    """Only paths on this site: never an open redirect to another host."""
    if not next_path or not next_path.startswith("/") or next_path.startswith("//"):
        return "/"
    if "\\" in next_path or any(ord(ch) < 32 for ch in next_path):
        return "/"
    return next_path


def form_errors(exc: DomainError) -> dict[str, str]:
    """A domain error as translated messages per field ("" for the form as a whole)."""
    if isinstance(exc, ValidationErrors):
        return {field: gettext(message) for field, message in exc.problems.items()}
    return {"": gettext(exc.message, **exc.params)}


def form_page(name: str, status: int = 200, **context: Any) -> Template:
    context.setdefault("errors", {})
    context.setdefault("values", {})
    return Template(name, context=context, status_code=status)
