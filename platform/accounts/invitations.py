"""Admin use cases: invite a secretary or a committee member.

An invitation creates the account (or adds the role to an existing one) and, for an account
without a password yet, mails a single-use link to choose one: the reset mechanism with a longer
lifetime. The mail is queued in the same transaction (a job sends it), so no mail points at a
rolled-back row and none is lost when the process stops after the commit.
"""

from __future__ import annotations

from linju.platform.accounts.audit import Actor, record_audit
from linju.platform.accounts.login import issue_password_token, queue_password_mail
from linju.platform.accounts.places import SeatRefusal, places, seat_refusal
from linju.platform.accounts.services import NewAccount, Role, create_account, normalise_email
from linju.platform.accounts.tables import Account
from linju.platform.db import write_transaction
from linju.platform.i18n import gettext
from linju.platform.kernel.errors import NotFound, ValidationErrors


async def _check_seat(new: NewAccount, add_seat: bool) -> None:
    """The rule of `linju users create` (ADR 0022, `places.seat_refusal`): a committee member is
    linked to the seat with their name, or refused beside the name listing the seats; a seat is
    added only when asked, and only to a draft. Nothing is written before this check."""
    if new.role is not Role.COMMITTEE or not new.project_slug:
        return
    try:
        status, seats = await places().committee_seats(new.project_slug)
    except NotFound:
        return  # an unknown project is refused beside its field by create_account
    row = (
        await Account.select(Account.id).where(Account.email == normalise_email(new.email)).first()
    )
    account_id = int(row["id"]) if row is not None else None
    refusal = seat_refusal(new.display_name, status, seats, account_id, add_seat)
    if refusal is SeatRefusal.HELD:
        raise ValidationErrors(
            {
                "name": gettext(
                    "The seat of %(name)s is held by another account.", name=new.display_name
                )
            }
        )
    if refusal is SeatRefusal.NO_SEAT:
        names = gettext(", ").join(seat for seat, _ in seats) or gettext("none yet")
        raise ValidationErrors(
            {
                "name": gettext(
                    "This project's committee has no seat named %(name)s. Its seats: %(seats)s. "
                    "Check the name as the project shows it.",
                    name=new.display_name,
                    seats=names,
                )
            }
        )
    if refusal is SeatRefusal.PUBLISHED:
        raise ValidationErrors(
            {
                "add_seat": gettext(
                    "This project is published: its seats change by a committee decision, not "
                    "here. No seat was added."
                )
            }
        )


async def invite(actor: Actor, new: NewAccount, locale: str, *, add_seat: bool = False) -> int:
    """Create or extend the account and mail the link; a committee member's seat is linked by
    name, or added to a draft only with `add_seat`."""
    async with write_transaction():
        await _check_seat(new, add_seat)
        account_id = await create_account(actor, new)
        row = await Account.select(Account.password_hash).where(Account.id == account_id).first()
        if row is not None and not row["password_hash"]:
            seed = await issue_password_token(account_id, "invite")
            await queue_password_mail(new.email.strip().lower(), seed, "invite", locale)
        await record_audit(
            actor,
            "account.invite",
            "account",
            account_id,
            after={
                "email": new.email.strip().lower(),
                "role": new.role.value,
                "community": new.community_slug,
                "project": new.project_slug,
            },
        )
    return account_id
