"""python -m bench: where it writes its results, never over a file already there."""

from pathlib import Path

from bench.__main__ import results_path


def test_a_run_should_be_written_to_the_day_and_host_file_when_it_is_free(
    tmp_path: Path,
) -> None:
    assert results_path(tmp_path, "2026-11-30T20:05:07+00:00", "vm") == tmp_path / (
        "2026-11-30-vm.json"
    )


def test_a_second_run_on_the_same_day_should_not_overwrite_the_first(tmp_path: Path) -> None:
    (tmp_path / "2026-11-30-vm.json").write_text("{}\n")
    found = results_path(tmp_path, "2026-11-30T20:05:07+00:00", "vm")
    assert found == tmp_path / "2026-11-30-vm-200507.json"
