"""``loyalty``: the command line over :class:`~loyalty_client.LoyaltyClient`.

Human-readable tables by default, ``--json`` for scripts. Exit status: 0 on success,
1 when the service answered with an error (or could not be reached), 2 for bad
command-line input. The server's address and the token come from
``--address``/``LOYALTY_ADDRESS`` (``--target``/``LOYALTY_TARGET`` still work) and
``--token``/``LOYALTY_TOKEN``, the names the Medusa adapter reads too.

One job a module: ``parser`` (the grammar), ``connect`` (flags and environment to a
client), ``inputs`` (command-line values), the commands by group (``points``,
``points_import``, ``holds``, ``order_points``, ``gift_cards``, ``store_credit``),
``render`` (tables, records, JSON).
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from ..errors import LoyaltyError
from .connect import make_client
from .inputs import UsageError
from .parser import build_parser
from .render import Output, render_record, render_table, report_error


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    out = Output(json=bool(args.json), out=sys.stdout)
    try:
        with make_client(args) as client:
            args.func(client, args, out)
    except LoyaltyError as exc:
        report_error(exc, out.json)
        return 1
    except (UsageError, ValueError) as exc:
        sys.stderr.write(f"loyalty: error: {exc}\n")
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # `loyalty ... | head`: stop quietly.
        sys.stderr.close()
        return 0
    return 0


__all__ = ["build_parser", "main", "render_record", "render_table"]
