"""The secretary's pages: the dashboard, a project's workbench (drafting and publishing through
`projects.core`'s services) and the work around a project (offline donations, matching pledges,
updates, in-kind help, the poster).

Thin: each POST hands its form to `platform.web.Page.submit` with the one use case it calls, and
redirects (303), or the page comes back with the problems in the visitor's language (422, or the
refusal's own status). Every route is guarded by role AND object (docs/adr/0006-accounts.md); a
committee member confirms offline donations on /p/{slug}/offline, and matching pledges on the
committee's page (/committee, projects/spending/controllers/committee.py).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, time
from typing import Annotated, Any

import msgspec
from litestar import Request, Response, get, post
from litestar.exceptions import PermissionDeniedException
from litestar.params import FromPath, Parameter, QueryParameter
from litestar.response import Redirect, Template

from linju.platform.accounts import guards
from linju.platform.i18n import gettext
from linju.platform.kernel.clock import COMMUNITY_TIMEZONE, local_today
from linju.platform.kernel.errors import N_, DomainError
from linju.platform.kernel.inputs import INT64_MAX, whole_number
from linju.platform.kernel.money import AmountOut, Money, parse_yuan, yuan_or_none
from linju.platform.web import (
    Confirmation,
    FormState,
    Page,
    SubmittedForm,
    confirmed,
    iso_date,
    tell,
)
from linju.projects.core import read as queries
from linju.projects.core.services import drafting, photos
from linju.projects.core.services.projects import (
    ProjectDraft,
    PublicationRefused,
    check_publishable,
    publication_check,
)
from linju.projects.stewardship import read as dashboard
from linju.projects.stewardship import rules
from linju.projects.stewardship.services import (
    disclosures,
    in_kind,
    matching,
    offline_donations,
    poster,
    updates,
)

AnyRequest = Request[Any, Any, Any]
DisclosureSeq = Annotated[
    int, Parameter(ge=1, le=INT64_MAX, description="The disclosure's number in its project")
]
TAGS = ["secretary"]
AWAITS_SECOND_PERSON = N_("Recorded: waiting for another committee member to confirm it")


async def _store_photos(
    form: SubmittedForm, name: str, stored: list[photos.StoredPhoto]
) -> list[photos.StoredPhoto]:
    """Store a field's photos (noted in `stored` too); refused, naming it, if one is no photo."""
    return await photos.store_field(name, [await f.read() for f in form.files(name)], stored)


async def _read_draft(
    form: SubmittedForm, community: str, stored: list[photos.StoredPhoto], texts: dict[str, str]
) -> tuple[ProjectDraft, list[photos.StoredPhoto]]:
    """The draft (read from `texts`, the form's text as the route completed it) and its new
    gallery photos."""
    drafting.parse_draft_form(texts, community)  # every typing mistake before any photo is kept
    cover = await _store_photos(form, "cover", stored)
    gallery = await _store_photos(form, "gallery", stored)
    return drafting.parse_draft_form(texts, community, cover[0].url if cover else ""), gallery


# Dashboard and new drafts -------------------------------------------------------------------


@get("/secretary", guards=[guards.require_login], tags=TAGS, summary="The secretary's dashboard")
async def secretary_dashboard(request: AnyRequest) -> Template:
    user = guards.logged_in_user(request)
    if not user.secretary_of:
        raise PermissionDeniedException()
    return Template(
        "secretary/dashboard.html",
        context={"rows": await dashboard.dashboard_rows(sorted(user.secretary_of))},
    )


# Drafting (docs/adr/0022-drafting.md): the form's rows, the address proposed from the title
# and the running total come back on a round-trip (`action`), without a script; saving is the
# one use case of each route.
ROUND_TRIPS = frozenset({"add-budget", "add-committee", "propose-slug"})
DRAFT_ERROR_FIELDS = {"budget": "budget_rows", "committee": "committee_rows"}


def _draft_page(community: str) -> Page:
    initial = {f"{kind}_rows": str(n) for kind, n in drafting.NEW_DRAFT_ROWS.items()}
    return Page(
        "secretary/draft.html",
        {
            "action": f"/secretary/c/{community}/new",
            "new": True,
            "initial": initial,
            "draft_layout": drafting.form_layout,
        },
    )


