"""`loyalty points import`: a CSV file of adjustments sent in all-or-nothing batches."""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
import itertools
import re
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from typing import TextIO

from ..client import LoyaltyClient
from ..errors import LoyaltyError
from ..types import PointAdjustment, PointsAdjustmentInput
from .inputs import UsageError
from .render import Output

MAX_BATCH = 1000


@dataclass
class _Row:
    line: int
    item: PointsAdjustmentInput


def _read_import(stream: TextIO, file_key: str) -> Iterator[_Row]:
    """The rows of an import. A row without an idempotency_key gets one derived from
    the file's content and the row's line ("import:<sha256[:16]>:<line>"), so running
    the same file again (say after a failed batch) applies no row twice."""
    reader = csv.DictReader(stream)
    columns = set(reader.fieldnames or ())
    missing = {"customer_id", "delta"} - columns
    if missing:
        raise UsageError(
            f"the CSV header must name customer_id and delta (and optionally reason and "
            f"idempotency_key); missing: {', '.join(sorted(missing))}"
        )
    for row in reader:
        if not any((v or "").strip() for v in row.values() if isinstance(v, str)):
            continue  # a blank line
        key = (row.get("idempotency_key") or "").strip()
        yield _Row(
            reader.line_num,
            PointsAdjustmentInput(
                customer_id=(row.get("customer_id") or "").strip(),
                delta=(row.get("delta") or "").strip(),
                reason=row.get("reason") or "",
                idempotency_key=key or f"import:{file_key}:{reader.line_num}",
            ),
        )


def _batches(rows: Iterator[_Row], size: int) -> Iterator[list[_Row]]:
    while batch := list(itertools.islice(rows, size)):
        yield batch


_ITEM = re.compile(r"adjustments\[(\d+)\]\.?")


def _name_lines(error: LoyaltyError, batch: list[_Row]) -> list[int]:
    """Rewrites the server's item indexes (``adjustments[1]``, 0-based within the batch)
    as the CSV lines of those rows, in the message and the field violations; returns
    the lines named."""
    lines: list[int] = []

    def line_of(match: re.Match[str]) -> int | None:
        index = int(match.group(1))
        if index >= len(batch):
            return None
        if batch[index].line not in lines:
            lines.append(batch[index].line)
        return batch[index].line

    def in_message(match: re.Match[str]) -> str:
        line = line_of(match)
        return match.group(0) if line is None else f"CSV line {line}"

    def in_field(field: str) -> str:
        match = _ITEM.match(field)
        line = line_of(match) if match else None
        if match is None or line is None:
            return field
        rest = field[match.end() :]
        return f"line {line}: {rest}" if rest else f"line {line}"

    error.field_violations = tuple(
        replace(v, field=in_field(v.field)) for v in error.field_violations
    )
    error.message = _ITEM.sub(in_message, error.message)
    return lines


def _already_applied(result: Sequence[PointAdjustment]) -> int:
    """Rows the server answered with an earlier adjustment (its idempotency key was
    used by an earlier import: the server says so per item)."""
    return sum(1 for a in result if a.replayed)


def cmd_import(client: LoyaltyClient, args: argparse.Namespace, out: Output) -> None:
    if not 1 <= args.batch_size <= MAX_BATCH:
        raise UsageError(f"--batch-size must be between 1 and {MAX_BATCH}")
    applied: list[PointAdjustment] = []
    batches = 0
    already = 0
    try:
        if args.file == "-":
            buffer = getattr(sys.stdin, "buffer", None)
            data = buffer.read() if buffer is not None else sys.stdin.read().encode()
        else:
            with open(args.file, "rb") as f:
                data = f.read()
    except OSError as exc:
        raise UsageError(f"cannot read {args.file}: {exc.strerror}") from None
    file_key = hashlib.sha256(data).hexdigest()[:16]
    try:
        # utf-8-sig: a byte order mark (spreadsheet exports) is not part of the header.
        stream = io.StringIO(data.decode("utf-8-sig"), newline="")
        for batch in _batches(_read_import(stream, file_key), args.batch_size):
            try:
                result = client.batch_adjust_points([r.item for r in batch])
            except LoyaltyError as exc:
                lines = _name_lines(exc, batch)
                where = ", ".join(str(n) for n in lines)
                named = f"CSV line {where}: " if len(lines) == 1 else f"CSV lines {where}: "
                if not lines or "CSV line" in exc.message:
                    named = ""
                exc.message = (
                    f"{named}{exc.message}; batch {batches + 1} (CSV lines "
                    f"{batch[0].line}-{batch[-1].line}) was not applied. {len(applied)} "
                    f"row(s) in {batches} earlier batch(es) were applied"
                    + (f" ({already} of them by an earlier import)" if already else "")
                )
                raise
            applied.extend(result)
            already += _already_applied(result)
            batches += 1
    except (csv.Error, UnicodeDecodeError) as exc:
        raise UsageError(f"{args.file}: {exc}") from None
    summary = {
        "file": args.file,
        "rows": len(applied),
        "imported": len(applied) - already,
        "already_applied": already,
        "batches": batches,
        "adjustments": applied,
    }

    def text() -> str:
        new = len(applied) - already
        done = f"Imported {new} adjustment(s) in {batches} batch(es) from {args.file}"
        if already:
            done += (
                f"; {already} of its {len(applied)} row(s) were already applied (an earlier "
                f"import with the same idempotency keys) and were not applied again"
            )
        return done

    out.emit(summary, text)
