"""Import and export: a file's measurements into a server through the batch endpoint, and a
room's out of it as CSV.

An import stores every line the server accepts. A batch is all or nothing, so the items it
refuses (422) or that conflict with what is stored (409) are set aside with the server's
reason and the rest of the batch is sent again. The alternative, refusing a whole batch for
one bad line, would make what is stored depend on where the batches happen to split the file:
a file cannot be stored atomically anyway once it is larger than a batch. Every line not
stored is named, by number, in the summary, and importing the same file again after fixing
them is harmless: what is already stored counts as duplicates."""

import csv
import io
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, TextIO

import httpx

from roomtemp.cli.connection import error_of, post_batch, room_path, unreachable
from roomtemp.cli.measurement_files import Line


@dataclass
class Summary:
    read: int = 0
    stored: int = 0
    duplicates: int = 0
    rejected: list[tuple[int, str]] = field(default_factory=list)  # line number, why


def import_lines(
    client: httpx.Client,
    lines: Iterable[Line],
    batch_size: int,
    on_batch: Callable[[Summary], None] = lambda summary: None,
) -> Summary:
    """Every line sent, `batch_size` at a time; `on_batch` after each batch (for progress)."""
    summary = Summary()
    batch: list[tuple[int, dict[str, Any]]] = []
    for line in lines:
        summary.read += 1
        if line.item is None:
            summary.rejected.append((line.number, line.problem or "unreadable"))
            continue
        batch.append((line.number, line.item))
        if len(batch) == batch_size:
            store(client, batch, summary)
            on_batch(summary)
            batch = []
    if batch:
        store(client, batch, summary)
        on_batch(summary)
    summary.rejected.sort()
    return summary


def store(client: httpx.Client, batch: list[tuple[int, dict[str, Any]]], summary: Summary) -> None:
    """All of `batch` (line numbers and items) that the server accepts; the lines it refuses,
    in `summary.rejected`. Each round sets aside at least one line, so this ends."""
    while batch:
        answer = post_batch(client, [item for _, item in batch])
        if answer.status == 200:
            summary.stored += answer.stored
            summary.duplicates += answer.duplicates
            return
        reasons: dict[int, list[str]] = {}
        for index, reason in answer.failures:
            reasons.setdefault(index, []).append(reason)
        summary.rejected.extend(
            (batch[index][0], "; ".join(problems)) for index, problems in reasons.items()
        )
        batch = [line for index, line in enumerate(batch) if index not in reasons]


def export_room(client: httpx.Client, room_id: str, params: dict[str, str], out: TextIO) -> int:
    """The room's measurements as CSV (room_id,ts,v,u) on `out`, streamed as the server
    streams them; how many. The room_id column makes the output a file `import` takes."""
    prefix = csv_field(room_id) + ","
    count = 0
    try:
        with client.stream(
            "GET", room_path(room_id), params=params, headers={"Accept": "text/csv"}
        ) as response:
            if response.status_code != 200:
                response.read()
                raise error_of(response)
            lines = response.iter_lines()
            next(lines, None)  # the server's header, ts,v,u
            out.write("room_id,ts,v,u\n")
            for line in lines:
                if line:
                    out.write(prefix + line + "\n")
                    count += 1
    except httpx.TransportError as error:
        raise unreachable(client.base_url, error) from None
    return count


def csv_field(text: str) -> str:
    """`text` as one CSV field, quoted when it must be (a room named "Hall, upstairs")."""
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="").writerow([text])
    return buffer.getvalue()


def summary_lines(label: str, summary: Summary, seconds: float, listed: int = 100) -> list[str]:
    """What an import did, for people: the counts, then each line rejected and why (the first
    `listed` of them)."""
    rate = summary.read / max(seconds, 1e-9)
    lines = [
        f"{label}: {summary.read:,} measurement{'' if summary.read == 1 else 's'} read"
        f" in {seconds:.1f} s ({rate:,.0f}/s)",
        f"  stored      {summary.stored:>10,}",
        f"  duplicates  {summary.duplicates:>10,}  (stored already, with the same value)",
        f"  rejected    {len(summary.rejected):>10,}",
    ]
    lines += [f"    line {number}: {reason}" for number, reason in summary.rejected[:listed]]
    if len(summary.rejected) > listed:
        lines.append(f"    ... and {len(summary.rejected) - listed:,} more")
    return lines