def _edit_page(slug: str) -> Page:
    async def context() -> dict[str, Any]:
        project = (await dashboard.workbench(slug))["project"]
        return {
            "action": f"/p/{slug}/manage/draft",
            "new": False,
            "project": project,
            "initial": await drafting.draft_values(slug),
            "photos": await drafting.draft_photos(slug),
            "draft_layout": drafting.form_layout,
        }

    return Page("secretary/draft.html", context)


async def _round_trip(page: Page, form: SubmittedForm, new: bool) -> Response[Any] | None:
    """The form again with one more row or a proposed address, everything typed kept; nothing
    is stored (not even the photos chosen: a browser never sends them back). None when the
    form was sent to be saved."""
    action = form.text("action")
    if action not in ROUND_TRIPS:
        return None
    values = drafting.with_row_added(form.texts(), action.removeprefix("add-"))
    values.pop("action", None)
    title = values.get("title", "").strip()
    if new and title and (action == "propose-slug" or not values.get("slug", "").strip()):
        values["slug"] = await drafting.propose_slug(title)
    return await page.show(failed_form=FormState("draft", values))


@get(
    "/secretary/c/{community:str}/new",
    guards=[guards.require_secretary_of_community],
    tags=TAGS,
    summary="A new draft project",
)
async def new_draft_form(community: FromPath[str]) -> Template:
    return await _draft_page(community).show()


@post(
    "/secretary/c/{community:str}/new",
    guards=[guards.require_secretary_of_community],
    tags=TAGS,
    summary="Create a draft project (or add a row, or propose its address, and show it again)",
)
async def create_draft(request: AnyRequest, community: FromPath[str]) -> Response[Any]:
    user = guards.logged_in_user(request)
    page = _draft_page(community)

    async def create(form: SubmittedForm) -> Response[Any] | str:
        again = await _round_trip(page, form, new=True)
        if again is not None:
            return again
        texts = form.texts()
        if not texts.get("slug", "").strip() and texts.get("title", "").strip():
            texts["slug"] = await drafting.propose_slug(texts["title"])
        async with photos.kept_on_success() as stored:
            draft, gallery = await _read_draft(form, community, stored, texts=texts)
            await drafting.create_draft(user.actor, draft, gallery)
        tell(request, N_("Draft saved"))
        return f"/p/{draft.slug}/manage"

    return await page.submit(request, "draft", create, fields=DRAFT_ERROR_FIELDS)


# Publishing's check on the draft (docs/adr/0038): each reason a refusal lists links to the
# draft's field that fixes it, where the draft page, asked to check, shows it beside the field.
PUBLISH_CHECK = "publish"
CheckParameter = Annotated[
    str,
    QueryParameter(
        max_length=20,
        description="`publish`: show beside each field what keeps the draft from publishing",
    ),
]


def _publish_check_link(slug: str, name: str = "") -> str:
    """The draft page asked to check publishing, at the field `name` (the top without one)."""
    anchor = f"#{FormState('draft').id(name)}" if name else ""
    return f"/p/{slug}/manage/draft?check={PUBLISH_CHECK}{anchor}"


def _beside_field(messages: list[str]) -> str:
    """A field's problems as one message beside it, in the visitor's language."""
    text = gettext(messages[0])
    for message in messages[1:]:
        text = gettext(N_("%(problems)s; %(problem)s"), problems=text, problem=gettext(message))
    return text


@get(
    "/p/{slug:str}/manage/draft",
    guards=[guards.require_secretary_of_project],
    tags=TAGS,
    summary="Edit a draft: its fields, rows, photos and the link to its preview",
)
async def draft_form(slug: FromPath[str], check: CheckParameter = "") -> Response[Any]:
    page = _edit_page(slug)
    values = await drafting.draft_values(slug)
    if values.get("status") != "draft":
        return Redirect(path=f"/p/{slug}/manage", status_code=303)
    if check != PUBLISH_CHECK:
        return await page.show()
    problems = await publication_check(slug)  # each beside its field, as a refused save shows
    errors = {name: _beside_field(messages) for name, messages in problems.items()}
    return await page.show(failed_form=FormState("draft", values, errors), publish_check=True)


