"""The application factory: the one place where the areas' routes and the shell meet.

With `cli.py` and `piccolo_conf.py` this is the composition root, the only modules that import
the areas (the import contracts in pyproject.toml enforce it; docs/adr/0011-house-plan.md).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from litestar import Litestar
from litestar.config.csrf import CSRFConfig
from litestar.datastructures import State
from litestar.middleware import DefineMiddleware
from litestar.openapi import OpenAPIConfig
from litestar.plugins.flash import FlashConfig, FlashPlugin

from linju.payments import services as payment_services
from linju.payments.controllers import donate as payment_controllers
from linju.payments.controllers import refunds as payment_refunds
from linju.payments.controllers import webhooks as payment_webhooks
from linju.payments.jobs import register_jobs as register_payment_jobs
from linju.payments.registry import configured_gateway
from linju.platform import controllers as platform_controllers
from linju.platform import csrf, pagecache
from linju.platform.accounts import controllers as accounts_controllers
from linju.platform.accounts.guards import require_safe_api_writes, session_middleware
from linju.platform.accounts.jobs import register_jobs as register_account_jobs
from linju.platform.accounts.jobs import register_pruners as register_account_pruners
from linju.platform.accounts.places import register as register_places
from linju.platform.accounts.role_links import register_role_links
from linju.platform.accounts.sessions import SESSION_COOKIE
from linju.platform.assets import static_fast_path, static_files
from linju.platform.db import pool_lifespan, shared_connection_middleware
from linju.platform.errors import EXCEPTION_HANDLERS
from linju.platform.i18n import register_catalogs
from linju.platform.jobs.housekeeping import register_jobs as register_housekeeping
from linju.platform.jobs.worker import embedded_runner
from linju.platform.middleware import (
    configure_logging,
    locale_middleware,
    request_log_middleware,
    security_headers_middleware,
    url_guard_middleware,
)
from linju.platform.openapi import DescribedJsonRenderPlugin
from linju.platform.pagecache import current_build
from linju.platform.secret_paths import register_secret_paths
from linju.platform.settings import Settings, get_settings
from linju.platform.templating import template_config
from linju.platform.web import FLASH_COOKIE, EdgeRequest, flash_cookie
from linju.projects.core.controllers import api as project_api
from linju.projects.core.controllers import host as host_controllers
from linju.projects.core.controllers import pages as project_pages
from linju.projects.core.read import register_community_sections, register_sections
from linju.projects.core.services.places import CorePlaces
from linju.projects.demo import register_demo_payment
from linju.projects.donations import controllers as donation_controllers
from linju.projects.donations.jobs import register_jobs as register_donation_jobs
from linju.projects.donations.read import donation_sections as donation_section
from linju.projects.ledger import controllers as project_ledger
from linju.projects.ledger.log import controllers as log_controllers
from linju.projects.ledger.log import read as log_read
from linju.projects.ledger.log.jobs import register_jobs as register_log_jobs
from linju.projects.ledger.log.services import latest_checkpoint
from linju.projects.ledger.read import find_ledger
from linju.projects.spending.controllers import committee as committee_controllers
from linju.projects.spending.controllers import secretary as spending_controllers
from linju.projects.spending.inbox import OtherWork, register_other_work
from linju.projects.spending.jobs import register_jobs as register_spending_jobs
from linju.projects.spending.read import expenditure_lines
from linju.projects.spending.read import project_section as spending_section
from linju.projects.spending.services.cancellation import register_refund_online
from linju.projects.stewardship import controllers as stewardship_controllers
from linju.projects.stewardship.read import project_section as stewardship_section
from linju.projects.stewardship.services.disclosures import register_expenditure_lines
from linju.projects.voice import read as voice_read
from linju.projects.voice.controllers import api as voice_api
from linju.projects.voice.controllers import hearings as voice_hearings
from linju.projects.voice.controllers import minutes as voice_minutes
from linju.projects.voice.controllers import residents as voice_residents
from linju.projects.voice.controllers import secretary as voice_secretary
from linju.projects.voice.controllers import stewards as voice_stewards
from linju.projects.voice.services import minutes as minutes_service
from linju.projects.voice.services.hearings import register_jobs as register_hearing_jobs
from linju.projects.voice.services.households import HOUSEHOLD_COOKIE
from linju.projects.voice.services.households import register_pruners as register_voice_pruners
from linju.projects.voice.services.reminders import register_jobs as register_reminder_jobs
from linju.projects.voice.services.stewards import role_links as steward_links


async def _minutes_anchor(project_slug: str | None) -> minutes_service.Anchor:
    """What signed-off minutes anchor: the log's latest checkpoint, signed (the empty tree's
    before anything was integrated), and a project hearing's ledger head (ADR 0034)."""
    head = await latest_checkpoint()
    if head is None:
        text, size = await log_read.checkpoint_text(), 0
    else:
        text, size = head.body + "\n" + head.signature, head.size
    ledger_head = ""
    if project_slug is not None:
        ledger_head = (await find_ledger(project_slug, include_drafts=True)).head_hash
    return minutes_service.Anchor(text, size, ledger_head)


