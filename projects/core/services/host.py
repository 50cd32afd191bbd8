"""The host charity: read from its form or the command line, checked, saved with its audit record.

One row per deployment (docs/adr/0027-host-and-fund.md): saving replaces it. The credit code is
checked by python-stdnum (`rules.credit_code`) and stored compact, upper case.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, replace
from datetime import date
from typing import Any

from piccolo.columns import Column

from linju.platform.accounts.audit import Actor, record_audit
from linju.platform.db import write_transaction
from linju.platform.kernel.clock import local_today, utc_now
from linju.platform.kernel.errors import N_, ValidationErrors
from linju.platform.kernel.inputs import DAY_RANGE, InputRefused, calendar_day
from linju.projects.core.read import host_details
from linju.projects.core.rules import HostDetails, credit_code, host_problems, platforms_from_text
from linju.projects.core.tables import Host

HOST_FIELDS = (
    "name",
    "credit_code",
    "fundraising_qualified",
    "qualified_on",
    "registration_authority",
    "contact",
    "designated_platforms",
    "filing_required",
)
EMPTY_HOST = HostDetails(
    name="",
    credit_code="",
    fundraising_qualified=False,
    qualified_on=None,
    registration_authority="",
    contact="",
)


def _day(text: str, problems: dict[str, str], field: str) -> date | None:
    if not text.strip():
        return None
    try:
        return calendar_day(text)
    except InputRefused as exc:
        problems[field] = DAY_RANGE if exc.message == DAY_RANGE else N_("Enter a date")
        return None


def host_from_form(fields: Mapping[str, str]) -> HostDetails:
    """The host's form as typed; ValidationErrors naming every field that is wrong."""
    problems: dict[str, str] = {}
    details = HostDetails(
        name=fields.get("name", "").strip(),
        credit_code=fields.get("credit_code", "").strip(),
        fundraising_qualified=bool(fields.get("fundraising_qualified", "")),
        qualified_on=_day(fields.get("qualified_on", ""), problems, "qualified_on"),
        registration_authority=fields.get("registration_authority", "").strip(),
        contact=fields.get("contact", "").strip(),
        designated_platforms=platforms_from_text(fields.get("designated_platforms", "")),
        filing_required=bool(fields.get("filing_required", "")),
    )
    for field, problem in host_problems(details, local_today()).items():
        problems.setdefault(field, problem)
    if problems:
        raise ValidationErrors(problems)
    return details


def host_form_values(details: HostDetails | None) -> dict[str, str]:
    """The host as its form shows it."""
    if details is None:
        return {"filing_required": "on"}
    return {
        "name": details.name,
        "credit_code": details.credit_code,
        "fundraising_qualified": "on" if details.fundraising_qualified else "",
        "qualified_on": details.qualified_on.isoformat() if details.qualified_on else "",
        "registration_authority": details.registration_authority,
        "contact": details.contact,
        "designated_platforms": "\n".join(details.designated_platforms),
        "filing_required": "on" if details.filing_required else "",
    }


async def current_or_empty() -> HostDetails:
    return await host_details() or EMPTY_HOST


def changed(details: HostDetails, **changes: Any) -> HostDetails:
    """The host with some of its details replaced (the command line's `host set`)."""
    return replace(details, **changes)


async def save_host(actor: Actor, details: HostDetails) -> HostDetails:
    """Check and save the host (replacing the one there was), with its audit record."""
    problems = host_problems(details, local_today())
    if problems:
        raise ValidationErrors(problems)
    code = credit_code(details.credit_code)
    assert code is not None
    details = replace(details, credit_code=code, name=details.name.strip())
    values: dict[Column, Any] = {
        Host.name: details.name,
        Host.credit_code: details.credit_code,
        Host.fundraising_qualified: details.fundraising_qualified,
        Host.qualified_on: details.qualified_on,
        Host.registration_authority: details.registration_authority.strip(),
        Host.contact: details.contact.strip(),
        Host.designated_platforms: "\n".join(details.designated_platforms),
        Host.filing_required: details.filing_required,
        Host.updated_at: utc_now(),
    }
    async with write_transaction():
        before = await host_details()
        row = await Host.select(Host.id).order_by(Host.id).first()
        if row is None:
            await Host.insert(Host(values))
        else:
            changes: dict[Column | str, Any] = dict(values.items())
            await Host.update(changes).where(Host.id == row["id"])
        await record_audit(
            actor,
            "host.edit",
            "host",
            details.credit_code,
            before=asdict(before) if before else None,
            after=asdict(details),
        )
    return details