@post(
    "/p/{slug:str}/manage/draft/photos/{name:str}/removal",
    guards=[guards.require_secretary_of_project],
    tags=TAGS,
    summary="Take a photo (the cover or one of the gallery) off a draft",
)
async def remove_draft_photo(
    request: AnyRequest, slug: FromPath[str], name: FromPath[str]
) -> Response[Any]:
    user = guards.logged_in_user(request)

    async def remove(form: SubmittedForm) -> str:
        await drafting.remove_photo(user.actor, slug, name)
        tell(request, N_("Photo removed"))
        return f"/p/{slug}/manage/draft#photos"

    return await _edit_page(slug).submit(request, f"remove-{name}", remove)


# One project's workbench ---------------------------------------------------------------------


def _workbench(slug: str) -> Page:
    return Page("secretary/project.html", lambda: dashboard.workbench(slug))


@get(
    "/p/{slug:str}/manage",
    guards=[guards.require_secretary_of_project],
    tags=TAGS,
    summary="A project's workbench for its secretary",
)
async def workbench(slug: FromPath[str]) -> Template:
    return await _workbench(slug).show()


@post(
    "/p/{slug:str}/manage/draft",
    guards=[guards.require_secretary_of_project],
    tags=TAGS,
    summary="Save a draft's edits",
)
async def edit_draft(request: AnyRequest, slug: FromPath[str]) -> Response[Any]:
    user = guards.logged_in_user(request)
    page = _edit_page(slug)

    async def edit(form: SubmittedForm) -> Response[Any] | str:
        again = await _round_trip(page, form, new=False)
        if again is not None:
            return again
        community = (await dashboard.workbench(slug))["project"]["community.slug"]
        async with photos.kept_on_success() as stored:
            texts = {**form.texts(), "slug": slug}  # an edited draft keeps its address
            draft, gallery = await _read_draft(form, community, stored, texts=texts)
            await drafting.edit_draft(user.actor, slug, draft, gallery)
        tell(request, N_("Draft saved"))
        return f"/p/{slug}/manage"

    return await page.submit(request, "draft", edit, fields=DRAFT_ERROR_FIELDS)


def _publish_page(slug: str) -> Page:
    """Publishing's confirmation page (ADR 0024): the goal, budget and committee that go public."""

    async def context() -> dict[str, Any]:
        return {
            "project": await queries.get_project(slug, include_drafts=True),
            "confirmation": Confirmation(f"/p/{slug}/manage/publish", f"/p/{slug}/manage"),
            "confirm_form": "publish",
        }

    return Page("secretary/confirm_publish.html", context)


@get(
    "/p/{slug:str}/manage/publish",
    guards=[guards.require_secretary_of_project],
    tags=TAGS,
    summary="Publishing's confirmation page: what goes public, and to whom",
)
async def confirm_publish(slug: FromPath[str]) -> Template:
    try:
        await check_publishable(slug)
    except PublicationRefused as exc:
        return await _publication_refused(slug, exc)
    except DomainError as exc:
        return await _workbench(slug).refusal("publish", exc)
    return await _publish_page(slug).show()


async def _publication_refused(slug: str, exc: PublicationRefused) -> Template:
    """Every missing piece on the workbench's publish form, each a link to the draft's field
    that fixes it, and the refusal itself to the draft checked from its top (ADR 0038)."""
    links = {exc.message: _publish_check_link(slug)}
    for name, messages in exc.fields.items():
        for message in messages:
            links.setdefault(message, _publish_check_link(slug, name))
    return await _workbench(slug).refusal("publish", exc, links=links)


@post(
    "/p/{slug:str}/manage/publish",
    guards=[guards.require_secretary_of_project],
    tags=TAGS,
    summary="Publish a draft (refused with every reason until complete; confirmed first)",
)
async def publish(request: AnyRequest, slug: FromPath[str]) -> Response[Any]:
    user = guards.logged_in_user(request)

    async def publish_it(form: SubmittedForm) -> Response[Any] | str:
        try:
            if not confirmed(form):
                await check_publishable(slug)
                return await _publish_page(slug).show()
            await drafting.publish_project(user.actor, slug)
        except PublicationRefused as exc:
            return await _publication_refused(slug, exc)
        tell(request, N_("Published: residents can now see the project and give"))
        return f"/p/{slug}"

    return await _workbench(slug).submit(request, "publish", publish_it)


