"""What the deployment-wide rate limit costs on the write path: single-measurement POSTs by wrk
to one instance directly, through nginx with the shipped configuration without limit_req, and
with it (at a rate it never reaches, so that every request is counted and none refused).
On memory://, where roomtemp costs least, so that the proxy's share shows most.
`python -m bench.proxy_cost`; about half a minute; needs wrk and nginx.
"""

import os
import statistics
import sys
import tempfile
from contextlib import ExitStack
from pathlib import Path

from bench.load import run_wrk
from tests.blackbox.nginx import running_nginx, shipped_configuration
from tests.blackbox.server import running_server
from tests.network import free_port

SECONDS = 5
ROUNDS = 3  # alternated, the median kept: the machine's other load drifts within a run
CONNECTIONS = 16
LIMIT = "limit_req zone=roomtemp_tokens burst=100 nodelay;"


def nginx_cpu_seconds(folder: Path) -> float:
    """CPU time used so far by the nginx whose prefix is `folder`: its master and workers."""
    master = int((folder / "nginx.pid").read_text())
    total = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:  # gone meanwhile
            continue
        pid, parent = int(stat.parent.name), int(fields[1])
        if master in (pid, parent):
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def main() -> None:
    rates: dict[str, list[float]] = {"direct": [], "nginx": [], "nginx + limit_req": []}
    cpu: dict[str, list[float]] = {"nginx": [], "nginx + limit_req": []}  # us per request
    folders: dict[str, Path] = {}
    with ExitStack() as stack:
        server = stack.enter_context(
            running_server("memory://", "--no-access-log", "--log-level", "warning")
        )
        urls = {"direct": server.url}
        for label, replacements in (
            ("nginx", {LIMIT: ""}),
            ("nginx + limit_req", {"rate=100r/s": "rate=1000000r/s"}),
        ):
            port = free_port()
            configuration = shipped_configuration([server], port, replacements)
            folder = Path(stack.enter_context(tempfile.TemporaryDirectory()))
            urls[label] = stack.enter_context(running_nginx(configuration, port, folder))
            folders[label] = folder
        for round_ in range(ROUNDS):
            for index, (label, url) in enumerate(urls.items()):
                # The label names wrk's rooms: a round and a run apart never write the same.
                before = nginx_cpu_seconds(folders[label]) if label in folders else 0.0
                result = run_wrk(
                    url, f"r{round_}u{index}", connections=CONNECTIONS, seconds=SECONDS
                )
                assert result["errors"] == 0, result
                rates[label].append(result["requests_per_s"])
                if label in folders:
                    used = nginx_cpu_seconds(folders[label]) - before
                    cpu[label].append(used / result["acknowledged"] * 1e6)
    reference = statistics.median(rates["nginx"])
    for label, measured in rates.items():
        median = statistics.median(measured)
        sys.stdout.write(
            f"{label:<18} {median:8,.0f} requests/s (x{median / reference:.2f} of nginx alone;"
            f" rounds {', '.join(f'{rate:,.0f}' for rate in measured)})\n"
        )
    for label, measured in cpu.items():
        sys.stdout.write(f"{label:<18} nginx CPU {statistics.median(measured):.1f} us a request\n")


if __name__ == "__main__":
    main()
