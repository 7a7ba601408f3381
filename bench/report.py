"""The benchmark's table: each backend side by side, and ratios against the same-run limits."""

from typing import Any


def query_ratios(queries: dict[str, Any]) -> dict[str, float]:
    http, naive = queries["http"], queries["naive"]
    year = http["average P365D"]["p50_ms"]
    return {
        "year_vs_15_minutes": year / http["average PT15M"]["p50_ms"],
        "naive_year_vs_http_year": naive["average P365D"]["p50_ms"] / year,
    }


def print_queries(results: dict[str, Any]) -> None:
    measured = {
        name: run["queries"] for name, run in results["backends"].items() if "queries" in run
    }
    if not measured:
        return
    names = list(measured)
    loaded = next(iter(measured.values()))["loaded"]["acknowledged"]
    print(
        f"\nqueries over a year of one-a-minute readings ({loaded:,} measurements), one connection:"
    )
    print(_row("", names))
    kinds = list(next(iter(measured.values()))["http"])
    for kind in kinds:
        cells = [
            f"{q['http'][kind]['p50_ms']:.2f} / {q['http'][kind]['p99_ms']:.2f}"
            for q in measured.values()
        ]
        print(_row(f"  {kind}, p50 / p99 ms", cells))
    print("the same averages by AVG() over the raw rows, in the database, no HTTP:")
    for kind in next(iter(measured.values()))["naive"]:
        print(
            _row(
                f"  {kind}, p50 ms",
                [f"{q['naive'][kind]['p50_ms']:.2f}" for q in measured.values()],
            )
        )
    print(
        _row(
            "loaded through batches, measurements/s",
            [f"{q['loaded']['measurements_per_s']:,.0f}" for q in measured.values()],
        )
    )
    print("targets:")
    for name, queries in measured.items():
        found = query_ratios(queries)
        results["ratios"][f"{name}_year_vs_15_minutes"] = found["year_vs_15_minutes"]
        year = found["year_vs_15_minutes"]
        print(f"  {name}: P365D p50 / PT15M p50   {year:>8.2f}  (target <= 3: {_met(year <= 3)})")
        if name == "postgres":
            faster = found["naive_year_vs_http_year"]
            results["ratios"]["postgres_naive_vs_http_year"] = faster
            target = f"(target >= 20: {_met(faster >= 20)})"
            print(f"  {name}: naive AVG() / HTTP P365D {faster:>8.1f}  {target}")


# (label, result key, the reference key it is a ratio to, target ratio)
WRITES = (
    ("single POST, shared commits", "single_shared", "single_reference"),
    ("single POST, one commit each", "single_direct", "single_reference"),
    ("batches of 5,000 (JSON arrays)", "batch", "batch_reference"),
    ("batches of 5,000 (NDJSON)", "batch_ndjson", "batch_reference"),
    ("batches of 100,000 (JSON arrays)", "batch_100k", "batch_reference"),
)
# Each backend's references, measured in the same run (references.py).
REFERENCES = {
    "memory": {"single_reference": ("bare_asgi_per_s", "a bare ASGI app answering 201")},
    "sqlite": {"batch_reference": ("executemany_rows_per_s", "raw executemany, one transaction")},
    "postgres": {
        "single_reference": ("single_commits_per_s", "one-row commits, 32 connections"),
        "batch_reference": ("copy_rows_per_s", "binary COPY, 4 connections, no FK"),
    },
}
# (backend, result key, minimum ratio to its reference), from issue 14.
TARGETS = (
    ("postgres", "batch", 0.6),
    ("postgres", "batch_ndjson", 0.6),
    ("postgres", "single_shared", 1.0),
    ("sqlite", "batch", 0.6),
    ("sqlite", "batch_ndjson", 0.6),
    ("memory", "single_direct", 0.6),
)
# The CPU per item (us) of each process a reference keeps busy: (who, its key in references).
REFERENCE_CPU = {
    "bare_asgi_per_s": (("wrk", "bare_asgi_wrk_cpu_us"), ("bare app", "bare_asgi_server_cpu_us")),
    "single_commits_per_s": (
        ("client", "single_commits_client_cpu_us"),
        ("PostgreSQL", "single_commits_postgres_cpu_us"),
    ),
    "copy_rows_per_s": (("client", "copy_client_cpu_us"), ("PostgreSQL", "copy_postgres_cpu_us")),
}
MAX_BATCH_CPU_US = 1.5  # roomtemp's CPU per batch item, PostgreSQL
MAX_SINGLE_P99_MS = 25.0  # PostgreSQL, shared commits
MAX_PEAK_RSS_MB = 200.0
MAX_SINGLE_P99_BESIDE_BATCHES_MS = 50.0  # issue 10 item 2


def ratio(run: dict[str, Any], backend: str, key: str) -> float | None:
    """A write figure over its reference in the same run, where both were measured."""
    rate_key = "requests_per_s" if key.startswith("single") else "measurements_per_s"
    reference = dict(WRITES_REFERENCE).get(key)
    named = REFERENCES.get(backend, {}).get(reference or "")
    if key not in run or named is None or named[0] not in run["references"]:
        return None
    found: float = run[key][rate_key] / run["references"][named[0]]
    return found