@post(
    "/p/{slug:str}/manage/updates",
    guards=[guards.require_secretary_of_project],
    tags=TAGS,
    summary="Post a progress update",
)
async def post_update(request: AnyRequest, slug: FromPath[str]) -> Response[Any]:
    user = guards.logged_in_user(request)

    async def post_it(form: SubmittedForm) -> str:
        async with photos.kept_on_success() as stored:
            posted = await _store_photos(form, "photos", stored)
            await updates.post_update(user.actor, slug, form.text("body"), [p.url for p in posted])
        tell(request, N_("Update posted on the project's page"))
        return f"/p/{slug}#updates"

    return await _workbench(slug).submit(request, "update", post_it)


@post(
    "/p/{slug:str}/manage/offline",
    guards=[guards.require_secretary_of_project],
    tags=TAGS,
    summary="Record an offline donation (counted once a committee member confirms it)",
)
async def record_offline(request: AnyRequest, slug: FromPath[str]) -> Response[Any]:
    user = guards.logged_in_user(request)

    async def record(form: SubmittedForm) -> str:
        amount = form.parsed(
            "amount", parse_yuan, N_("Enter the amount in yuan, e.g. 200 or 200.50"), 0
        )
        received = form.parsed(
            "received_on", iso_date, N_("Enter the date it was received"), local_today()
        )
        form.raise_problems()
        async with photos.kept_on_success() as stored:
            evidence = await _store_photos(form, "evidence", stored)
            gift = rules.OfflineGift(
                amount_fen=amount,
                donor_name=form.text("donor_name"),
                anonymous=form.checked("anonymous"),
                received_on=received,
                method=form.text("method") or "cash",
                evidence_url=evidence[0].url if evidence else "",
                evidence_sha256=evidence[0].sha256 if evidence else "",
            )
            await offline_donations.record_offline_donation(user.actor, slug, gift)
        tell(request, AWAITS_SECOND_PERSON)
        return f"/p/{slug}/manage#offline"

    return await _workbench(slug).submit(request, "offline", record)


def _ratio(text: str) -> tuple[int, int]:
    """'1:1' → (1, 1); ValueError unless two whole numbers (ASCII digits: `whole_number`)."""
    num, colon, den = text.partition(":")
    if not colon:
        raise ValueError(text)
    return whole_number(num), whole_number(den)


def _pledge_plan(form: SubmittedForm) -> rules.PledgePlan:
    """The pledge as typed, without its letter yet."""
    day = N_("Enter the first and last day of the window")
    cap = form.parsed("cap", parse_yuan, N_("Enter the cap in yuan"), 0)
    starts = form.parsed("starts_on", iso_date, day, local_today())
    ends = form.parsed("ends_on", iso_date, day, local_today())
    ratio = form.parsed(
        "ratio", _ratio, N_("Enter the ratio as two whole numbers, e.g. 1:1"), (0, 0)
    )
    form.raise_problems()
    return rules.PledgePlan(
        sponsor_slug=form.text("sponsor_slug").strip(),
        sponsor_name=form.text("sponsor_name"),
        ratio_num=ratio[0],
        ratio_den=ratio[1],
        cap_fen=cap,
        starts_at=datetime.combine(starts, time.min, COMMUNITY_TIMEZONE).astimezone(UTC),
        ends_at=datetime.combine(ends, time.max, COMMUNITY_TIMEZONE).astimezone(UTC),
    )


@post(
    "/p/{slug:str}/manage/pledges",
    guards=[guards.require_secretary_of_project],
    tags=TAGS,
    summary="Record a matching sponsor's pledge with their letter (it draws once confirmed)",
)
async def create_pledge(request: AnyRequest, slug: FromPath[str]) -> Response[Any]:
    user = guards.logged_in_user(request)

    async def record(form: SubmittedForm) -> str:
        plan = _pledge_plan(form)
        async with photos.kept_on_success() as stored:
            for letter in await _store_photos(form, "letter", stored):
                plan = replace(plan, letter_url=letter.url, letter_sha256=letter.sha256)
            await matching.create_pledge(user.actor, slug, plan)
        tell(request, AWAITS_SECOND_PERSON)
        return f"/p/{slug}/manage#pledges"

    fields = {"starts_at": "starts_on", "ends_at": "ends_on"}
    return await _workbench(slug).submit(request, "pledge", record, fields=fields)


