"""The memory of a running server's workers, sampled from /proc, and whether it is flat."""

import asyncio
import contextlib
import statistics
from dataclasses import dataclass
from pathlib import Path

MIB = 1024 * 1024
# Flat: the median of the last third of the run is no more than that of the middle third,
# within this much. The first third is warm-up and is not judged. Warm-up lasts a number of
# requests rather than seconds (connection pools, prepared statements, the allocator's high
# water under 64 concurrent requests): at ~270 requests/s, on a machine shared with other
# work, 60 s ended with +5 MiB between the thirds (two workers, ~150 MiB), and 150 s still
# rose by 8 MiB/min; at ~490/s, 300 s (148,000 requests) was flat to 0.1 MiB over its last
# 200 s. With the thirds 20 s apart, 8 MiB is a leak of about 1 KiB per request at a few
# hundred requests a second: what a 60 s soak can tell; a longer one tells finer.
TOLERANCE_BYTES = 8 * MIB
TOLERANCE_RATIO = 0.05


def workers_of(pid: int) -> list[int]:
    """The worker processes of a `roomtemp serve` supervisor (itself, with one worker)."""
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    return [int(child) for child in children] or [pid]


def rss_of(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise LookupError(f"no VmRSS for process {pid}")


async def sample(pids: list[int], every: float, stop: asyncio.Event) -> list[int]:
    """The workers' resident memory, summed, every `every` seconds until `stop`."""
    samples = []
    while not stop.is_set():
        samples.append(sum(rss_of(pid) for pid in pids))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), every)
    return samples


@dataclass(frozen=True)
class Trend:
    middle: float  # median of the middle third, bytes
    last: float  # median of the last third
    slope: float  # least-squares slope over the last two thirds, bytes per sample

    @property
    def growth(self) -> float:
        return self.last - self.middle

    @property
    def flat(self) -> bool:
        return self.growth <= max(TOLERANCE_BYTES, TOLERANCE_RATIO * self.middle)

    def describe(self, seconds_per_sample: float) -> str:
        per_minute = self.slope / seconds_per_sample * 60 / MIB
        return (
            f"worker RSS median {self.middle / MIB:.1f} MiB (middle third) -> {self.last / MIB:.1f}"
            f" MiB (last third), {self.growth / MIB:+.1f} MiB; slope {per_minute:+.2f} MiB/min"
        )


def trend_of(samples: list[int]) -> Trend:
    third = len(samples) // 3
    assert third >= 2, f"too few samples to see a trend: {len(samples)}"
    middle, last = samples[third : 2 * third], samples[2 * third :]
    judged = samples[third:]
    slope = statistics.linear_regression(range(len(judged)), judged).slope
    return Trend(statistics.median(middle), statistics.median(last), slope)