WRITES_REFERENCE = [(key, reference) for _, key, reference in WRITES]


def _row(name: str, values: list[str]) -> str:
    return f"{name:<38}" + "".join(f"{value:>14}" for value in values)


def _nothing_lost(run: dict[str, Any], in_flight: int = 0) -> str:
    """Stored vs acknowledged: equal for batches; for wrk's single writes, requests cut off by
    its deadline may be stored without having been acknowledged (at most one per connection)."""
    if run["stored"] is None:
        return "n/a"
    lost = run["stored"] < run["acknowledged"]
    extra = run["stored"] - run["acknowledged"]
    return "LOST" if lost or extra > in_flight else f"ok (+{extra})" if extra else "ok"


def _cells(runs: dict[str, dict[str, Any]], key: str, show: Any) -> list[str]:
    return [show(run[key]) if key in run else "-" for run in runs.values()]


def print_writes(results: dict[str, Any]) -> None:
    runs: dict[str, dict[str, Any]] = results["backends"]
    print(_row("", list(runs)))
    for label, key, _ in WRITES:
        if not any(key in run for run in runs.values()):
            continue
        single = key.startswith("single")
        rate = "requests_per_s" if single else "measurements_per_s"
        print(label + (", 32 connections, wrk:" if single else ", 4 senders:"))
        print(_row("  per second", _cells(runs, key, lambda r, rate=rate: f"{r[rate]:,.0f}")))
        print(
            _row(
                "  ratio to the reference",
                [
                    "-" if (found := ratio(run, name, key)) is None else f"{found:.3f}"
                    for name, run in runs.items()
                ],
            )
        )
        print(
            _row(
                "  roomtemp CPU per item, us",
                _cells(runs, key, lambda r: f"{r['server_cpu_us_per_item']:.2f}"),
            )
        )
        if any("postgres_cpu_us_per_item" in run.get(key, {}) for run in runs.values()):
            print(
                _row(
                    "  PostgreSQL CPU per item, us",
                    [
                        _us(run[key].get("postgres_cpu_us_per_item", "-")) if key in run else "-"
                        for run in runs.values()
                    ],
                )
            )
        if single:
            print(
                _row(
                    "  p50 / p99 ms",
                    _cells(runs, key, lambda r: f"{r['p50_ms']:.1f} / {r['p99_ms']:.1f}"),
                )
            )
        print(_row("  errors", _cells(runs, key, lambda r: str(r["errors"]))))
        print(
            _row(
                "  stored = acknowledged",
                _cells(runs, key, lambda r, single=single: _nothing_lost(r, 32 if single else 0)),
            )
        )
        print(
            _row(
                "  load generator CPU (cores)",
                _cells(runs, key, lambda r: f"{r['generator_cpu']:.2f}"),
            )
        )
    if any("single_beside_100k" in run for run in runs.values()):
        print("single POST, 8 connections, while batches of 100,000 stream in from 4 senders:")
        beside = "single_beside_100k"
        print(_row("  requests/s", _cells(runs, beside, lambda r: f"{r['requests_per_s']:,.0f}")))
        print(
            _row(
                "  p50 / p99 ms",
                _cells(runs, beside, lambda r: f"{r['p50_ms']:.1f} / {r['p99_ms']:.1f}"),
            )
        )
        print(
            _row(
                "  batch measurements/s",
                _cells(runs, beside, lambda r: f"{r['batches_per_s']:,.0f}"),
            )
        )
        print(
            _row(
                "  errors (singles / batches)",
                _cells(runs, beside, lambda r: f"{r['errors']} / {r.get('batch_errors', '-')}"),
            )
        )
    print(
        _row(
            "peak RSS per worker, MB",
            _cells(
                runs, "peak_rss_mb_per_worker", lambda peaks: "/".join(f"{mb:.0f}" for mb in peaks)
            ),
        )
    )
    print("the references, without roomtemp, same machine, same run:")
    for name, run in runs.items():
        for reference, description in REFERENCES.get(name, {}).values():
            if reference in run["references"]:
                rate = run["references"][reference]
                print(f"  {name}: {description:<36}{rate:>12,.0f}/s")
                if reference in REFERENCE_CPU:
                    terms, total = _sum(_reference_cpu(run["references"], reference))
                    print(f"    CPU per item, us: {terms} = {total:.1f}")


def _us(value: float | str | None) -> str:
    return "n/a" if value is None else value if isinstance(value, str) else f"{value:.2f}"


def _reference_cpu(references: dict[str, Any], reference: str) -> list[tuple[str, float | None]]:
    return [(who, references.get(key)) for who, key in REFERENCE_CPU[reference]]


def _sum(parts: list[tuple[str, float | None]]) -> tuple[str, float]:
    """('wrk 21.00 + roomtemp 99.00', 120.0): n/a for what could not be read here, and the
    total of the rest."""
    terms = " + ".join(f"{who} {_us(us)}" for who, us in parts)
    return terms, sum(us for _, us in parts if us is not None)


