"""Where the shared test vectors are (libs/contracts/test-vectors), and how to read them."""

from __future__ import annotations

import base64
import os
import sys
from pathlib import Path
from typing import Any

CLIENT_ROOT = Path(__file__).resolve().parents[1]
REPO_ROOT = CLIENT_ROOT.parents[1]
if str(CLIENT_ROOT) not in sys.path:
    sys.path.insert(0, str(CLIENT_ROOT))

# CONFIG_VECTORS_DIR points the tests at another checkout's vectors (while they are generated).
VECTORS_DIR = Path(os.environ.get("CONFIG_VECTORS_DIR") or REPO_ROOT / "libs" / "contracts" / "test-vectors")


def load(name: str) -> Any:
    """One vector file, parsed; fails loudly when it is missing (the vectors are the contract)."""
    path = VECTORS_DIR / name
    if not path.is_file():
        raise AssertionError(
            f"test vector file {path} is missing: run `npm run vectors` in the repository, "
            "or set CONFIG_VECTORS_DIR to a directory that has them"
        )
    # Read as JavaScript reads JSON (1.0 is 1, big integers are doubles), as the generator wrote it.
    from config_client.jsvalue import parse_json

    return parse_json(path.read_text(encoding="utf-8"))


def message_bytes(message: dict) -> bytes:
    """A raw MQTT message of a vector: ``{ "utf8": text }`` or ``{ "base64": bytes }``."""
    if "utf8" in message:
        return message["utf8"].encode("utf-8", "surrogatepass")
    return base64.b64decode(message["base64"])


def b64(text: str) -> bytes:
    return base64.b64decode(text)
