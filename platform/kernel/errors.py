"""Domain errors. They carry an untranslated message id and its parameters; the web edge
translates them and turns them into a problem document or a re-rendered form."""

from __future__ import annotations

from typing import Any, TypeVar

T = TypeVar("T")


def N_(message: str) -> str:
    """Mark a domain message for translation; the web edge translates it at display time."""
    return message


class DomainError(Exception):
    """A rule of the domain refused an action. `status` is the HTTP status it maps to."""

    status = 422
    title = "Unprocessable request"

    def __init__(self, message: str, /, **params: Any) -> None:
        super().__init__(message % params if params else message)
        self.message = message
        self.params = params


class NotFound(DomainError):
    status = 404
    title = "Not found"


def found(value: T | None, message: str = N_("Page not found"), /, **params: Any) -> T:
    """`value`, or NotFound (404) with `message` when it is None: how a route says that the row,
    file or session it looked up is not there."""
    if value is None:
        raise NotFound(message, **params)
    return value


class RuleViolation(DomainError):
    """The input breaks a rule (an amount out of range, budget lines that do not add up)."""

    status = 422
    title = "Rule violated"


class Conflict(DomainError):
    """The action is valid in general but not in the object's current state."""

    status = 409
    title = "Conflict"


class Unavailable(DomainError):
    """A service the action needs (a payment provider) cannot be reached; nothing was done, and
    the same request may be tried again later."""

    status = 503
    title = "Service unavailable"


class ValidationErrors(RuleViolation):
    """Several field-level problems found at once, so a form can show them all."""

    def __init__(self, problems: dict[str, str]) -> None:
        super().__init__(N_("The input has %(count)d problem(s)"), count=len(problems))
        self.problems = problems
