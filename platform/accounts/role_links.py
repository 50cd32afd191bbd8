"""The port through which an area adds links to the roles it keeps itself (docs/adr/0034).

A role the shell knows (admin, secretary, committee, finance) is linked by the header and the
account page directly. A role an area keeps in its own table, such as residents' voice's
community stewards (ADR 0033: the shell knows nothing of voice), is linked through this port:
the area registers a provider in the composition root (`linju.platform.app.wire`), and
`load_user` asks each provider once per request for the account's links, which the header and
the account page list beside the others.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class RoleLink:
    """A page of a role the account holds: its path and its name (a message id and its
    parameters, translated where it is shown)."""

    href: str
    label: str
    params: Mapping[str, str] = field(default_factory=dict)


RoleLinks = Callable[[int], Awaitable[Sequence[RoleLink]]]

_providers: list[RoleLinks] = []


def register_role_links(provider: RoleLinks) -> None:
    """Idempotent: `wire()` may run more than once."""
    if provider not in _providers:
        _providers.append(provider)


async def role_links_of(account_id: int) -> tuple[RoleLink, ...]:
    links: list[RoleLink] = []
    for provider in _providers:
        links.extend(await provider(account_id))
    return tuple(links)
