"""Instance labels (libs/config-client's instance-labels.ts): what an instance says it is.

Reported in every status (``labels``); a rollout may select its cohort by them. Keys match
``^[a-z][a-z0-9_.-]{0,62}$``, values ``^[A-Za-z0-9_.:-]{0,63}$``, at most 16 labels. The
environment gives them as ``INSTANCE_LABELS=region=eu,tier=canary``.
"""

from __future__ import annotations

import json
import re
from typing import Any, Dict, List, Tuple

LABEL_KEY_PATTERN = re.compile(r"[a-z][a-z0-9_.-]{0,62}")
LABEL_VALUE_PATTERN = re.compile(r"[A-Za-z0-9_.:-]{0,63}")
MAX_LABELS = 16
# As the Node SDK shows them in its messages (String(regex)).
_KEY_SHOWN = "/^[a-z][a-z0-9_.-]{0,62}$/"
_VALUE_SHOWN = "/^[A-Za-z0-9_.:-]{0,63}$/"


def label_problems(labels: Any) -> List[str]:
    """What is wrong with a set of labels (empty when nothing is); each problem names the key."""
    if not isinstance(labels, dict):
        return ["must be an object of label keys to string values"]
    problems: List[str] = []
    if len(labels) > MAX_LABELS:
        problems.append(f"has {len(labels)} labels, at most {MAX_LABELS}")
    for key, value in labels.items():
        if not isinstance(key, str) or not LABEL_KEY_PATTERN.fullmatch(key):
            problems.append(f"key {json.dumps(key, ensure_ascii=False)} must match {_KEY_SHOWN}")
        elif not isinstance(value, str) or not LABEL_VALUE_PATTERN.fullmatch(value):
            problems.append(f"value of {key} must be a string matching {_VALUE_SHOWN} (got {json.dumps(value, ensure_ascii=False)})")
    return problems


def parse_instance_labels(text: str, name: str = "INSTANCE_LABELS") -> Tuple[Dict[str, str], List[str]]:
    """``key=value,key=value`` (blank items skipped; items, keys and values trimmed) as labels,
    and the problems, each naming ``name`` and the item."""
    labels: Dict[str, str] = {}
    problems: List[str] = []
    position_by_key: Dict[str, int] = {}
    for index, raw in enumerate(text.split(",")):
        item = raw.strip()
        if item == "":
            continue
        # Positions count every comma-separated item, blanks included, so they match the raw text.
        where = f"{name} item {index + 1}"
        if "=" not in item:
            problems.append(f"{where} must be key=value (got {json.dumps(item, ensure_ascii=False)})")
            continue
        key, _, value = item.partition("=")
        key = key.strip()
        if key in position_by_key:
            problems.append(f"{where} repeats label {key} (first at item {position_by_key[key]})")
            continue
        position_by_key[key] = index + 1
        labels[key] = value.strip()
    problems.extend(f"{name} {problem}" for problem in label_problems(labels))
    return labels, problems
