"""API keys: their configuration (a setting or a file, SHA-256 digests with scopes)."""

from __future__ import annotations

import hashlib
import json
import re
import secrets
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .scopes import SCOPES

API_KEY_PREFIX = "lk_"

_HEX64 = re.compile(r"^[0-9a-fA-F]{64}$")
_NAME = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


@dataclass(frozen=True)
class ApiKey:
    """A configured API key: its name, the SHA-256 of the token, and its scopes."""

    name: str
    digest: bytes
    scopes: frozenset[str]


def hash_api_key(token: str) -> str:
    """The SHA-256 hex digest under which a key is configured."""
    return hashlib.sha256(token.encode()).hexdigest()


def new_api_key() -> str:
    """A fresh random API key (256 bits)."""
    return API_KEY_PREFIX + secrets.token_urlsafe(32)


def _scopes(values: Iterable[str], where: str) -> frozenset[str]:
    scopes = frozenset(values)
    unknown = sorted(scopes - SCOPES)
    if unknown:
        raise ValueError(
            f"{where}: unknown scope {', '.join(unknown)} (known: {', '.join(sorted(SCOPES))})"
        )
    if not scopes:
        raise ValueError(f"{where}: an API key needs at least one scope")
    return scopes


def _key(name: str, digest: str, scopes: Iterable[str], where: str) -> ApiKey:
    if not _NAME.match(name):
        raise ValueError(f"{where}: key name {name!r} must be 1-64 characters of A-Z a-z 0-9 . _ -")
    if not _HEX64.match(digest):
        raise ValueError(f"{where}: sha256 must be 64 hex digits (the SHA-256 of the key)")
    return ApiKey(name, bytes.fromhex(digest), _scopes(scopes, where))


def parse_api_keys(text: str, where: str = "LOYALTY_API_KEYS") -> list[ApiKey]:
    """``[name:]<sha256 hex>=scope[,scope]`` entries separated by ``;`` or whitespace."""
    keys = []
    for number, entry in enumerate(re.split(r"[;\s]+", text.strip()), start=1):
        if not entry:
            continue
        left, sep, right = entry.partition("=")
        if not sep:
            raise ValueError(
                f"{where}: entry {number} must look like [name:]<sha256 hex>=loyalty:read,..."
            )
        name, _, digest = left.rpartition(":")
        scopes = [s for s in right.split(",") if s]
        keys.append(_key(name or f"key{number}", digest, scopes, f"{where} entry {number}"))
    return keys


def load_api_keys_file(path: str) -> list[ApiKey]:
    """A TOML (or, for ``*.json``, JSON) file with ``api_keys = [{name, sha256, scopes}]``."""
    try:
        raw = Path(path).read_bytes()
    except OSError as error:
        raise ValueError(f"cannot read API keys file {path}: {error.strerror}") from None
    try:
        data: Any = json.loads(raw) if path.endswith(".json") else tomllib.loads(raw.decode())
    except (ValueError, UnicodeDecodeError) as error:
        raise ValueError(f"API keys file {path} is not valid: {error}") from None
    entries = data.get("api_keys") if isinstance(data, dict) else None
    if not isinstance(entries, list):
        raise ValueError(f"API keys file {path} must hold a list named api_keys")
    keys = []
    for number, entry in enumerate(entries, start=1):
        where = f"{path} api_keys[{number - 1}]"
        if not isinstance(entry, dict):
            raise ValueError(f"{where} must be a table with name, sha256 and scopes")
        scopes = entry.get("scopes")
        if not isinstance(scopes, list) or not all(isinstance(s, str) for s in scopes):
            raise ValueError(f"{where}: scopes must be a list of strings")
        keys.append(
            _key(
                str(entry.get("name", f"key{number}")), str(entry.get("sha256", "")), scopes, where
            )
        )
    return keys
