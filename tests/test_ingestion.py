import pytest

from roomtemp.ingestion import shares_commits
from roomtemp.settings import Settings


@pytest.mark.parametrize(
    ("url", "shared"),
    [("memory://", False), ("sqlite:///x.sqlite3", True), ("postgresql://h/db", True)],
)
def shared_commits_should_default_to_where_a_commit_costs_a_flush(url: str, shared: bool) -> None:
    assert shares_commits(Settings(database_url=url)) is shared


def shared_commits_should_follow_the_setting_when_given() -> None:
    assert shares_commits(Settings(database_url="memory://", shared_commits=True))
    assert not shares_commits(Settings(database_url="sqlite:///x", shared_commits=False))
