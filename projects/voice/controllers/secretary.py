"""The secretary's pages of residents' voice: households (CSV import, one by one, cards with
codes), community stewards, the needs' settings, and answering needs under review (accept into a
draft project, or decline with a public reason), each answer confirmed first (ADR 0024).

Every route is guarded by role AND object: the secretary of the community in the path.
"""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Request, Response, get, post
from litestar.params import FromPath, Parameter
from litestar.response import Template

from linju.platform.accounts import guards
from linju.platform.i18n import current_locale, gettext
from linju.platform.kernel.errors import N_, NotFound, RuleViolation, ValidationErrors
from linju.platform.kernel.inputs import INT64_MAX, InputRefused, whole_number
from linju.platform.kernel.money import yuan_or_none
from linju.platform.settings import get_settings
from linju.platform.web import Confirmation, Page, SubmittedForm, confirmed, render, tell
from linju.projects.voice import read, rules
from linju.projects.voice.controllers.residents import NeedId
from linju.projects.voice.services import households, needs, stewards
from linju.projects.voice.services.cards import qr_svg

AnyRequest = Request[Any, Any, Any]
TAGS = ["secretary"]
GUARDS = [guards.require_secretary_of_community]


# Households ---------------------------------------------------------------------------------


def _households_page(community: str) -> Page:
    async def context() -> dict[str, Any]:
        return {
            "community": await households.community_row(community),
            "households": await households.households_of(community),
        }

    return Page("voice/secretary_households.html", context)


@get(
    "/secretary/c/{community:str}/households",
    guards=GUARDS,
    tags=TAGS,
    summary="The community's households: import, add, print cards with codes",
)
async def households_page(community: FromPath[str]) -> Template:
    return await _households_page(community).show()


@post(
    "/secretary/c/{community:str}/households/import",
    guards=GUARDS,
    tags=TAGS,
    summary="Register households from a CSV (building,unit,room): all, or none and every bad line",
)
async def import_households(request: AnyRequest, community: FromPath[str]) -> Response[Any]:
    user = guards.logged_in_user(request)

    async def import_them(form: SubmittedForm) -> str:
        files = [f for f in form.files("file") if f.filename]
        if not files:
            raise ValidationErrors({"file": N_("Choose a CSV file")})
        data = await files[0].read()
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ValidationErrors({"file": N_("The file is not UTF-8 text")}) from exc
        try:
            count = await households.import_households(user.actor, community, text)
        except households.CsvRefused as refused:
            lines = "; ".join(
                gettext("line %(line)s: %(problem)s", line=p.line, problem=gettext(p.message))
                for p in refused.lines[:50]
            )
            raise ValidationErrors(
                {"file": gettext("Nothing was added. %(lines)s", lines=lines)}
            ) from refused
        tell(request, N_("%(count)s households added"), count=count)
        return f"/secretary/c/{community}/households"

    return await _households_page(community).submit(request, "import", import_them)


@post(
    "/secretary/c/{community:str}/households",
    guards=GUARDS,
    tags=TAGS,
    summary="Register one household (building, unit, room)",
)
async def add_household(request: AnyRequest, community: FromPath[str]) -> Response[Any]:
    user = guards.logged_in_user(request)

    async def add(form: SubmittedForm) -> str:
        address = rules.cleaned_address(form.text("building"), form.text("unit"), form.text("room"))
        await households.register_household(user.actor, community, address)
        tell(request, N_("Household %(address)s added"), address=address.label)
        return f"/secretary/c/{community}/households"

    return await _households_page(community).submit(request, "household", add)


def _chosen(form: SubmittedForm, rows: list[dict[str, Any]]) -> list[int]:
    """The households the form names: `which=new`, those without a code yet; or `households`,
    comma-separated ids (one household's button, or the confirmation page carrying them)."""
    if form.text("which") == "new":
        return [int(r["id"]) for r in rows if r["code_issued_at"] is None]
    known = {int(r["id"]) for r in rows}
    chosen: list[int] = []
    for text in form.text("households").split(","):
        try:
            number = whole_number(text)
        except InputRefused:
            continue
        if number in known and number not in chosen:
            chosen.append(number)
    return chosen


