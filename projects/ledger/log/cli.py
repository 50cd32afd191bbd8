"""`linju log …` (integrate, verify-proof, monitor) and `linju witness …` (keygen, serve).

`verify-proof`, `monitor` and the witness never touch the platform's database: they work on
any machine with the proof file, the published keys or the platform's public address.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import click

from linju.platform.commands import EXIT_FAULT, CommandError, run_async


@click.group()
def log() -> None:
    """The transparency log: integrate, check a proof, monitor a platform."""


def _vkey(text: str, what: str) -> object:
    from linju.projects.ledger.log.note import NoteError, parse_vkey

    value = text
    if text.count("+") < 2:  # not a key: the file that holds one (as /log/key serves it)
        try:
            value = Path(text).read_text(encoding="utf-8").strip()
        except OSError as error:
            raise CommandError(f"{what}: not a verifier key, nor a file: {error}") from None
    try:
        return parse_vkey(value)
    except NoteError as error:
        raise CommandError(f"{what}: {error}") from None


@log.command()
@click.option("--batch", default=2000, show_default=True, type=click.IntRange(1, 100_000))
def integrate(batch: int) -> None:
    """Integrate every committed ledger entry not yet in the log, and sign the new checkpoint."""
    from linju.projects.ledger.log.services import integrate as run
    from linju.projects.ledger.log.services import outstanding_refusals

    async def go() -> tuple[Any, list[str]]:
        return await run(batch=batch), await outstanding_refusals()

    result, refused = run_async(go)
    click.echo(f"log: {result.added} entries integrated, size {result.size}")
    for line in refused:
        click.echo(f"REFUSED {line}")
    if refused:
        sys.exit(EXIT_FAULT)


@log.command()
def key() -> None:
    """Print the log's verifier key (as /log/key serves it; made once into var/log_key)."""
    from linju.platform.settings import SettingsError, get_settings
    from linju.projects.ledger.log.services import signer_for

    try:
        click.echo(signer_for(get_settings()).verifier.vkey())
    except SettingsError as error:
        raise CommandError(str(error)) from None


@log.command("verify-proof")
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--log-key", "log_key", required=True, help="The log's verifier key (or a file).")
@click.option("--witness", "witness_keys", multiple=True, help="A witness's verifier key.")
@click.option("--quorum", type=click.IntRange(0, 64), default=None)
def verify_proof(
    file: Path, log_key: str, witness_keys: tuple[str, ...], quorum: int | None
) -> None:
    """Check a .tlog-proof offline: the log's signature, K witnesses, the entry's inclusion."""
    from linju.projects.ledger.format import entry_hash
    from linju.projects.ledger.log.note import COSIGNATURE, NoteError, Verifier
    from linju.projects.ledger.log.proof import ProofRefused, check_proof, parse_proof

    key = _vkey(log_key, "--log-key")
    assert isinstance(key, Verifier)
    keys = [_vkey(w, "--witness") for w in witness_keys]
    witnesses = [k for k in keys if isinstance(k, Verifier)]
    if any(w.kind != COSIGNATURE for w in witnesses):
        raise CommandError("--witness: a witness key is of type 0x04 (a cosignature key)")
    need = len(witnesses) if quorum is None else quorum
    if need > len(witnesses):
        raise CommandError(f"--quorum {need} is more than the {len(witnesses)} witnesses given")
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise CommandError(f"cannot read {file}: {error}") from None
    try:
        proof = parse_proof(text)
        verdict = check_proof(proof, key, witnesses, need)
        assert proof.extra is not None
        entry = json.loads(proof.extra.decode("utf-8"))
        if not isinstance(entry, dict) or entry_hash(
            {k: v for k, v in entry.items() if k != "hash"}
        ) != entry.get("hash"):
            raise ProofRefused("entry: the leaf data is not an entry with its own hash")
    except (ProofRefused, NoteError, ValueError, TypeError, KeyError) as error:
        click.echo(f"{file}: FAILED {error}")
        sys.exit(EXIT_FAULT)
    amounts = ", ".join(
        f"{p['account']} {p['amount']} {p['currency']}" for p in entry.get("postings", [])
    )
    cosigned = ", ".join(verdict.witnesses) or "none"
    click.echo(
        f"{file}: OK {entry['project']} #{entry['seq']} {entry['kind']} ({amounts}); "
        f"log index {proof.index} of {verdict.checkpoint.size}, witnesses: {cosigned}"
    )


