"""Print the README's settings table from the code that parses the settings.

.venv/bin/python scripts/settings_table.py      # tests/test_docs.py keeps README in step
"""

from __future__ import annotations

from dataclasses import fields

from loyalty_server import cli, config

ENVIRONMENT_ONLY_HELP = {
    "jwt_secret": "HS256 secret (32+ bytes) that signs accepted JWTs; environment only, "
    "so it never shows in `ps`",
}


def table() -> str:
    defaults = {f.name: f.default for f in fields(config.Settings)}
    rows = ["| flag | environment | default | meaning |", "|---|---|---|---|"]
    for name, variable in config.ENVIRONMENT.items():
        only_env = name in config.ENVIRONMENT_ONLY
        flag = "" if only_env else f"`--{name.replace('_', '-')}`"
        meaning = ENVIRONMENT_ONLY_HELP[name] if only_env else cli._HELP[name]
        default = defaults[name]
        if isinstance(default, bool):
            shown = "off"
        elif default in ("", None):
            shown = ""
        elif default == 0:
            shown = "auto"
        else:
            shown = f"`{default}`"
        rows.append(f"| {flag} | `{variable}` | {shown} | {meaning.replace('|', '/')} |")
    return "\n".join(rows) + "\n"


if __name__ == "__main__":
    print(table(), end="")