@post(
    "/secretary/c/{community:str}/households/cards",
    guards=GUARDS,
    tags=TAGS,
    summary="Issue codes and print the households' cards (confirmed first: old codes stop)",
)
async def issue_cards(request: AnyRequest, community: FromPath[str]) -> Response[Any]:
    user = guards.logged_in_user(request)

    async def issue(form: SubmittedForm) -> Response[Any]:
        rows = await households.households_of(community)
        chosen = _chosen(form, rows)
        if not chosen:
            raise ValidationErrors({"": N_("Every household has a code already")})
        if not confirmed(form):
            labels = [r["label"] for r in rows if int(r["id"]) in chosen]
            reissued = sum(1 for r in rows if int(r["id"]) in chosen and r["code_issued_at"])
            return await Page(
                "voice/confirm_cards.html",
                {
                    "community": await households.community_row(community),
                    "labels": labels,
                    "reissued": reissued,
                    "confirmation": Confirmation(
                        f"/secretary/c/{community}/households/cards",
                        f"/secretary/c/{community}/households",
                        {"households": ",".join(str(i) for i in chosen)},
                    ),
                    "confirm_form": "cards",
                },
            ).show()
        issued = await households.issue_codes(user.actor, community, chosen)
        base = get_settings().base_url
        cards = []
        for row, code in issued:
            url = f"{base}/c/{community}/household?code={code}"
            cards.append(
                {"label": row["label"], "code": rules.grouped_code(code), "qr": qr_svg(url)}
            )
        return render(
            "voice/cards.html",
            {
                "community": await households.community_row(community),
                "cards": cards,
                "entry_url": f"{base}/c/{community}/household",
            },
        )

    return await _households_page(community).submit(request, "cards", issue)


# Needs, settings and stewards ---------------------------------------------------------------


def _needs_page(community: str) -> Page:
    async def context() -> dict[str, Any]:
        return {
            **await read.secretary_needs(community),
            "stewards": await stewards.stewards_of(community),
        }

    return Page("voice/secretary_needs.html", context)


@get(
    "/secretary/c/{community:str}/needs",
    guards=GUARDS,
    tags=TAGS,
    summary="The secretary's needs workbench: needs to answer, settings, stewards",
)
async def needs_page(community: FromPath[str]) -> Template:
    return await _needs_page(community).show()


def _number(form: SubmittedForm, name: str) -> int | None:
    try:
        return whole_number(form.text(name), high=10_000)
    except InputRefused:
        return None


@post(
    "/secretary/c/{community:str}/needs/settings",
    guards=GUARDS,
    tags=TAGS,
    summary="Set the community's review threshold (percent of households) and answer time",
)
async def save_settings(request: AnyRequest, community: FromPath[str]) -> Response[Any]:
    user = guards.logged_in_user(request)

    async def save(form: SubmittedForm) -> str:
        await needs.save_settings(
            user.actor,
            community,
            _number(form, "threshold_percent"),
            _number(form, "answer_days"),
        )
        tell(request, N_("Saved: the rules of residents' needs"))
        return f"/secretary/c/{community}/needs"

    return await _needs_page(community).submit(request, "settings", save)


@post(
    "/secretary/c/{community:str}/stewards",
    guards=GUARDS,
    tags=TAGS,
    summary="Name a resident a community steward (an invitation is mailed to a new account)",
)
async def name_steward(request: AnyRequest, community: FromPath[str]) -> Response[Any]:
    user = guards.logged_in_user(request)

    async def name(form: SubmittedForm) -> str:
        await stewards.name_steward(
            user.actor, community, form.text("email"), form.text("name"), current_locale.get()
        )
        tell(request, N_("%(name)s is now a steward of the community"), name=form.text("name"))
        return f"/secretary/c/{community}/needs#stewards"

    return await _needs_page(community).submit(request, "steward", name)


