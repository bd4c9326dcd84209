"""Gift card codes: validation of given ones, CSPRNG generation of new ones."""

from __future__ import annotations

import re
import secrets

from .errors import InvalidData

# No 0/O or 1/I/L: codes are read aloud and typed from paper.
ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
SECTION_LENGTH = 4
MAX_CODE = 64
_CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")


def generate(prefix: str, sections: int) -> str:
    groups = (
        "".join(secrets.choice(ALPHABET) for _ in range(SECTION_LENGTH)) for _ in range(sections)
    )
    return "-".join([prefix, *groups]) if prefix else "-".join(groups)


def validate(code: str, field: str = "code") -> str:
    if not _CODE.fullmatch(code):
        raise InvalidData.field(
            field,
            f"{field} must be 1 to {MAX_CODE} characters of A-Z, a-z, 0-9, '-' or '_', "
            "starting with a letter or digit",
        )
    return code
