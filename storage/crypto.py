"""Encryption at rest: a keyring of AES-256-GCM keys and the ``EncryptedText`` column marker.

Rules of this module:

* One token format, ``enc:v1:<kid>:<urlsafe base64 of nonce + ciphertext>``. ``v1`` means:
  AES-256-GCM, a random 96-bit nonce per value, the UTF-8 text padded to a multiple of
  :data:`PAD_TO` bytes (PKCS#7 style) so that the length of a short value (a step id such as
  ``help_addiction``) does not give it away, and the associated data ``"<table>.<column>"``, so
  a value copied into another column does not decrypt.
* The first key of a keyring is the active one (new values); the others only decrypt, until
  ``opstap keys rotate`` has re-encrypted everything under the active key.
* A value without the ``enc:`` prefix is plaintext written before encryption was switched on;
  it is read as is (and encrypted at the next write or rotation).
* There is no global keyring: the caller passes one (``open_storage(url, keyring)``); without
  one, values are stored as plaintext (tests, a development start without a key).
* Errors never quote a key or a value; a failed decryption says which column, nothing more.
* Pure Python and ``cryptography`` only (no SQLAlchemy), so :mod:`storage.codec` stays pure.
  The column marker :class:`storage.db.EncryptedText` lives beside the other column types.
"""

from __future__ import annotations

import base64
import binascii
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

PREFIX = "enc:"
VERSION = "v1"
NONCE_BYTES = 12
KEY_BYTES = 32
PAD_TO = 32
_KID = re.compile(r"[A-Za-z0-9_-]{1,16}")


class CryptoError(ValueError):
    """A value cannot be decrypted (unknown key id, wrong column, tampered) or a key is bad."""


def _b64decode(text: str) -> bytes:
    # Accept keys and tokens with or without "=" padding; anything outside the urlsafe
    # alphabet is an error (the lenient default would silently drop it).
    return base64.b64decode(text + "=" * (-len(text) % 4), altchars=b"-_", validate=True)


def _pad(data: bytes) -> bytes:
    n = PAD_TO - len(data) % PAD_TO
    return data + bytes([n]) * n


def _unpad(data: bytes) -> bytes:
    n = data[-1] if data else 0
    if not 1 <= n <= PAD_TO or len(data) < n or data[-n:] != bytes([n]) * n:
        raise CryptoError("bad padding")
    return data[:-n]


def is_encrypted(value: str) -> bool:
    return value.startswith(PREFIX)


def key_id_of(value: str) -> str | None:
    """The key id of a token, ``None`` for plaintext."""
    if not is_encrypted(value):
        return None
    parts = value.split(":", 3)
    return parts[2] if len(parts) == 4 else None