@post(
    "/secretary/c/{community:str}/stewards/{account_id:str}/removal",
    guards=GUARDS,
    tags=TAGS,
    summary="The person is no longer a steward of the community",
)
async def remove_steward(
    request: AnyRequest,
    community: FromPath[str],
    account_id: Annotated[int, Parameter(ge=1, le=INT64_MAX, description="The steward's account")],
) -> Response[Any]:
    user = guards.logged_in_user(request)

    async def remove(form: SubmittedForm) -> str:
        if not rules.valid_id(account_id):
            raise NotFound(N_("This person is not a steward of the community"))
        await stewards.remove_steward(user.actor, community, account_id)
        tell(request, N_("No longer a steward of the community"))
        return f"/secretary/c/{community}/needs#stewards"

    return await _needs_page(community).submit(request, f"removal-{account_id}", remove)


def _answer_page(community: str, need_id: int, template: str, carried: dict[str, str]) -> Page:
    async def context() -> dict[str, Any]:
        need = await read.need(need_id)
        return {
            "need": need,
            "carried": carried,
            "confirmation": Confirmation(
                f"/secretary/c/{community}/needs/{need_id}/{template}",
                f"/secretary/c/{community}/needs",
                carried,
            ),
            "confirm_form": template,
        }

    return Page(f"voice/confirm_{template}.html", context)


@post(
    "/secretary/c/{community:str}/needs/{need_id:str}/accept",
    guards=GUARDS,
    tags=TAGS,
    summary="Accept a need under review: a draft project linked to it (confirmed first)",
)
async def accept_need(
    request: AnyRequest, community: FromPath[str], need_id: NeedId
) -> Response[Any]:
    user = guards.logged_in_user(request)

    async def accept(form: SubmittedForm) -> Response[Any] | str:
        goal = yuan_or_none(form.text("goal"))
        if goal is None or goal <= 0:
            raise ValidationErrors({"goal": N_("Enter the first estimate of the cost in yuan")})
        if not confirmed(form):
            await _check_answerable(community, need_id)
            return await _answer_page(
                community, need_id, "accept", {"goal": form.text("goal").strip()}
            ).show()
        slug = await needs.accept_need(user.actor, community, need_id, goal)
        tell(request, N_("Accepted: the draft project is ready for you to finish"))
        return f"/p/{slug}/manage"

    return await _needs_page(community).submit(request, f"accept-{need_id}", accept)


@post(
    "/secretary/c/{community:str}/needs/{need_id:str}/decline",
    guards=GUARDS,
    tags=TAGS,
    summary="Decline a need under review with a public reason (confirmed first)",
)
async def decline_need(
    request: AnyRequest, community: FromPath[str], need_id: NeedId
) -> Response[Any]:
    user = guards.logged_in_user(request)

    async def decline(form: SubmittedForm) -> Response[Any] | str:
        reason = form.text("reason")
        problems = rules.decline_problems(reason)
        if problems:
            raise ValidationErrors(problems)
        if not confirmed(form):
            await _check_answerable(community, need_id)
            return await _answer_page(community, need_id, "decline", {"reason": reason}).show()
        await needs.decline_need(user.actor, community, need_id, reason)
        tell(request, N_("Declined: the residents see your reason"))
        return f"/secretary/c/{community}/needs"

    return await _needs_page(community).submit(request, f"decline-{need_id}", decline)


async def _check_answerable(community: str, need_id: int) -> None:
    """Before the confirmation page: the need is this community's and under review."""
    need = await read.need(need_id)
    if need.community_slug != community:
        raise NotFound(needs.NO_NEED)
    problem = rules.transition_problem(need.status, rules.NeedStatus.ACCEPTED)
    if problem is not None:
        raise RuleViolation(problem)


ROUTES: list[Any] = [
    households_page,
    import_households,
    add_household,
    issue_cards,
    needs_page,
    save_settings,
    name_steward,
    remove_steward,
    accept_need,
    decline_need,
]