@log.command()
@click.argument("base_url")
@click.option("--log-key", "log_key", required=True, help="The log's verifier key (or a file).")
@click.option("--state", "state", required=True, type=click.Path(path_type=Path, dir_okay=False))
def monitor(base_url: str, log_key: str, state: Path) -> None:
    """Check a platform's log against the state kept from the last run; exit 1 naming a fork,
    a bad signature, a broken chain, or an entry missing or rewritten."""
    from linju.projects.ledger.log import monitor as monitoring
    from linju.projects.ledger.log.note import Verifier

    if not base_url.startswith(("http://", "https://")):
        raise CommandError("BASE_URL is an http:// or https:// address")
    key = _vkey(log_key, "--log-key")
    assert isinstance(key, Verifier)
    try:
        line = monitoring.run(base_url, key, state)
    except monitoring.MonitorError as error:
        raise CommandError(str(error)) from None
    except monitoring.MonitorFault as error:
        click.echo(f"FAULT {error}")
        sys.exit(EXIT_FAULT)
    click.echo(line)


@click.group()
def witness() -> None:
    """Run a witness of transparency logs (C2SP tlog-witness)."""


@witness.command()
@click.option("--name", required=True, help="The witness's name, e.g. witness.example.cn/w1")
@click.option("--out", "out", required=True, type=click.Path(path_type=Path, dir_okay=False))
def keygen(name: str, out: Path) -> None:
    """Write a new witness key to FILE (mode 600) and print its verifier key."""
    from linju.projects.ledger.log.note import COSIGNATURE, NoteError, new_signer

    try:
        signer = new_signer(name, COSIGNATURE, os.urandom(32))
    except NoteError as error:
        raise CommandError(f"--name: {error}") from None
    try:
        fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except OSError as error:
        raise CommandError(f"cannot create {out}: {error.strerror}") from None
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(signer.skey() + "\n")
    click.echo(signer.verifier.vkey())


@witness.command()
@click.option("--key", "key_file", required=True, type=click.Path(path_type=Path, dir_okay=False))
@click.option("--log", "logs", multiple=True, required=True, help="A trusted log's verifier key.")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8010, show_default=True, type=click.IntRange(1, 65535))
@click.option(
    "--state",
    "state",
    default=Path("witness.db"),
    show_default=True,
    type=click.Path(path_type=Path, dir_okay=False),
)
def serve(key_file: Path, logs: tuple[str, ...], host: str, port: int, state: Path) -> None:
    """Serve POST /add-checkpoint for the logs given, cosigning what extends what it saw."""
    import uvicorn

    from linju.projects.ledger.log.note import COSIGNATURE, NoteError, Verifier, parse_skey
    from linju.projects.ledger.log.witness import create_witness_app

    try:
        signer = parse_skey(key_file.read_text(encoding="utf-8"))
    except OSError as error:
        raise CommandError(f"cannot read {key_file}: {error.strerror}") from None
    except NoteError as error:
        raise CommandError(f"--key: {error}") from None
    if signer.kind != COSIGNATURE:
        raise CommandError("--key: a witness key is of type 0x04 (linju witness keygen)")
    trusted = [_vkey(text, "--log") for text in logs]
    app = create_witness_app(state, [k for k in trusted if isinstance(k, Verifier)], signer)
    uvicorn.run(app, host=host, port=port, access_log=False, log_level="warning")