def _in_kind_gift(form: SubmittedForm) -> rules.InKindGift:
    """The gift as typed; hours or a value that cannot be read are -1, which the rules refuse
    for the kind that needs them."""
    try:
        hours = whole_number(form.text("labour_hours").strip() or "0")
    except ValueError:
        hours = -1
    value = yuan_or_none(form.text("estimated_value") or "0")
    return rules.InKindGift(
        kind=form.text("kind"),
        contributor=form.text("contributor"),
        description=form.text("description"),
        labour_hours=hours,
        estimated_value_fen=value if value is not None else -1,
        location=form.text("location"),
    )


@post(
    "/p/{slug:str}/manage/in-kind",
    guards=[guards.require_secretary_of_project],
    tags=TAGS,
    summary="Record labour, goods or space given to the project",
)
async def record_in_kind(request: AnyRequest, slug: FromPath[str]) -> Response[Any]:
    user = guards.logged_in_user(request)

    async def record(form: SubmittedForm) -> str:
        await in_kind.record_in_kind(user.actor, slug, _in_kind_gift(form))
        tell(request, N_("Recorded in the in-kind register"))
        return f"/p/{slug}#in-kind"

    return await _workbench(slug).submit(request, "in_kind", record)


@get(
    "/p/{slug:str}/poster",
    guards=[guards.require_secretary_of_project],
    tags=TAGS,
    summary="A printable A4 poster with the donate page's QR code",
)
async def poster_page(slug: FromPath[str]) -> Template:
    return Template("secretary/poster.html", context=await poster.poster_context(slug))


# Disclosures (项目公示, docs/adr/0029-disclosures.md) ------------------------------------------


def _disclosures_page(slug: str) -> Page:
    return Page("secretary/disclosures.html", lambda: disclosures.disclosure_workbench(slug))


def _disclosure_plan(form: SubmittedForm) -> rules.DisclosurePlan:
    day = N_("Enter a date, e.g. 2026-03-31")
    starts = form.parsed("starts_on", iso_date, day, local_today())
    ends = form.parsed("ends_on", iso_date, day, local_today())
    form.raise_problems()
    return rules.DisclosurePlan(starts, ends, form.text("what_was_done"))


@get(
    "/p/{slug:str}/manage/disclosures",
    guards=[guards.require_secretary_of_project],
    tags=TAGS,
    summary="A project's disclosures (项目公示): published ones, the next due, the next prepared",
)
async def disclosures_workbench(slug: FromPath[str]) -> Template:
    return await _disclosures_page(slug).show()


@post(
    "/p/{slug:str}/manage/disclosures",
    guards=[guards.require_secretary_of_project],
    tags=TAGS,
    summary="Publish the next disclosure (its figures shown on a confirmation page first)",
)
async def publish_disclosure(request: AnyRequest, slug: FromPath[str]) -> Response[Any]:
    user = guards.logged_in_user(request)

    async def publish_it(form: SubmittedForm) -> Response[Any] | str:
        plan = _disclosure_plan(form)
        if not confirmed(form):
            preview = await disclosures.check_disclosure(slug, plan)
            carried = {
                "starts_on": plan.starts_on.isoformat(),
                "ends_on": plan.ends_on.isoformat(),
                "what_was_done": plan.what_was_done,
            }
            page = Page(
                "secretary/confirm_disclosure.html",
                {
                    **preview,
                    "confirmation": Confirmation(
                        f"/p/{slug}/manage/disclosures", f"/p/{slug}/manage/disclosures", carried
                    ),
                    "confirm_form": "disclosure",
                },
            )
            return await page.show()
        name = user.display_name or user.email
        seq = await disclosures.publish_disclosure(user.actor, user.secretary_of, name, slug, plan)
        tell(request, N_("Disclosure published: it is frozen and on the project's page"))
        return f"/p/{slug}/disclosures/{seq}"

    return await _disclosures_page(slug).submit(request, "disclosure", publish_it)


