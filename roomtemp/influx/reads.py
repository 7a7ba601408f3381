"""InfluxQL statements answered: SHOW by shows.py (the schema InfluxDB clients see), SELECT
by selects.py (through queries, the native read path) and tables.py (InfluxDB's series)."""

from roomtemp.domain.series import InvalidBuckets
from roomtemp.influx.answers import StatementAnswer
from roomtemp.influx.context import Context
from roomtemp.influx.influxql import CreateDatabase, InvalidQuery, Show, Statement
from roomtemp.influx.selects import select
from roomtemp.influx.shows import show

__all__ = ["Context", "answer"]


async def answer(statement: Statement, context: Context) -> StatementAnswer:
    """The answer to one statement; an InvalidQuery found while answering is its error."""
    try:
        if isinstance(statement, CreateDatabase):
            return StatementAnswer()  # roomtemp has one database: nothing to create
        if isinstance(statement, Show):
            return await show(statement, context)
        return await select(statement, context)
    except (InvalidQuery, InvalidBuckets) as error:
        return StatementAnswer(error=str(error))
