"""The InfluxDB endpoints beside their native counterparts, in the same run on the same server:
line-protocol batches against JSON batches of the same measurements (target: >= 1.0x the
JSON rate), and Grafana's panel query (a day by the minute) against the native series of the
same window and buckets (target: <= 1.5x its latency). With the server's CPU per item."""

import asyncio
import statistics
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote, urlencode

from bench.load import Batches, make_batches, send_batches, server_cpu_seconds
from bench.queries import _latencies

ROOMS = 100
LP_SIZE = 5_000
PANEL_ROOMS = 4
EVERY = timedelta(seconds=10)  # a day of readings per panel room: 8,640
LINE_PROTOCOL = "text/plain; charset=utf-8"  # as InfluxDB's clients send it


def line_protocol_batches(label: str, total: int, size: int = LP_SIZE) -> Batches:
    """The measurements bench.load.make_batches makes, as line protocol (kelvin, s)."""
    start = int(datetime.now(UTC).timestamp()) - 60
    bodies = []
    for first in range(0, total, size):
        lines = [
            f"K,room={label}-{index % ROOMS} value={290 + index % 100 / 10} "
            f"{start - index // ROOMS}"
            for index in range(first, min(first + size, total))
        ]
        bodies.append("\n".join(lines).encode())
    return Batches(label, bodies, total, LINE_PROTOCOL)


def send_line_protocol(url: str, batches: Batches, *, senders: int) -> dict[str, Any]:
    return send_batches(url, batches, senders=senders, path="/write?precision=s")


ROUNDS = 3


def ingest(url: str, parent: int, total: int) -> dict[str, Any]:
    """JSON and line-protocol batches, each of `total` new measurements from 4 connections,
    in ROUNDS alternating rounds (JSON first, then line protocol first, ...), with the
    server's CPU per measurement; the best run of each is compared, as MQTT's are: this
    machine's load from elsewhere comes and goes, and would otherwise favour one of them."""
    runs: dict[str, list[dict[str, Any]]] = {"json": [], "lp": []}
    for round_ in range(ROUNDS):
        for kind in ("json", "lp") if round_ % 2 == 0 else ("lp", "json"):
            label = f"influx-{kind}-{round_}"
            if kind == "lp":
                batches = line_protocol_batches(label, total)
            else:
                batches = make_batches(label, total, LP_SIZE, rooms=ROOMS)
            before = server_cpu_seconds(parent)
            if kind == "lp":
                found = send_line_protocol(url, batches, senders=4)
            else:
                found = send_batches(url, batches, senders=4)
            cpu = server_cpu_seconds(parent) - before
            found["server_cpu_us_per_item"] = cpu / max(found["acknowledged"], 1) * 1e6
            runs[kind].append(found)
    best = {
        kind: max(found, key=lambda run: run["measurements_per_s"]) for kind, found in runs.items()
    }
    return {
        **best,
        "rounds": runs,
        "lp_vs_json": best["lp"]["measurements_per_s"] / best["json"]["measurements_per_s"],
    }


def panel(url: str, requests: int) -> dict[str, Any]:
    """Grafana's time-series panel, a day by the minute, against the native series of the
    same window and buckets; requests alternate between the two, after a warm-up."""
    end = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=1)
    start = end - timedelta(days=1)
    readings = int(timedelta(days=1) / EVERY)
    lines = [
        f"°C,entity_id=panel-{room} value={20 + (step % 360) / 60:.2f} "
        f"{int((end - step * EVERY).timestamp())}"
        for room in range(PANEL_ROOMS)
        for step in range(readings)
    ]
    bodies = [
        b"\n".join(map(str.encode, lines[i : i + LP_SIZE])) for i in range(0, len(lines), LP_SIZE)
    ]
    load = Batches("panel", bodies, len(lines), LINE_PROTOCOL)
    assert send_line_protocol(url, load, senders=2)["errors"] == 0
    native, grafana = [], []
    for index in range(requests + 10):
        room = f"panel-{index % PANEL_ROOMS}"
        native.append(
            f"/measurements/{room}/series/P1D?bucket=PT1M&unit=C&end={quote(end.isoformat())}"
        )
        q = (
            f'SELECT mean("value") FROM "°C" WHERE ("entity_id" = \'{room}\') AND '
            f"time >= {_ms(start)}ms and time <= {_ms(end)}ms GROUP BY time(1m) fill(null)"
        )
        grafana.append("/query?" + urlencode({"db": "home_assistant", "epoch": "ms", "q": q}))
    interleaved = [path for pair in zip(native, grafana, strict=True) for path in pair]
    latencies = asyncio.run(_latencies(url, interleaved))[20:]  # after warming up
    native_p50 = statistics.median(latencies[0::2])
    grafana_p50 = statistics.median(latencies[1::2])
    return {
        "native_series_p50_ms": native_p50,
        "influxql_panel_p50_ms": grafana_p50,
        "panel_vs_series": grafana_p50 / native_p50,
    }


def _ms(ts: datetime) -> int:
    return int(ts.timestamp() * 1000)


def measure_influx(url: str, parent: int, *, total: int, requests: int) -> dict[str, Any]:
    return {"ingest": ingest(url, parent, total), "panel": panel(url, requests)}


def print_influx(results: dict[str, Any]) -> None:
    measured: dict[str, Any] = results.get("influx", {})
    if not measured:
        return
    print("\nreading line protocol, us per line (bench/line_protocol.py):")
    for name, micros in results["line_protocol_parsers_us_per_line"].items():
        print(f"  {name:<45}{micros:>6.2f}")
    print("InfluxDB endpoints beside the native ones, same server, same run:")
    for name, found in measured.items():
        runs = found["ingest"]
        print(f"  {name}: the best of {ROUNDS} alternating rounds each")
        for label in ("json", "lp"):
            run = runs[label]
            print(
                f"    {label:<7} {run['measurements_per_s']:>10,.0f} measurements/s"
                f"   server CPU {run['server_cpu_us_per_item']:6.1f} us/measurement"
                f"   errors {sum(other['errors'] for other in runs['rounds'][label])}"
            )
        ratio = runs["lp_vs_json"]
        print(
            f"    line protocol / JSON batches   {ratio:5.2f}  (target >= 1.0: {_met(ratio >= 1)})"
        )
        panel = found["panel"]
        ratio = panel["panel_vs_series"]
        print(
            f"    Grafana panel {panel['influxql_panel_p50_ms']:.2f} ms / native series"
            f" {panel['native_series_p50_ms']:.2f} ms (p50)   {ratio:5.2f}"
            f"  (target <= 1.5: {_met(ratio <= 1.5)})"
        )


def _met(met: bool) -> str:
    return "met" if met else "NOT MET"
