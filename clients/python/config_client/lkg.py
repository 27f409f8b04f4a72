"""The last-known-good file: the newest accepted envelope, HMAC-protected, so a worker starts
(and refuses replays of older versions) while the manager or the broker is down.

The layout is the Node SDK's (libs/config-client/src/last-known-good.ts), so either SDK reads
the other's file. One JSON object and a newline, written atomically (temp file, fsync, rename,
mode 0600)::

    { "format": 1, "service": "<service>", "savedAt": "<ISO time>",
      "envelope": "<base64 of the config envelope bytes as received>",
      "hmac": "<base64 HMAC-SHA256>" }

Format 2 adds ``"schemaEnvelope": "<base64 of the signed schema envelope>"`` (a client that
validates with the manager's signed schema needs both after a restart). The HMAC key is
LKG_HMAC_KEY (at least 16 bytes); its input is::

    "config-centre/last-known-good\\0" ‖ u32be(format) ‖ u32be(len(service)) ‖ service
      ‖ envelope                                  (format 1)
      ‖ u32be(len(envelope)) ‖ envelope ‖ schema  (format 2)

The HMAC only says "this worker's family wrote it": the envelopes are verified again in full
when loaded (signature, service, schema), and their version is the replay floor.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets as _random
import struct
import threading
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Optional

from .keys import decode_strict_base64

LKG_FORMAT = 2
LKG_FORMAT_CONFIG_ONLY = 1
MIN_LKG_HMAC_KEY_BYTES = 16
_HMAC_DOMAIN = b"config-centre/last-known-good\0"
_HMAC_BYTES = 32
_MAX_FILE_BYTES = 4 * 1024 * 1024


def iso_now() -> str:
    """The current time as JavaScript's toISOString writes it (milliseconds, Z)."""
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass(frozen=True)
class LkgLoad:
    """``kind`` is ``missing``, ``invalid`` (with ``reason``, naming no content) or ``ok``."""

    kind: str
    reason: str = ""
    envelope_bytes: bytes = b""
    schema_envelope_bytes: Optional[bytes] = None
    saved_at: str = ""


class LastKnownGoodStore:
    """Reads and atomically writes the last-known-good file of one service."""

    def __init__(self, path: str, hmac_key: bytes) -> None:
        if len(hmac_key) < MIN_LKG_HMAC_KEY_BYTES:
            raise ValueError(f"lkg_hmac_key must be at least {MIN_LKG_HMAC_KEY_BYTES} bytes (got {len(hmac_key)})")
        self.path = path
        self._key = bytes(hmac_key)
        # Saves run one after another, so an older version is never renamed over a newer one.
        self._lock = threading.Lock()

    def _mac_input(self, service: str, envelope: bytes, schema: Optional[bytes]) -> bytes:
        service_bytes = service.encode("utf-8")
        header = struct.pack(">II", LKG_FORMAT_CONFIG_ONLY if schema is None else LKG_FORMAT, len(service_bytes))
        if schema is None:
            return _HMAC_DOMAIN + header + service_bytes + envelope
        return _HMAC_DOMAIN + header + service_bytes + struct.pack(">I", len(envelope)) + envelope + schema

    def _mac(self, service: str, envelope: bytes, schema: Optional[bytes]) -> bytes:
        return hmac.new(self._key, self._mac_input(service, envelope, schema), hashlib.sha256).digest()

    def save(self, envelope_bytes: bytes, service: str, schema_envelope_bytes: Optional[bytes] = None) -> None:
        """Atomically replaces the file (temp file, fsync, rename; mode 0600)."""
        envelope = bytes(envelope_bytes)
        schema = None if schema_envelope_bytes is None else bytes(schema_envelope_bytes)
        record = {
            "format": LKG_FORMAT_CONFIG_ONLY if schema is None else LKG_FORMAT,
            "service": service,
            "savedAt": iso_now(),
            "envelope": base64.b64encode(envelope).decode("ascii"),
        }
        if schema is not None:
            record["schemaEnvelope"] = base64.b64encode(schema).decode("ascii")
        record["hmac"] = base64.b64encode(self._mac(service, envelope, schema)).decode("ascii")
        text = json.dumps(record, separators=(",", ":"), ensure_ascii=False) + "\n"
        directory = os.path.dirname(os.path.abspath(self.path))
        with self._lock:
            os.makedirs(directory, mode=0o700, exist_ok=True)
            temp = f"{self.path}.tmp-{os.getpid()}-{_random.token_hex(6)}"
            try:
                fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                try:
                    os.write(fd, text.encode("utf-8"))
                    # Durable before it becomes visible: a crash leaves the old file or the new.
                    os.fsync(fd)
                finally:
                    os.close(fd)
                os.replace(temp, self.path)
            except BaseException:
                try:
                    os.unlink(temp)
                except OSError:
                    pass
                raise
            _sync_directory(directory)

    def load(self, service: str) -> LkgLoad:
        """The file for ``service``: missing, invalid (and why), or the envelope bytes to verify."""
        try:
            with open(self.path, "rb") as handle:
                raw = handle.read(_MAX_FILE_BYTES + 1)
        except FileNotFoundError:
            return LkgLoad("missing")
        except OSError as error:
            return LkgLoad("invalid", f"cannot be read ({error.__class__.__name__})")
        if len(raw) > _MAX_FILE_BYTES:
            return LkgLoad("invalid", "is larger than any file this client writes")
        try:
            parsed = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError, RecursionError):
            return LkgLoad("invalid", "is not JSON (truncated or overwritten)")
        if not isinstance(parsed, dict):
            return LkgLoad("invalid", "is not a JSON object")
        fmt = parsed.get("format")
        if isinstance(fmt, bool) or fmt not in (LKG_FORMAT_CONFIG_ONLY, LKG_FORMAT):
            return LkgLoad("invalid", f"has an unknown format (expected {LKG_FORMAT_CONFIG_ONLY} or {LKG_FORMAT})")
        if parsed.get("service") != service:
            return LkgLoad("invalid", f"is for another service, not {service}")
        saved_at, envelope, mac = parsed.get("savedAt"), parsed.get("envelope"), parsed.get("hmac")
        if not all(isinstance(v, str) for v in (saved_at, envelope, mac)):
            return LkgLoad("invalid", "lacks savedAt, envelope or hmac")
        schema_text = parsed.get("schemaEnvelope")
        if fmt == LKG_FORMAT and not isinstance(schema_text, str):
            return LkgLoad("invalid", f"lacks the schema envelope of format {LKG_FORMAT}")
        envelope_bytes = decode_strict_base64(envelope)
        schema_bytes = decode_strict_base64(schema_text) if fmt == LKG_FORMAT else None
        mac_bytes = decode_strict_base64(mac)
        if (
            envelope_bytes is None
            or (fmt == LKG_FORMAT and schema_bytes is None)
            or mac_bytes is None
            or len(mac_bytes) != _HMAC_BYTES
        ):
            return LkgLoad("invalid", "has an envelope or hmac that is not valid base64")
        if not hmac.compare_digest(self._mac(service, envelope_bytes, schema_bytes), mac_bytes):
            return LkgLoad("invalid", "fails its HMAC check (tampered, or written with another LKG_HMAC_KEY)")
        return LkgLoad("ok", envelope_bytes=envelope_bytes, schema_envelope_bytes=schema_bytes, saved_at=saved_at)


def _sync_directory(directory: str) -> None:
    # Makes the rename itself durable; best effort (some platforms cannot open a directory).
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