@get(
    "/p/{slug:str}/disclosures/{seq:str}",
    tags=["projects"],
    summary="One published disclosure (项目公示), printable",
)
async def disclosure_page(slug: FromPath[str], seq: DisclosureSeq) -> Template:
    return await Page(
        "projects/disclosure.html", lambda: disclosures.disclosure_page(slug, seq)
    ).show()


class DisclosureLineOut(msgspec.Struct):
    budget_line: str  # "" for spending linked to no budget line
    amount: AmountOut


class DisclosureLedgerOut(msgspec.Struct):
    """The stretch of the project's ledger the figures were built from (seq first..head)."""

    first_seq: int
    head_seq: int
    head_hash: str
    entries: int


class DisclosureOut(msgspec.Struct):
    seq: int
    kind: rules.DisclosureKind
    period_starts_on: date
    period_ends_on: date
    opening_balance: AmountOut
    online: AmountOut
    offline: AmountOut
    matching: AmountOut
    refunds: AmountOut
    fees: AmountOut
    spent_by_budget_line: list[DisclosureLineOut]
    transferred: AmountOut
    closing_balance: AmountOut
    ledger: DisclosureLedgerOut
    what_was_done: str
    published_by: str
    published_at: datetime
    url: str


def _disclosure_out(slug: str, row: dict[str, Any]) -> DisclosureOut:
    figures: rules.DisclosureFigures = row["figures"]

    def amount(fen: int) -> AmountOut:
        return AmountOut.of(Money(fen, figures.currency))

    return DisclosureOut(
        seq=row["seq"],
        kind=rules.DisclosureKind(row["kind"]),
        period_starts_on=row["period_starts_on"],
        period_ends_on=row["period_ends_on"],
        opening_balance=amount(figures.opening_fen),
        online=amount(figures.online_fen),
        offline=amount(figures.offline_fen),
        matching=amount(figures.matching_fen),
        refunds=amount(figures.refunds_fen),
        fees=amount(figures.fees_fen),
        spent_by_budget_line=[
            DisclosureLineOut(budget_line=line.title, amount=amount(line.spent_fen))
            for line in figures.spent
        ],
        transferred=amount(figures.transfers_fen),
        closing_balance=amount(figures.closing_fen),
        ledger=DisclosureLedgerOut(
            first_seq=figures.first_seq,
            head_seq=figures.head_seq,
            head_hash=figures.head_hash,
            entries=figures.entries,
        ),
        what_was_done=row["what_was_done"],
        published_by=row["published_by_name"],
        published_at=row["published_at"],
        url=f"/p/{slug}/disclosures/{row['seq']}",
    )


@get(
    "/api/v1/projects/{slug:str}/disclosures",
    tags=["projects"],
    summary="A project's published disclosures (项目公示), oldest first, each frozen",
)
async def disclosures_api(slug: FromPath[str]) -> list[DisclosureOut]:
    published = await disclosures.published_disclosures(slug)
    return [_disclosure_out(slug, row) for row in published]


# The committee's side of offline donations ---------------------------------------------------


@get(
    "/p/{slug:str}/offline",
    guards=[guards.require_steward_of_project],
    tags=["committee"],
    summary="Offline donations of a project, confirmed or waiting",
)
async def offline_list(request: AnyRequest, slug: FromPath[str]) -> Template:
    # A member confirms a gift here through the inbox's one route, /p/{slug}/committee/gifts/…
    # (projects/spending/controllers/committee.py), which comes back here (`back=offline`).
    user = guards.logged_in_user(request)
    page = Page("secretary/offline.html", lambda: dashboard.offline_page(slug, user))
    return await page.show()


ROUTES: list[Any] = [
    secretary_dashboard,
    new_draft_form,
    create_draft,
    draft_form,
    remove_draft_photo,
    workbench,
    edit_draft,
    confirm_publish,
    publish,
    post_update,
    record_offline,
    create_pledge,
    record_in_kind,
    poster_page,
    disclosures_workbench,
    publish_disclosure,
    disclosure_page,
    disclosures_api,
    offline_list,
]
