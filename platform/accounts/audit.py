"""The audit log of privileged actions: who, what, when, which object, before and after.

`record_audit` must be called inside the write transaction of the action it records, so an
action and its audit record are committed together or not at all.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from linju.platform.accounts.tables import AuditRecord
from linju.platform.kernel.clock import utc_now


@dataclass(frozen=True, slots=True)
class Actor:
    """Who acts: an account, or the command line (id None)."""

    id: int | None
    label: str


COMMAND_LINE = Actor(id=None, label="cli")


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)


def _to_json(values: dict[str, Any] | None) -> str:
    if values is None:
        return ""
    return json.dumps(values, ensure_ascii=False, sort_keys=True, default=_json_default)


async def record_audit(
    actor: Actor,
    action: str,
    object_type: str,
    object_id: str | int,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> None:
    """Write one audit record (call it inside the action's own write transaction)."""
    await AuditRecord.insert(
        AuditRecord(
            at=utc_now(),
            actor_id=actor.id,
            actor_label=actor.label[:254],
            action=action,
            object_type=object_type,
            object_id=str(object_id)[:100],
            before=_to_json(before),
            after=_to_json(after),
        )
    )


async def recent_audit(limit: int = 200, offset: int = 0) -> list[dict[str, Any]]:
    return list(
        await AuditRecord.select()
        .order_by(AuditRecord.id, ascending=False)
        .limit(limit)
        .offset(offset)
    )
