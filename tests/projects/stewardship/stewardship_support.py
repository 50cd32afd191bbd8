"""People and files for the secretary's-work tests (on top of tests/accounts_support.py)."""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any

from PIL import Image

from linju.platform.kernel.clock import local_today
from linju.projects.core.tables import CommitteeMember, Project
from tests.accounts_support import in_app, make_account
from tests.forms import submit


def png_bytes(width: int = 40, height: int = 30) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (200, 120, 40)).save(out, format="PNG")
    return out.getvalue()


@dataclass(frozen=True, slots=True)
class People:
    admin: int
    secretary: int  # of lvjingyuan (project tongqu-leyuan)
    other_secretary: int  # of hepingli (project yuelanshi)
    member: int  # committee member of tongqu-leyuan
    second_member: int  # another committee member of tongqu-leyuan
    other_member: int  # committee member of yuelanshi


async def seat_names(slug: str) -> list[str]:
    project = await Project.select(Project.id).where(Project.slug == slug).first()
    assert project is not None
    rows = await CommitteeMember.select(CommitteeMember.name).where(
        CommitteeMember.project == project["id"]
    )
    return [row["name"] for row in rows]


async def make_people(client: Any = None) -> People:
    """The demo's communities with one person in each role (the demo must be loaded)."""
    ours = await in_app(client, lambda: seat_names("tongqu-leyuan"))
    theirs = await in_app(client, lambda: seat_names("yuelanshi"))
    return People(
        admin=await make_account("admin@example.cn", "admin", client=client),
        secretary=await make_account(
            "sec@example.cn", "secretary", community="lvjingyuan", client=client
        ),
        other_secretary=await make_account(
            "sec2@example.cn", "secretary", community="hepingli", client=client
        ),
        member=await make_account(
            "m1@example.cn", "committee", name=ours[0], project="tongqu-leyuan", client=client
        ),
        second_member=await make_account(
            "m2@example.cn", "committee", name=ours[1], project="tongqu-leyuan", client=client
        ),
        other_member=await make_account(
            "m3@example.cn", "committee", name=theirs[0], project="yuelanshi", client=client
        ),
    )


async def record_offline_gift(
    client: Any,
    *,
    amount: str = "200",
    donor_name: str = "陈大爷",
    method: str = "cash",
    anonymous: bool = False,
    slug: str = "tongqu-leyuan",
) -> Any:
    """A secretary (logged in on `client`) records an offline gift received today, with a
    receipt's photo, through the workbench's form as it renders; the answer (303 when taken)."""
    fields: dict[str, Any] = {
        "amount": amount,
        "donor_name": donor_name,
        "received_on": local_today().isoformat(),
        "method": method,
    }
    if anonymous:
        fields["anonymous"] = True
    return await submit(
        client,
        f"/p/{slug}/manage",
        f"/p/{slug}/manage/offline",
        fields,
        files={"evidence": ("receipt.png", png_bytes(), "image/png")},
    )
