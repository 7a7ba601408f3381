"""PostgreSQL's binary COPY format, built for a whole batch at once: one numpy record per row,
and the payload is their bytes between a header and a trailer. (asyncpg's
copy_records_to_table encodes tuple by tuple: 0.75 us a row, measured.)"""

import numpy as np
import numpy.typing as npt

HEADER = b"PGCOPY\n\xff\r\n\x00" + bytes(8)  # signature, flags, no header extension
TRAILER = b"\xff\xff"  # a field count of -1
POSTGRES_EPOCH_MICROS = 946_684_800_000_000  # 2000-01-01, PostgreSQL's zero, after 1970's


def binary_copy(*columns: npt.NDArray[np.generic]) -> memoryview:
    """The COPY ... (FORMAT binary) payload of rows made of `columns` (int32: integer, int64:
    bigint, datetime64[us]: timestamptz, float64: double precision). A view, not bytes, which
    asyncpg would take for a file name."""
    values = [_as_sent(column) for column in columns]
    fields: list[tuple[str, str | np.dtype[np.generic]]] = [("count", ">i2")]
    for number, column in enumerate(values):
        fields += [(f"size{number}", ">i4"), (f"value{number}", column.dtype.newbyteorder(">"))]
    rows = np.empty(len(columns[0]), np.dtype(fields))
    rows["count"] = len(columns)
    for number, column in enumerate(values):
        rows[f"size{number}"] = column.dtype.itemsize
        rows[f"value{number}"] = column
    return memoryview(b"".join((HEADER, rows.data, TRAILER)))


def _as_sent(column: npt.NDArray[np.generic]) -> npt.NDArray[np.generic]:
    """Timestamps as PostgreSQL's microseconds since 2000; anything else as it is."""
    if column.dtype == np.dtype("datetime64[us]"):
        return column.view(np.int64) - POSTGRES_EPOCH_MICROS
    return column
