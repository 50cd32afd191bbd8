"""A fake Stripe API on 127.0.0.1, for testing the Stripe gateway over real HTTP.

It answers the few endpoints the gateway uses with objects built from Stripe's own published
examples (tests/fixtures/stripe/objects.json, see its README), with ids, amounts, currencies
and links replaced; it records every request with its form parameters and headers (the
Idempotency-Key among them) and replays the first answer for a repeated idempotency key, as
Stripe does. Tests drive the "provider side" directly: `pay` completes a checkout (a payment
intent, a charge and its balance transaction with a fee), `event` makes an event as Stripe
would send it, and `webhook` signs it exactly as Stripe signs webhooks. With `down` set, every
request is answered 503, as in an outage (marked not to be retried, so the client gives up at
once).
"""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
import secrets
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "stripe" / "objects.json"


def _fixture(kind: str) -> dict[str, Any]:
    objects: dict[str, Any] = json.loads(FIXTURES.read_text(encoding="utf-8"))
    return copy.deepcopy(objects[kind])


def _new_id(prefix: str) -> str:
    return f"{prefix}_test_{secrets.token_hex(12)}"


def stripe_signature_header(payload: bytes, secret: str, timestamp: int | None = None) -> str:
    """`Stripe-Signature` exactly as Stripe computes it (docs: "Verify signatures manually")."""
    t = int(time.time()) if timestamp is None else timestamp
    mac = hmac.new(secret.encode("utf-8"), f"{t}.".encode() + payload, hashlib.sha256)
    return f"t={t},v1={mac.hexdigest()}"


@dataclass
class Recorded:
    method: str
    path: str
    params: dict[str, str]
    headers: dict[str, str]


