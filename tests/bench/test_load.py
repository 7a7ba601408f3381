"""The bench's CPU accounting of a process tree, on real processes that burn known CPU."""

import subprocess
import sys
from pathlib import Path

from bench.load import server_cpu_seconds

# Burns argv[1] CPU seconds, says "ready", waits for a line, burns argv[2], says "burnt", and
# then either exits or waits until its input closes.
CHILD = """
import sys, time

def burn(seconds):
    end = time.process_time() + seconds
    while time.process_time() < end:
        pass

burn(float(sys.argv[1]))
print("ready", flush=True)
sys.stdin.readline()
burn(float(sys.argv[2]))
print("burnt", flush=True)
if sys.argv[3] == "stays":
    sys.stdin.readline()
"""
# Like PostgreSQL's postmaster: one child lives through the measurement, one ends (and is
# reaped) in it, one starts in it; the first two burn 0.4 s each before it starts.
PARENT = """
import subprocess, sys

def start(before, during, end):
    return subprocess.Popen(
        [sys.executable, sys.argv[1], before, during, end],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )

def go(child):
    child.stdin.write("go\\n")
    child.stdin.flush()

lives, ends = start("0.4", "0.5", "stays"), start("0.4", "0.5", "ends")
for child in (lives, ends):
    assert child.stdout.readline() == "ready\\n"
print("ready", flush=True)
sys.stdin.readline()
starts = start("0", "0.5", "stays")
assert starts.stdout.readline() == "ready\\n"
for child in (lives, ends, starts):
    go(child)
    assert child.stdout.readline() == "burnt\\n"
ends.wait()
print("done", flush=True)
sys.stdin.readline()
for child in (lives, starts):
    child.stdin.close()
    child.wait()
"""


def test_cpu_of_a_process_tree_should_count_children_that_live_start_and_end_in_between(
    tmp_path: Path,
) -> None:
    (tmp_path / "child.py").write_text(CHILD)
    (tmp_path / "parent.py").write_text(PARENT)
    command = [sys.executable, str(tmp_path / "parent.py"), str(tmp_path / "child.py")]
    with subprocess.Popen(
        command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    ) as parent:
        assert parent.stdin is not None
        assert parent.stdout is not None
        assert parent.stdout.readline() == "ready\n"
        before = server_cpu_seconds(parent.pid)
        parent.stdin.write("go\n")
        parent.stdin.flush()
        assert parent.stdout.readline() == "done\n"
        used = server_cpu_seconds(parent.pid) - before
        parent.stdin.close()  # the parent, and its children with it, end
    # 3 x 0.5 s burnt in between, plus the third child's start (~0.05 s); without the ended
    # child ~1.0, with its 0.4 s burnt before counted ~1.9. Clock ticks are 10 ms.
    assert 1.4 <= used <= 1.75, used
