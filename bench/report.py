"""The benchmark's table: each backend side by side, and ratios against the same-run limits."""

from typing import Any

TARGETS = {
    "batch_vs_copy": 0.5,
    "single_vs_commits": 0.5,
    "single_p99_ms": 50.0,
    "peak_rss_mb": 200.0,
}


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


def ratios(results: dict[str, Any]) -> dict[str, float]:
    postgres = results["backends"].get("postgres")
    if not postgres:
        return {}
    references = postgres["references"]
    return {
        "batch_vs_copy": postgres["batch"]["measurements_per_s"] / references["copy_rows_per_s"],
        "single_vs_commits": postgres["single_shared"]["requests_per_s"]
        / references["single_commits_per_s"],
    }


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


def print_report(results: dict[str, Any]) -> None:
    backends = results["backends"]
    names = list(backends)
    machine = results["machine"]
    print(f"\nroomtemp ingest, {results['when']}: {machine['cpu']}, {machine['cores']} cores")
    print("reading and type-checking a batch, us per item:")
    for name, micros in results["parsers_us_per_item"].items():
        print(f"  {name:<36}{micros:>6.2f}")
    print(_row("", names))
    runs = [backends[name] for name in names]
    for label, key in (
        ("single POST, shared commits", "single_shared"),
        ("single POST, one commit each", "single_direct"),
    ):
        print(label + ", 32 connections, wrk:")
        print(_row("  requests/s", [f"{run[key]['requests_per_s']:,.0f}" for run in runs]))
        print(
            _row(
                "  p50 / p99 ms",
                [f"{run[key]['p50_ms']:.1f} / {run[key]['p99_ms']:.1f}" for run in runs],
            )
        )
        print(_row("  errors", [str(run[key]["errors"]) for run in runs]))
        print(_row("  stored = acknowledged", [_nothing_lost(run[key], 32) for run in runs]))
        print(_row("  wrk CPU (cores)", [f"{run[key]['generator_cpu']:.2f}" for run in runs]))
    print("batches of 5,000, 4 senders:")
    print(_row("  measurements/s", [f"{run['batch']['measurements_per_s']:,.0f}" for run in runs]))
    print(_row("  errors", [str(run["batch"]["errors"]) for run in runs]))
    print(_row("  stored = acknowledged", [_nothing_lost(run["batch"]) for run in runs]))
    print(_row("  sender CPU (cores)", [f"{run['batch']['generator_cpu']:.2f}" for run in runs]))
    print("batches of 100,000, 4 senders:")
    print(
        _row(
            "  measurements/s", [f"{run['batch_100k']['measurements_per_s']:,.0f}" for run in runs]
        )
    )
    print(_row("  stored = acknowledged", [_nothing_lost(run["batch_100k"]) for run in runs]))
    print(
        _row(
            "peak RSS per worker, MB",
            ["/".join(f"{mb:.0f}" for mb in run["peak_rss_mb_per_worker"]) for run in runs],
        )
    )
    references = backends.get("postgres", {}).get("references")
    if references:
        print("PostgreSQL itself, no HTTP, same machine, same run:")
        print(
            f"  binary COPY, 4 connections:          {references['copy_rows_per_s']:>12,.0f} rows/s"
        )
        print(
            f"  one-row INSERT commits, 32 conns:    "
            f"{references['single_commits_per_s']:>12,.0f} commits/s"
        )
    found = ratios(results)
    results["ratios"] = found
    if found:
        postgres = backends["postgres"]
        print("targets (PostgreSQL):")
        checks = [
            (
                "batch / raw COPY",
                found["batch_vs_copy"],
                f">= {TARGETS['batch_vs_copy']}",
                found["batch_vs_copy"] >= TARGETS["batch_vs_copy"],
            ),
            (
                "single / raw commits",
                found["single_vs_commits"],
                f">= {TARGETS['single_vs_commits']}",
                found["single_vs_commits"] >= TARGETS["single_vs_commits"],
            ),
            (
                "single p99 ms",
                postgres["single_shared"]["p99_ms"],
                f"<= {TARGETS['single_p99_ms']:.0f}",
                postgres["single_shared"]["p99_ms"] <= TARGETS["single_p99_ms"],
            ),
            (
                "peak RSS per worker MB",
                max(postgres["peak_rss_mb_per_worker"]),
                f"<= {TARGETS['peak_rss_mb']:.0f}",
                max(postgres["peak_rss_mb_per_worker"]) <= TARGETS["peak_rss_mb"],
            ),
        ]
        for name, value, target, met in checks:
            print(f"  {name:<28}{value:>10.3f}  (target {target}: {'met' if met else 'NOT met'})")
    print_queries(results)


def _met(met: bool) -> str:
    return "met" if met else "NOT met"
