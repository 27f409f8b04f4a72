"""Sealed secrets: NaCl ``crypto_box`` (X25519, XSalsa20-Poly1305) from a one-time key pair.

Each entry of ``payload.secrets`` is ``{ "alg": "x25519-xsalsa20-poly1305", "epk", "nonce",
"box" }`` (standard base64): ``box`` is the secret's raw UTF-8 bytes boxed with the 24-byte
``nonce`` from the one-time key ``epk`` to the service's X25519 public key. tweetnacl (the
reference) and libsodium (PyNaCl) agree on every box but one kind: for an ``epk`` of low order
the shared secret is all zeros, which libsodium refuses and tweetnacl uses; the reference wins.
"""

from __future__ import annotations

import base64
import struct
from typing import Any

import nacl.bindings
import nacl.exceptions

from .keys import decode_strict_base64

SEALED_SECRET_ALG = "x25519-xsalsa20-poly1305"
KEY_BYTES = 32
NONCE_BYTES = 24
MAC_BYTES = 16


class SealedSecretError(ValueError):
    """A sealed secret that is malformed or does not open; the message never holds a value."""

    def __init__(self, message: str, malformed: bool) -> None:
        super().__init__(message)
        self.malformed = malformed


def _hsalsa20(key: bytes, nonce: bytes) -> bytes:
    """HSalsa20 (crypto_core_hsalsa20), which crypto_box uses to turn X25519 into a key."""
    sigma = struct.unpack("<4I", b"expand 32-byte k")
    k = struct.unpack("<8I", key)
    n = struct.unpack("<4I", nonce)
    x = [sigma[0], k[0], k[1], k[2], k[3], sigma[1], n[0], n[1], n[2], n[3], sigma[2], k[4], k[5], k[6], k[7], sigma[3]]

    def rotl(v: int, c: int) -> int:
        return ((v << c) & 0xFFFFFFFF) | (v >> (32 - c))

    def quarter(a: int, b: int, c: int, d: int) -> None:
        x[b] ^= rotl((x[a] + x[d]) & 0xFFFFFFFF, 7)
        x[c] ^= rotl((x[b] + x[a]) & 0xFFFFFFFF, 9)
        x[d] ^= rotl((x[c] + x[b]) & 0xFFFFFFFF, 13)
        x[a] ^= rotl((x[d] + x[c]) & 0xFFFFFFFF, 18)

    for _ in range(10):
        quarter(0, 4, 8, 12)
        quarter(5, 9, 13, 1)
        quarter(10, 14, 2, 6)
        quarter(15, 3, 7, 11)
        quarter(0, 1, 2, 3)
        quarter(5, 6, 7, 4)
        quarter(10, 11, 8, 9)
        quarter(15, 12, 13, 14)
    return struct.pack("<8I", x[0], x[5], x[10], x[15], x[6], x[7], x[8], x[9])


# The box key tweetnacl derives when X25519 gives all zeros (a low-order epk).
_ZERO_SHARED_KEY = _hsalsa20(bytes(32), bytes(16))


def _decode_field(sealed: dict, field: str, min_bytes: int, expected: str, max_bytes: int) -> bytes:
    value = sealed.get(field)
    if not isinstance(value, str):
        raise SealedSecretError(f"sealed secret {field} must be a base64 string", True)
    data = decode_strict_base64(value)
    if data is None:
        raise SealedSecretError(f"sealed secret {field} is not valid base64", True)
    if len(data) < min_bytes or len(data) > max_bytes:
        raise SealedSecretError(f"sealed secret {field} must decode to {expected} bytes (got {len(data)})", True)
    return data


def open_sealed_secret(sealed: Any, recipient_secret_key: bytes) -> bytes:
    """The plaintext bytes of a sealed secret from untrusted JSON; raises SealedSecretError."""
    if len(recipient_secret_key) != KEY_BYTES:
        raise ValueError(f"recipient X25519 secret key must be {KEY_BYTES} bytes (got {len(recipient_secret_key)})")
    if not isinstance(sealed, dict):
        raise SealedSecretError("sealed secret is not an object", True)
    if sealed.get("alg") != SEALED_SECRET_ALG:
        raise SealedSecretError(f"sealed secret alg must be {SEALED_SECRET_ALG}", True)
    epk = _decode_field(sealed, "epk", KEY_BYTES, str(KEY_BYTES), KEY_BYTES)
    nonce = _decode_field(sealed, "nonce", NONCE_BYTES, str(NONCE_BYTES), NONCE_BYTES)
    box = _decode_field(sealed, "box", MAC_BYTES, f"at least {MAC_BYTES}", 1 << 62)
    try:
        shared = nacl.bindings.crypto_box_beforenm(epk, bytes(recipient_secret_key))
    except (nacl.exceptions.CryptoError, RuntimeError, ValueError):
        shared = _ZERO_SHARED_KEY
    try:
        return nacl.bindings.crypto_box_open_afternm(box, nonce, shared)
    except (nacl.exceptions.CryptoError, ValueError, TypeError):
        raise SealedSecretError(
            "sealed secret does not open with this key (wrong recipient or tampered)", False
        ) from None


def box_public_key_of(secret_key: bytes) -> bytes:
    """The X25519 public key of a 32-byte secret key."""
    return nacl.bindings.crypto_scalarmult_base(bytes(secret_key))


def seal_secret(plaintext: bytes, recipient_public_key: bytes, ephemeral_secret: bytes, nonce: bytes) -> dict:
    """Seals ``plaintext`` (tests and tools; the manager seals in production)."""
    box = nacl.bindings.crypto_box(plaintext, nonce, recipient_public_key, ephemeral_secret)
    return {
        "alg": SEALED_SECRET_ALG,
        "epk": base64.b64encode(box_public_key_of(ephemeral_secret)).decode(),
        "nonce": base64.b64encode(nonce).decode(),
        "box": base64.b64encode(box).decode(),
    }
