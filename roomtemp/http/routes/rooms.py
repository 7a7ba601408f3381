"""Rooms: every room that ever had a measurement, with its latest."""

from fastapi import APIRouter

from roomtemp.domain.units import Unit, from_kelvin
from roomtemp.http.dependencies import StoreDep
from roomtemp.http.parameters import UnitQuery
from roomtemp.http.problems import documented_problems
from roomtemp.http.schemas import RoomSummary

router = APIRouter(tags=["rooms"])


@router.get("/rooms", summary="List the rooms", responses=documented_problems(422, 503))
async def get_rooms(store: StoreDep, unit: UnitQuery = Unit.KELVIN) -> list[RoomSummary]:
    """Sorted by room_id."""
    return [
        RoomSummary(
            room_id=room.room_id,
            count=room.summary.count,
            first_ts=room.summary.first_ts,
            last_ts=room.summary.last_ts,
            last_v=from_kelvin(room.last_kelvin, unit),
            u=unit,
        )
        for room in sorted(await store.rooms(), key=lambda room: room.room_id)
    ]
