"""Signed notes (C2SP signed-note), Ed25519 keys in the Go `note` format, checkpoints
(C2SP tlog-checkpoint) and timestamped cosignatures (C2SP tlog-cosignature, type 0x04). Pure:
the keys are values; nothing here reads a file or the clock.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

ED25519 = 0x01
COSIGNATURE = 0x04  # timestamped Ed25519 checkpoint cosignature
DASH = "\u2014"
MAX_SIGNATURES = 100  # the spec asks for at least 16
MAX_NOTE = 1 << 20
COSIGNATURE_HEADER = "cosignature/v1\n"


class NoteError(ValueError):
    """A note, key or checkpoint that is malformed, or whose signatures do not hold."""


class UnverifiedNote(NoteError):
    """No signature by a known key verifies."""


class BadSignature(NoteError):
    """A signature by a known key (name and ID match) fails to verify."""


def b64decode(text: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise NoteError(f"not base64: {text[:40]!r}") from None


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _valid_name(name: str) -> bool:
    return bool(name) and "+" not in name and not any(c.isspace() for c in name)


def key_id(name: str, kind: int, public: bytes) -> int:
    digest = hashlib.sha256(name.encode() + b"\n" + bytes([kind]) + public).digest()
    return int.from_bytes(digest[:4], "big")


def _public_bytes(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(Encoding.Raw, PublicFormat.Raw)


@dataclass(frozen=True, slots=True)
class Verifier:
    """A verifier key: `<name>+<hex key ID>+<base64(type || public key)>`."""

    name: str
    kind: int
    public: bytes

    @property
    def key_id(self) -> int:
        return key_id(self.name, self.kind, self.public)

    def vkey(self) -> str:
        return f"{self.name}+{self.key_id:08x}+{b64(bytes([self.kind]) + self.public)}"

    def verify(self, text: str, signature: bytes) -> bool:
        """Does `signature` (without its key ID) sign `text` (for a cosignature: its message)?"""
        key = Ed25519PublicKey.from_public_bytes(self.public)
        if self.kind == ED25519:
            message, raw = text.encode(), signature
        elif self.kind == COSIGNATURE:
            if len(signature) != 8 + 64:
                return False
            timestamp = int.from_bytes(signature[:8], "big")
            if timestamp >= 1 << 63:
                return False
            message, raw = cosignature_message(text, timestamp), signature[8:]
        else:
            return False
        try:
            key.verify(raw, message)
        except InvalidSignature:
            return False
        return True


def parse_vkey(text: str) -> Verifier:
    parts = text.strip().split("+", 2)
    if len(parts) != 3 or not _valid_name(parts[0]) or not re.fullmatch(r"[0-9a-f]{8}", parts[1]):
        raise NoteError("a verifier key is <name>+<8 hex digits>+<base64 key>")
    raw = b64decode(parts[2])
    if len(raw) != 33 or raw[0] not in (ED25519, COSIGNATURE):
        raise NoteError("a verifier key must hold an Ed25519 key of type 0x01 or 0x04")
    verifier = Verifier(parts[0], raw[0], raw[1:])
    if verifier.key_id != int(parts[1], 16):
        raise NoteError("the verifier key's ID does not match its name and key")
    return verifier


@dataclass(frozen=True, slots=True)
class Signer:
    """A signer key: `PRIVATE+KEY+<name>+<hex key ID>+<base64(type || 32-byte seed)>`."""

    name: str
    kind: int
    seed: bytes = field(repr=False)

    @property
    def verifier(self) -> Verifier:
        public = _public_bytes(Ed25519PrivateKey.from_private_bytes(self.seed).public_key())
        return Verifier(self.name, self.kind, public)

    def skey(self) -> str:
        ident = self.verifier.key_id
        return f"PRIVATE+KEY+{self.name}+{ident:08x}+{b64(bytes([self.kind]) + self.seed)}"

    def sign_raw(self, message: bytes) -> bytes:
        return Ed25519PrivateKey.from_private_bytes(self.seed).sign(message)

    def signature_line(self, signature: bytes) -> str:
        ident = self.verifier.key_id.to_bytes(4, "big")
        return f"{DASH} {self.name} {b64(ident + signature)}\n"

    def sign(self, text: str) -> str:
        """The signature line of an Ed25519 (type 0x01) signature over a note's text."""
        if self.kind != ED25519:
            raise NoteError("this key makes cosignatures")
        return self.signature_line(self.sign_raw(text.encode()))

    def cosign(self, text: str, timestamp: int) -> str:
        """The signature line of a type 0x04 cosignature of a checkpoint's text at `timestamp`."""
        if self.kind != COSIGNATURE:
            raise NoteError("this key makes plain note signatures")
        raw = self.sign_raw(cosignature_message(text, timestamp))
        return self.signature_line(timestamp.to_bytes(8, "big") + raw)