@dataclass
class FakeStripe:
    url: str = ""
    requests: list[Recorded] = field(default_factory=list)
    sessions: dict[str, dict[str, Any]] = field(default_factory=dict)
    intents: dict[str, dict[str, Any]] = field(default_factory=dict)
    charges: dict[str, dict[str, Any]] = field(default_factory=dict)
    transactions: dict[str, dict[str, Any]] = field(default_factory=dict)
    refunds: dict[str, dict[str, Any]] = field(default_factory=dict)
    events: list[dict[str, Any]] = field(default_factory=list)
    idempotent: dict[tuple[str, str], tuple[int, dict[str, Any]]] = field(default_factory=dict)
    refund_status: str = "succeeded"
    down: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock)

    # --- the provider's side, driven by tests -----------------------------------------------

    def pay(self, session_id: str, fee: int = 0, payment_status: str = "paid") -> dict[str, Any]:
        """The donor paid: a payment intent, its charge and balance transaction (with `fee`)."""
        with self.lock:
            session = self.sessions[session_id]
            amount, currency = session["amount_total"], session["currency"]
            intent_id, charge_id, txn_id = _new_id("pi"), _new_id("ch"), _new_id("txn")
            txn = _fixture("balance_transaction")
            txn.update(
                id=txn_id,
                amount=amount,
                currency=currency,
                fee=fee,
                net=amount - fee,
                source=charge_id,
                created=int(time.time()),
            )
            txn["fee_details"] = [
                {
                    "amount": fee,
                    "currency": currency,
                    "type": "stripe_fee",
                    "description": "Stripe processing fees",
                    "application": None,
                }
            ]
            charge = _fixture("charge")
            charge.update(
                id=charge_id,
                amount=amount,
                amount_captured=amount,
                amount_refunded=0,
                currency=currency,
                captured=True,
                paid=True,
                refunded=False,
                status="succeeded",
                payment_intent=intent_id,
                balance_transaction=txn_id,
                metadata={},
                created=int(time.time()),
            )
            charge["refunds"] = {
                "object": "list",
                "data": [],
                "has_more": False,
                "url": f"/v1/charges/{charge_id}/refunds",
            }
            intent = _fixture("payment_intent")
            intent.update(
                id=intent_id,
                amount=amount,
                amount_received=amount,
                currency=currency,
                status="succeeded",
                latest_charge=charge_id,
                metadata=dict(session["metadata"]),
                last_payment_error=None,
                canceled_at=None,
                created=int(time.time()),
            )
            self.transactions[txn_id], self.charges[charge_id], self.intents[intent_id] = (
                txn,
                charge,
                intent,
            )
            session.update(
                payment_intent=intent_id, payment_status=payment_status, status="complete"
            )
            return copy.deepcopy(session)

    def refund_externally(self, session_id: str, amount: int) -> dict[str, Any]:
        """A refund made in Stripe's dashboard: no metadata of ours on it."""
        with self.lock:
            intent_id = self.sessions[session_id]["payment_intent"]
            return self._create_refund(intent_id, amount, {})

    def session(self, session_id: str) -> dict[str, Any]:
        with self.lock:
            return copy.deepcopy(self.sessions[session_id])

    def charge_of(self, session_id: str) -> dict[str, Any]:
        with self.lock:
            intent = self.intents[self.sessions[session_id]["payment_intent"]]
            return copy.deepcopy(self.charges[intent["latest_charge"]])

    def event(self, event_type: str, obj: dict[str, Any]) -> dict[str, Any]:
        """An event as Stripe sends it (the published event example, refilled)."""
        event = _fixture("event")
        event.update(
            id=_new_id("evt"),
            type=event_type,
            created=int(time.time()),
            api_version="2025-09-30.clover",
            livemode=False,
            pending_webhooks=1,
        )
        event["data"] = {"object": copy.deepcopy(obj)}
        with self.lock:
            self.events.append(event)
        return copy.deepcopy(event)

    @staticmethod
    def webhook(
        event: dict[str, Any], secret: str, timestamp: int | None = None
    ) -> tuple[bytes, dict[str, str]]:
        payload = json.dumps(event, indent=2).encode("utf-8")  # Stripe pretty-prints
        return payload, {
            "Content-Type": "application/json; charset=utf-8",
            "Stripe-Signature": stripe_signature_header(payload, secret, timestamp),
            "User-Agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
        }

    def requests_to(self, method: str, path: str) -> list[Recorded]:
        with self.lock:
            return [r for r in self.requests if r.method == method and r.path == path]

    # --- the API -------------------------------------------------------------------------

    def _create_refund(
        self, intent_id: str, amount: int, metadata: dict[str, str]
    ) -> dict[str, Any]:
        intent = self.intents[intent_id]
        charge = self.charges[intent["latest_charge"]]
        if charge["amount_refunded"] + amount > charge["amount"]:
            raise ValueError("Refund amount is greater than unrefunded amount on charge")
        refund = _fixture("refund")
        refund.update(
            id=_new_id("re"),
            amount=amount,
            currency=charge["currency"],
            charge=charge["id"],
            payment_intent=intent_id,
            metadata=metadata,
            status=self.refund_status,
            created=int(time.time()),
            reason="requested_by_customer",
        )
        self.refunds[refund["id"]] = refund
        charge["amount_refunded"] += amount
        charge["refunded"] = charge["amount_refunded"] == charge["amount"]
        charge["refunds"]["data"].append(refund)
        return copy.deepcopy(refund)

    def handle(self, method: str, path: str, params: dict[str, str]) -> tuple[int, dict[str, Any]]:
        parts = path.strip("/").split("/")
        if method == "POST" and path == "/v1/checkout/sessions":
            return 200, self._create_session(params)
        if method == "POST" and path == "/v1/refunds":
            metadata = {k[9:-1]: v for k, v in params.items() if k.startswith("metadata[")}
            try:
                return 200, self._create_refund(
                    params["payment_intent"], int(params["amount"]), metadata
                )
            except (KeyError, ValueError) as exc:
                return 400, {"error": {"type": "invalid_request_error", "message": str(exc)}}
        if method == "GET" and path == "/v1/refunds":
            found = [r for r in self.refunds.values() if r["charge"] == params.get("charge")]
            return 200, {"object": "list", "data": found, "has_more": False, "url": "/v1/refunds"}
        if (
            method == "POST"
            and len(parts) == 5
            and parts[1:3] == ["checkout", "sessions"]
            and parts[4] == "expire"
        ):
            return self._expire_session(parts[3])
        if method == "GET" and path == "/v1/events":
            since = int(params.get("created[gte]", "0"))
            found = [e for e in reversed(self.events) if e["created"] >= since]
            return 200, {"object": "list", "data": found, "has_more": False, "url": "/v1/events"}
        stores = {
            ("checkout", "sessions"): self.sessions,
            ("payment_intents",): self.intents,
            ("charges",): self.charges,
            ("balance_transactions",): self.transactions,
        }
        if method == "GET" and len(parts) >= 3:
            store = stores.get(tuple(parts[1:-1]))
            if store is not None and parts[-1] in store:
                return 200, store[parts[-1]]
        return 404, {"error": {"type": "invalid_request_error", "message": f"No such {path}"}}

    def _expire_session(self, session_id: str) -> tuple[int, dict[str, Any]]:
        """Stripe expires an open session only; it then can no longer be paid."""
        session = self.sessions.get(session_id)
        if session is None:
            return 404, {"error": {"type": "invalid_request_error", "message": "No such session"}}
        if session["status"] != "open":
            message = f"Only Checkout Sessions with status open can be expired: {session['status']}"
            return 400, {"error": {"type": "invalid_request_error", "message": message}}
        session.update(status="expired", expires_at=int(time.time()))
        return 200, session

    def _create_session(self, params: dict[str, str]) -> dict[str, Any]:
        session = _fixture("checkout.session")
        session_id = _new_id("cs")
        session.update(
            id=session_id,
            url=f"https://checkout.stripe.test/c/pay/{session_id}",
            mode=params["mode"],
            currency=params["currency"],
            amount_total=int(params["line_items[0][price_data][unit_amount]"]),
            amount_subtotal=int(params["line_items[0][price_data][unit_amount]"]),
            client_reference_id=params.get("client_reference_id"),
            customer_email=params.get("customer_email"),
            metadata={k[9:-1]: v for k, v in params.items() if k.startswith("metadata[")},
            payment_method_types=[
                v for k, v in sorted(params.items()) if k.startswith("payment_method_types[")
            ],
            success_url=params["success_url"],
            cancel_url=params["cancel_url"],
            payment_intent=None,
            payment_status="unpaid",
            status="open",
            created=int(time.time()),
            expires_at=int(time.time()) + 86400,
        )
        self.sessions[session_id] = session
        return session


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        return

    def _serve(self, method: str) -> None:
        fake = self.server.fake
        parts = urlsplit(self.path)
        params = dict(parse_qsl(parts.query, keep_blank_values=True))
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            params.update(parse_qsl(self.rfile.read(length).decode(), keep_blank_values=True))
        headers = {k.lower(): v for k, v in self.headers.items()}
        key = headers.get("idempotency-key")
        with fake.lock:
            fake.requests.append(Recorded(method, parts.path, params, headers))
            down = fake.down
        if down:
            self._answer(503, {"error": {"type": "api_error", "message": "outage"}}, retry=False)
            return
        with fake.lock:
            if key and (parts.path, key) in fake.idempotent:
                status, body = fake.idempotent[(parts.path, key)]
            else:
                status, body = fake.handle(method, parts.path, params)
                body = copy.deepcopy(body)
                if key and method == "POST":
                    fake.idempotent[(parts.path, key)] = (status, body)
        self._answer(status, body)

    def _answer(self, status: int, body: dict[str, Any], retry: bool | None = None) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Request-Id", _new_id("req"))
        if retry is not None:
            self.send_header("Stripe-Should-Retry", "true" if retry else "false")
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        self._serve("GET")

    def do_POST(self) -> None:
        self._serve("POST")


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    fake: FakeStripe


@contextmanager
def running_fake_stripe() -> Iterator[FakeStripe]:
    server = _Server(("127.0.0.1", 0), _Handler)
    fake = FakeStripe()
    server.fake = fake
    fake.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, name="fake-stripe", daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