async def _minutes_to_sign(account_id: int) -> list[OtherWork]:
    """The committee inbox's entries of residents' voice: minutes awaiting this member."""
    return [
        OtherWork(
            href=f"/hearings/{m['hearing']}/minutes/sign",
            project_title=m["project_title"],
            text=minutes_service.SIGN_IN_INBOX,
            params={"title": m["title"], "signed": m["signed"], "needed": m["needed"]},
        )
        for m in await minutes_service.awaiting_signer(account_id)
    ]


def wire() -> None:
    """Connect the areas through their ports; the root is the only place that knows them all.

    Idempotent; `create_app` and the command line call it before anything runs.
    """
    register_catalogs("linju.projects", "linju.payments")
    register_secret_paths(
        *accounts_controllers.SECRET_PATHS,
        *donation_controllers.SECRET_PATHS,
        *payment_controllers.SECRET_PATHS,
    )
    register_account_jobs()
    register_payment_jobs()
    register_places(CorePlaces())
    register_spending_jobs()
    register_donation_jobs()
    register_log_jobs()
    register_hearing_jobs()
    register_reminder_jobs()
    # Housekeeping runs the pruners each area registers for its own tables (ADR 0039).
    register_housekeeping()
    register_account_pruners()
    register_voice_pruners()
    register_role_links(steward_links)
    minutes_service.register_anchor_source(_minutes_anchor)
    register_other_work(_minutes_to_sign)
    register_refund_online(payment_services.refund_remaining)
    register_demo_payment(payment_services.paid_in_sandbox)
    register_sections(
        donation_section, spending_section, stewardship_section, voice_read.project_section
    )
    register_community_sections(voice_read.community_section)
    register_expenditure_lines(expenditure_lines)


def route_handlers() -> list[Any]:
    """Every area's routes. An area adds its handlers to its own ROUTES list (static files are
    answered before routing: `platform.assets`, ADR 0035)."""
    return [
        *platform_controllers.ROUTES,
        *accounts_controllers.ROUTES,
        *project_pages.ROUTES,
        *project_api.ROUTES,
        *host_controllers.ROUTES,
        *stewardship_controllers.ROUTES,
        *spending_controllers.ROUTES,
        *committee_controllers.ROUTES,
        *donation_controllers.ROUTES,
        *payment_controllers.ROUTES,
        *payment_webhooks.ROUTES,
        *payment_refunds.ROUTES,
        *project_ledger.ROUTES,
        *log_controllers.ROUTES,
        *voice_residents.ROUTES,
        *voice_secretary.ROUTES,
        *voice_stewards.ROUTES,
        *voice_api.ROUTES,
        *voice_minutes.ROUTES,
        *voice_hearings.ROUTES,
    ]