def parse_skey(text: str) -> Signer:
    parts = text.strip().split("+", 4)
    if len(parts) != 5 or parts[:2] != ["PRIVATE", "KEY"] or not _valid_name(parts[2]):
        raise NoteError("a signer key is PRIVATE+KEY+<name>+<8 hex digits>+<base64 key>")
    if not re.fullmatch(r"[0-9a-f]{8}", parts[3]):
        raise NoteError("a signer key's ID is 8 lowercase hex digits")
    raw = b64decode(parts[4])
    if len(raw) != 33 or raw[0] not in (ED25519, COSIGNATURE):
        raise NoteError("a signer key must hold an Ed25519 seed of type 0x01 or 0x04")
    signer = Signer(parts[2], raw[0], raw[1:])
    if signer.verifier.key_id != int(parts[3], 16):
        raise NoteError("the signer key's ID does not match its name and key")
    return signer


def new_signer(name: str, kind: int, seed: bytes) -> Signer:
    """A signer from 32 random bytes the caller drew (os.urandom)."""
    if not _valid_name(name):
        raise NoteError("a key name is not empty and has no space and no +")
    if len(seed) != 32:
        raise NoteError("an Ed25519 seed is 32 bytes")
    return Signer(name, kind, seed)


def cosignature_message(text: str, timestamp: int) -> bytes:
    return f"{COSIGNATURE_HEADER}time {timestamp}\n{text}".encode()


@dataclass(frozen=True, slots=True)
class Signature:
    name: str
    key_id: int
    signature: bytes  # without the key ID

    def line(self) -> str:
        return f"{DASH} {self.name} {b64(self.key_id.to_bytes(4, 'big') + self.signature)}\n"


@dataclass(frozen=True, slots=True)
class Note:
    text: str  # ends in a newline
    signatures: tuple[Signature, ...]

    def render(self) -> str:
        return self.text + "\n" + "".join(s.line() for s in self.signatures)


def parse_note(message: bytes | str) -> Note:
    """Split a signed note into its text and signature lines (nothing verified yet)."""
    if isinstance(message, bytes):
        if len(message) > MAX_NOTE:
            raise NoteError("the note is too long")
        try:
            message = message.decode("utf-8")
        except UnicodeDecodeError:
            raise NoteError("the note is not UTF-8") from None
    if any(c < " " and c != "\n" for c in message):
        raise NoteError("the note holds a control character")
    split = message.rfind("\n\n")
    if split < 0 or not message.endswith("\n"):
        raise NoteError("the note has no signatures")
    text, block = message[: split + 1], message[split + 2 :]
    signatures = []
    for line in block[:-1].split("\n"):
        if not line.startswith(DASH + " "):
            raise NoteError("a signature line does not begin with an em dash")
        pieces = line[2:].split(" ")
        if len(pieces) != 2 or not _valid_name(pieces[0]):
            raise NoteError("a signature line is — <name> <base64>")
        raw = b64decode(pieces[1])
        if len(raw) < 5:
            raise NoteError("a signature is too short")
        signatures.append(Signature(pieces[0], int.from_bytes(raw[:4], "big"), raw[4:]))
        if len(signatures) > MAX_SIGNATURES:
            raise NoteError("the note has too many signatures")
    return Note(text, tuple(signatures))


def verified_by(note: Note, verifiers: list[Verifier]) -> list[tuple[Verifier, Signature]]:
    """The signatures of known keys, each verified; BadSignature when one of them fails.
    Signatures of unknown keys (name or ID differ) are ignored."""
    known = {(v.name, v.key_id): v for v in verifiers}
    good = []
    for signature in note.signatures:
        verifier = known.get((signature.name, signature.key_id))
        if verifier is None:
            continue
        if not verifier.verify(note.text, signature.signature):
            raise BadSignature(f"the signature of {signature.name} does not verify")
        good.append((verifier, signature))
    return good


def open_note(message: bytes | str, verifiers: list[Verifier]) -> Note:
    """The note, if at least one known key signed it and no known key's signature fails."""
    note = parse_note(message)
    if not verified_by(note, verifiers):
        raise UnverifiedNote("no known key signed the note")
    return note


def cosignature_time(signature: Signature) -> int:
    return int.from_bytes(signature.signature[:8], "big")


# Checkpoints (tlog-checkpoint)

_SIZE = re.compile(r"^(0|[1-9][0-9]{0,18})$")


@dataclass(frozen=True, slots=True)
class Checkpoint:
    origin: str
    size: int
    root: bytes

    def text(self) -> str:
        return f"{self.origin}\n{self.size}\n{b64(self.root)}\n"


def parse_checkpoint(text: str, extensions: bool = False) -> Checkpoint:
    """A checkpoint's note text: origin, size, base64 root. Extension lines (non-empty) are
    allowed only when `extensions` says so: this log writes none, so a reader of it refuses
    them; a witness accepts them, as tlog-checkpoint allows, and cosigns the whole text."""
    if not text.endswith("\n"):
        raise NoteError("a checkpoint ends in a newline")
    lines = text[:-1].split("\n")
    if len(lines) < 3 or any(not line for line in lines):
        raise NoteError("a checkpoint has three non-empty lines")
    if len(lines) > 3 and not extensions:
        raise NoteError("a checkpoint of this log has no extension lines")
    origin, size, root = lines[:3]
    if not _SIZE.match(size) or int(size) >= 1 << 63:
        raise NoteError("a checkpoint's size is a decimal without leading zeros")
    digest = b64decode(root)
    if len(digest) != 32:
        raise NoteError("a checkpoint's root is 32 bytes")
    return Checkpoint(origin, int(size), digest)