@dataclass(frozen=True)
class Keyring:
    """Keys by id; ``active`` encrypts, every key decrypts."""

    active: str
    keys: Mapping[str, bytes]

    def __repr__(self) -> str:
        # Never show key material, not even in a traceback or a debugger.
        return f"Keyring(active={self.active!r}, kids={sorted(self.keys)!r})"

    @classmethod
    def parse(cls, text: str) -> Keyring:
        """``kid:base64key[,kid:base64key...]`` (urlsafe base64 of 32 bytes), first one active.

        Raises :class:`ValueError` with one line that says what is wrong, never the key.
        """
        keys: dict[str, bytes] = {}
        order: list[str] = []
        entries = [entry.strip() for entry in text.split(",")]
        if not text.strip() or any(not entry for entry in entries):
            raise ValueError("expected kid:key[,kid:key...], e.g. dev1:<base64 of 32 bytes>")
        for position, entry in enumerate(entries, start=1):
            kid, sep, encoded = entry.partition(":")
            if not sep or not _KID.fullmatch(kid):
                raise ValueError(
                    f"key {position}: expected kid:key where kid is 1-16 of A-Z a-z 0-9 _ -"
                )
            if kid in keys:
                raise ValueError(f"key id '{kid}' appears twice")
            try:
                raw = _b64decode(encoded.strip())
            except (binascii.Error, ValueError):
                raise ValueError(f"key '{kid}' is not urlsafe base64") from None
            if len(raw) != KEY_BYTES:
                raise ValueError(f"key '{kid}' must be {KEY_BYTES} bytes (it is {len(raw)})")
            keys[kid] = raw
            order.append(kid)
        return cls(active=order[0], keys=keys)

    @staticmethod
    def generate(kid: str = "dev1") -> str:
        """A new ``kid:key`` entry (for ``.env`` or a rotation)."""
        return f"{kid}:{base64.urlsafe_b64encode(os.urandom(KEY_BYTES)).decode()}"

    def encrypt(self, text: str, aad: str) -> str:
        nonce = os.urandom(NONCE_BYTES)
        sealed = AESGCM(self.keys[self.active]).encrypt(
            nonce, _pad(text.encode("utf-8")), aad.encode("utf-8")
        )
        body = base64.urlsafe_b64encode(nonce + sealed).decode().rstrip("=")
        return f"{PREFIX}{VERSION}:{self.active}:{body}"

    def decrypt(self, value: str, aad: str) -> str:
        """The plaintext of a token; a value without ``enc:`` is returned as it is."""
        if not is_encrypted(value):
            return value
        parts = value.split(":", 3)
        if len(parts) != 4 or parts[1] != VERSION:
            raise CryptoError(f"{aad}: not an encryption token this version can read")
        kid, body = parts[2], parts[3]
        key = self.keys.get(kid)
        if key is None:
            raise CryptoError(
                f"{aad}: encrypted with key id '{kid}', which is not in the keyring"
                " (keep old keys after the active one until `opstap keys rotate` has run)"
            )
        try:
            raw = _b64decode(body)
        except (binascii.Error, ValueError):
            raise CryptoError(f"{aad}: damaged encryption token") from None
        if len(raw) <= NONCE_BYTES:
            raise CryptoError(f"{aad}: damaged encryption token")
        try:
            padded = AESGCM(key).decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], aad.encode("utf-8"))
        except InvalidTag:
            raise CryptoError(
                f"{aad}: the value does not decrypt (tampered, or from another column)"
            ) from None
        return _unpad(padded).decode("utf-8")

    def needs_rotation(self, value: str) -> bool:
        """True for plaintext and for tokens under a key other than the active one."""
        return key_id_of(value) != self.active


def seal(keyring: Keyring | None, value: str, aad: str) -> str:
    """Encrypt when there is a keyring; plaintext otherwise (see the module rules)."""
    return value if keyring is None else keyring.encrypt(value, aad)


def unseal(keyring: Keyring | None, value: str, aad: str) -> str:
    """Decrypt a token, pass plaintext through; a token without a keyring is an error."""
    if not is_encrypted(value):
        return value
    if keyring is None:
        raise CryptoError(f"{aad}: the value is encrypted but no key is configured")
    return keyring.decrypt(value, aad)


def seal_optional(keyring: Keyring | None, value: str | None, aad: str) -> str | None:
    return None if value is None else seal(keyring, value, aad)


def unseal_optional(keyring: Keyring | None, value: str | None, aad: str) -> str | None:
    return None if value is None else unseal(keyring, value, aad)


# Files (a photo, a PDF, a voice note) are sealed as the base64 text of their bytes, so they are
# ordinary tokens in an ``EncryptedText`` column: ``opstap keys rotate`` and the scrub treat them
# like every other sealed value.
def seal_bytes(keyring: Keyring | None, value: bytes, aad: str) -> str:
    return seal(keyring, base64.b64encode(value).decode("ascii"), aad)


def unseal_bytes(keyring: Keyring | None, value: str, aad: str) -> bytes:
    return base64.b64decode(unseal(keyring, value, aad), validate=True)