# Paths outside the forms' CSRF check: providers' webhooks (verified by signature) and the JSON
# API, which residents and other programs call without cookies; an API write that a session
# cookie authenticates must send the token in the header instead (require_safe_api_writes).
CSRF_EXEMPT_PATHS = ["^/webhooks/", "^/api/"]
CSRF_HEADER = "x-csrf-token"
# Cookies that make a page someone's own: no public page is cached for, nor any anonymous form
# exempted from the token for, a visitor who carries one (ADR 0036).
PRIVATE_COOKIES = (SESSION_COOKIE, HOUSEHOLD_COOKIE, FLASH_COOKIE)


def csrf_config(settings: Settings) -> CSRFConfig:
    """Double-submit CSRF tokens on every form; templates render `{{ csrf_input }}` in each form."""
    return CSRFConfig(
        secret=settings.secret_key,
        cookie_name="linju_csrf",
        cookie_secure=settings.secure_cookies,
        cookie_httponly=True,
        cookie_samesite="lax",
        header_name=CSRF_HEADER,
        exclude=CSRF_EXEMPT_PATHS,
    )


@asynccontextmanager
async def _lifespan(app: Litestar) -> AsyncIterator[None]:
    page_cache = app.state[pagecache.STATE_KEY]
    async with pool_lifespan(), embedded_runner(), page_cache.reader.running():
        yield


def create_app(settings: Settings | None = None) -> Litestar:
    settings = settings or get_settings()
    wire()
    configure_logging()
    templates = template_config()
    # A staff action's feedback rides to the page it lands on in a cookie of its own (ADR 0024).
    feedback = flash_cookie(settings.secret_key, secure=settings.secure_cookies)
    # The public pages residents share are cached for anonymous visitors, and their anonymous
    # forms are checked by origin instead of a per-visitor token (ADR 0036).
    forms_csrf = csrf_config(settings)
    page_csrf = DefineMiddleware(
        csrf.PageCsrfMiddleware,
        config=forms_csrf,
        cached_pages=project_pages.CACHED_PAGES,
        anonymous_forms=payment_controllers.ANONYMOUS_FORMS,
        private_cookies=PRIVATE_COOKIES,
        own_origins=[settings.base_url],
    )
    page_cache = pagecache.PageCache(
        pages=project_pages.CACHED_PAGES, private_cookies=PRIVATE_COOKIES, build=current_build()
    )
    app = Litestar(
        route_handlers=route_handlers(),
        lifespan=[_lifespan],
        exception_handlers={**EXCEPTION_HANDLERS, **accounts_controllers.EXCEPTION_HANDLERS},
        middleware=[feedback.middleware, page_csrf],
        plugins=[FlashPlugin(FlashConfig(template_config=templates))],
        request_class=EdgeRequest,
        guards=[require_safe_api_writes],
        state=State({csrf.STATE_KEY: forms_csrf, pagecache.STATE_KEY: page_cache}),
        template_config=templates,
        openapi_config=OpenAPIConfig(
            title="Linju 邻聚",
            version="1",
            description="Civic crowdfunding for community micro-projects, with a public ledger.",
            path="/schema",
            render_plugins=[DescribedJsonRenderPlugin()],  # the schema finished: ADR 0018
        ),
        debug=False,
    )
    # Outermost, around Litestar's router and exception handling, so that requests no route
    # matches (404s) are logged and answered in the visitor's language too, and their error
    # page knows who is logged in (the session's user, docs/adr/0025) and names the host
    # charity in its footer (ADR 0027).
    secured = security_headers_middleware(
        https=settings.base_url.startswith("https://"),
        form_targets=configured_gateway(settings).checkout_origins,
    )
    # On SQLite, the request's statements share one connection (ADR 0035).
    app.asgi_handler = shared_connection_middleware(
        request_log_middleware(
            secured(
                locale_middleware(settings.default_locale)(
                    url_guard_middleware(
                        page_cache.wrap(
                            session_middleware(host_controllers.host_middleware(app.asgi_handler))
                        )
                    )
                )
            )
        )
    )
    # Before all of that, a static file is answered with the security headers alone (ADR 0035).
    app.asgi_handler = static_fast_path(static_files(), secured)(app.asgi_handler)
    return app
