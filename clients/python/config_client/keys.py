"""Keys as the contract writes them: canonical standard base64, and ``id:base64Key,…`` lists."""

from __future__ import annotations

import base64
import binascii
import re
from typing import Dict, List, Optional, Tuple

_BASE64 = re.compile(r"[A-Za-z0-9+/]+={0,2}")
_KEY_LIST_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


class KeyError_(ValueError):
    """A key or key list that cannot be used; the message names the setting, never the key."""


def decode_strict_base64(value: str) -> Optional[bytes]:
    """Canonical standard base64 (padded, no whitespace, no stray bits), or None."""
    if not isinstance(value, str) or not _BASE64.fullmatch(value) or len(value) % 4 != 0:
        return None
    try:
        data = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        return None
    # Decoders ignore stray trailing bits; the round trip catches them (one spelling per value).
    return data if base64.b64encode(data).decode("ascii") == value else None


def decode_base64_key(value: str, expected_bytes: int, name: str) -> bytes:
    """A standard-base64 key of exactly ``expected_bytes``; errors name ``name``, not the value."""
    data = decode_strict_base64(value.strip())
    if data is None:
        raise KeyError_(f"{name} is not valid base64")
    if len(data) != expected_bytes:
        raise KeyError_(f"{name} must decode to {expected_bytes} bytes (got {len(data)})")
    return data


def parse_key_list(value: str, expected_bytes: int, name: str) -> List[Tuple[str, bytes]]:
    """``id:base64Key,id2:base64Key`` (CONFIG_TRUSTED_KEYS) as (id, key) pairs."""
    entries: List[Tuple[str, bytes]] = []
    positions: Dict[str, int] = {}
    for index, raw in enumerate(value.split(",")):
        item = raw.strip()
        if item == "":
            continue
        where = f"{name} item {index + 1}"
        separator = item.find(":")
        if separator < 0:
            raise KeyError_(f"{where} must be id:base64Key")
        key_id = item[:separator].strip()
        if not _KEY_LIST_ID.fullmatch(key_id):
            raise KeyError_(
                f"{where} has an invalid id (1-64 characters: letters, digits, '.', '_', '-', "
                "starting with a letter or digit)"
            )
        if key_id in positions:
            raise KeyError_(f"{where} repeats id {key_id} (first at item {positions[key_id]})")
        positions[key_id] = index + 1
        entries.append((key_id, decode_base64_key(item[separator + 1 :], expected_bytes, f"{where} ({key_id})")))
    return entries