def print_budgets(results: dict[str, Any]) -> None:
    """Per target, the CPU each side spends per item on this machine, all processes included.
    A ratio of rates is the inverse ratio of these totals times the ratio of busy cores
    (CPU per item x rate): on cores that wrk, roomtemp and PostgreSQL share, the first says
    how much of the gap is work, the second how much is waiting (idle cores)."""
    runs: dict[str, dict[str, Any]] = results["backends"]
    lines = []
    for backend, key, _ in TARGETS:
        run = runs.get(backend, {})
        named = REFERENCES[backend][dict(WRITES_REFERENCE)[key]][0]
        if key not in run or named not in run["references"] or named not in REFERENCE_CPU:
            continue
        ours, single = run[key], key.startswith("single")
        rate = ours["requests_per_s" if single else "measurements_per_s"]
        parts = [
            ("wrk" if single else "sender", ours["generator_cpu"] / rate * 1e6),
            ("roomtemp", ours["server_cpu_us_per_item"]),
        ]
        if "postgres_cpu_us_per_item" in ours:
            parts.append(("PostgreSQL", ours["postgres_cpu_us_per_item"]))
        theirs = _reference_cpu(run["references"], named)
        (terms, total), (their_terms, their_total) = _sum(parts), _sum(theirs)
        their_rate = run["references"][named]
        cores, their_cores = total * rate / 1e6, their_total * their_rate / 1e6
        # Where a part could not be read (n/a), the totals are only lower bounds.
        partial = any(us is None for _, us in [*parts, *theirs])
        at_least = "at least " if partial else ""
        lines += [
            f"  {backend} {key}: {at_least}{total:.1f} us x {rate:,.0f}/s = {cores:.2f} cores;"
            f" {terms}",
            f"    reference: {at_least}{their_total:.1f} us x {their_rate:,.0f}/s ="
            f" {their_cores:.2f} cores; {their_terms}",
        ]
        if not partial:
            lines.append(
                f"    ratio {rate / their_rate:.3f} = CPU {their_total:.1f} / {total:.1f}"
                f" ({their_total / total:.3f}) x busy cores {cores:.2f} / {their_cores:.2f}"
                f" ({cores / their_cores:.3f})"
            )
    if lines:
        print("CPU per item (us), all processes on this machine, and the cores they kept busy:")
        print("\n".join(lines))


def print_targets(results: dict[str, Any]) -> None:
    runs: dict[str, dict[str, Any]] = results["backends"]
    found = results["ratios"] = {}
    checks: list[tuple[str, float, str, bool]] = []
    for backend, key, minimum in TARGETS:
        if backend in runs and (value := ratio(runs[backend], backend, key)) is not None:
            found[f"{backend}_{key}"] = value
            checks.append(
                (f"{backend} {key} / reference", value, f">= {minimum}", value >= minimum)
            )
    postgres = runs.get("postgres", {})
    for key in ("batch", "batch_ndjson"):
        if key in postgres:
            cpu = postgres[key]["server_cpu_us_per_item"]
            checks.append(
                (
                    f"postgres {key} CPU us/item",
                    cpu,
                    f"<= {MAX_BATCH_CPU_US}",
                    cpu <= MAX_BATCH_CPU_US,
                )
            )
    if "single_shared" in postgres:
        p99 = postgres["single_shared"]["p99_ms"]
        checks.append(
            ("postgres single p99 ms", p99, f"<= {MAX_SINGLE_P99_MS:.0f}", p99 <= MAX_SINGLE_P99_MS)
        )
    for backend, run in runs.items():
        if "single_beside_100k" in run:
            p99 = run["single_beside_100k"]["p99_ms"]
            target = MAX_SINGLE_P99_BESIDE_BATCHES_MS
            checks.append(
                (f"{backend} single p99 ms beside batches", p99, f"<= {target:.0f}", p99 <= target)
            )
        # memory:// keeps every measurement it stores in its workers: its peak is its data.
        if "peak_rss_mb_per_worker" in run and backend != "memory":
            peak = max(run["peak_rss_mb_per_worker"])
            checks.append(
                (
                    f"{backend} peak RSS per worker MB",
                    peak,
                    f"<= {MAX_PEAK_RSS_MB:.0f}",
                    peak <= MAX_PEAK_RSS_MB,
                )
            )
    if checks:
        print("targets (issue 14):")
    for check, figure, wanted, met in checks:
        print(f"  {check:<36}{figure:>10.3f}  (target {wanted}: {_met(met)})")


def print_report(results: dict[str, Any]) -> None:
    machine = results["machine"]
    print(f"\nroomtemp ingest, {results['when']}: {machine['cpu']}, {machine['cores']} cores")
    if "parsers_us_per_item" in results:  # measured with the batches only
        print("reading and type-checking a batch, us per item:")
        for name, micros in results["parsers_us_per_item"].items():
            print(f"  {name:<36}{micros:>6.2f}")
    print_writes(results)
    print_targets(results)
    print_budgets(results)
    print_queries(results)


def _met(met: bool) -> str:
    return "met" if met else "NOT met"
