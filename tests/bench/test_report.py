"""The bench table's CPU budget: a ratio of rates split into work and idle cores."""

import pytest

from bench.report import print_budgets

# 6,000 writes/s at 150 us each (0.9 cores) against 10,000 commits/s at 100 us (1.0 core).
RUN = {
    "references": {
        "single_commits_per_s": 10_000.0,
        "single_commits_client_cpu_us": 30.0,
        "single_commits_postgres_cpu_us": 70.0,
    },
    "single_shared": {
        "requests_per_s": 6_000.0,
        "generator_cpu": 0.12,  # cores: 20 us a request
        "server_cpu_us_per_item": 90.0,
        "postgres_cpu_us_per_item": 40.0,
    },
}


def test_the_budget_should_add_every_process_and_split_the_ratio_into_cpu_and_busy_cores(
    capsys: pytest.CaptureFixture[str],
) -> None:
    print_budgets({"backends": {"postgres": RUN}})
    lines = capsys.readouterr().out.splitlines()
    assert lines[1:] == [
        "  postgres single_shared: 150.0 us x 6,000/s = 0.90 cores;"
        " wrk 20.00 + roomtemp 90.00 + PostgreSQL 40.00",
        "    reference: 100.0 us x 10,000/s = 1.00 cores; client 30.00 + PostgreSQL 70.00",
        "    ratio 0.600 = CPU 100.0 / 150.0 (0.667) x busy cores 0.90 / 1.00 (0.900)",
    ]


def test_the_budget_should_give_lower_bounds_when_postgresql_is_not_on_this_machine(
    capsys: pytest.CaptureFixture[str],
) -> None:
    unread = {**RUN["references"], "single_commits_postgres_cpu_us": None}
    print_budgets(
        {
            "backends": {
                "postgres": {
                    "references": unread,
                    "single_shared": {**RUN["single_shared"], "postgres_cpu_us_per_item": None},
                }
            }
        }
    )
    lines = capsys.readouterr().out.splitlines()
    assert lines[1:] == [
        "  postgres single_shared: at least 110.0 us x 6,000/s = 0.66 cores;"
        " wrk 20.00 + roomtemp 90.00 + PostgreSQL n/a",
        "    reference: at least 30.0 us x 10,000/s = 0.30 cores; client 30.00 + PostgreSQL n/a",
    ]
