"""The log's public routes (docs/transparency.md, "What anyone can fetch"): the checkpoint,
the key, the tiles and entry bundles, and an entry's tlog-proof. Thin: `read` does the work."""

from __future__ import annotations

import logging
from typing import Annotated, Any

from litestar import Request, get
from litestar.params import FromPath, Parameter
from litestar.response import Response

from linju.platform.errors import problem_response
from linju.platform.i18n import gettext
from linju.platform.kernel.errors import N_, NotFound, Unavailable
from linju.platform.kernel.inputs import INT64_MAX
from linju.platform.openapi import api
from linju.platform.settings import SettingsError
from linju.projects.ledger.log import read as log_read
from linju.projects.ledger.log.services import log_signer
from linju.projects.ledger.log.tiles import TilePathError, parse_path

logger = logging.getLogger("linju.log")
TEXT = "text/plain"  # Litestar adds "; charset=utf-8"
IMMUTABLE = "public, max-age=31536000, immutable"
RETRY_AFTER = "5"


def _unconfigured(error: SettingsError) -> Unavailable:
    logger.error("log: %s", error)
    return Unavailable(N_("The transparency log is not available; try again later"))


@get("/log/checkpoint", tags=["log"], summary="The log's latest checkpoint, cosigned")
async def log_checkpoint() -> Response[str]:
    try:
        text = await log_read.checkpoint_text()
    except SettingsError as error:
        raise _unconfigured(error) from None
    return Response(
        text,
        media_type=TEXT,
        headers={"Cache-Control": "max-age=5"},
    )


@get("/log/key", tags=["log"], summary="The log's verifier key")
async def log_key() -> Response[str]:
    try:
        vkey = log_signer().verifier.vkey()
    except SettingsError as error:
        raise _unconfigured(error) from None
    return Response(vkey + "\n", media_type=TEXT, headers={"Cache-Control": "no-cache"})


@get("/log/tile/{path:path}", tags=["log"], summary="A tile or an entry bundle (tlog-tiles)")
async def log_tile(path: FromPath[str]) -> Response[bytes]:
    try:
        tile = parse_path("tile" + path)
    except TilePathError:
        raise NotFound(N_("Page not found")) from None
    data = await log_read.tile(tile.level, tile.index, tile.width)
    if data is None:
        raise NotFound(N_("Page not found"))
    return Response(
        data, media_type="application/octet-stream", headers={"Cache-Control": IMMUTABLE}
    )


@get(
    "/api/v1/projects/{slug:str}/ledger/{seq:str}/proof",
    tags=["ledger"],
    summary="A ledger entry's tlog-proof: its inclusion in the witnessed transparency log",
    description="c2sp.org/tlog-proof@v1: `extra` is the entry's leaf data (its canonical JSON "
    "with its hash), `index` its place in the log, the inclusion hashes, then the checkpoint "
    "with the log's signature and the witnesses' cosignatures (docs/transparency.md).",
    media_type=TEXT,
    response_description="The tlog-proof, text (save it as `.tlog-proof`)",
    opt=api(
        problems={
            404: "No such project or entry; or the entry is not yet in a witnessed checkpoint "
            "(then with Retry-After)"
        }
    ),
)
async def ledger_proof(
    request: Request[Any, Any, Any],
    slug: FromPath[str],
    seq: Annotated[int, Parameter(ge=0, le=INT64_MAX, description="The entry's seq")],
) -> Response[Any]:
    try:
        proof, _ = await log_read.proof_of(slug, seq)
    except log_read.NotIntegrated:
        return problem_response(
            request,
            404,
            gettext(
                N_("The entry is not yet in a witnessed checkpoint of the log; ask again shortly")
            ),
            headers={"Retry-After": RETRY_AFTER},
        )
    return Response(
        proof.render(),
        media_type=TEXT,
        headers={
            "Content-Disposition": f'attachment; filename="{slug}-{seq}.tlog-proof"',
            "Cache-Control": "no-cache",
        },
    )


ROUTES: list[Any] = [log_checkpoint, log_key, log_tile, ledger_proof]
