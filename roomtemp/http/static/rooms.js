// The rooms table: one row per room, with its latest value and its last 24 hours.
// Room ids are whatever sensors sent: they only ever go into textContent, never into HTML.

import { ago, formatKelvin } from "./units.js";

// A sensor that has said nothing for an hour is probably unplugged or out of battery.
const STALE_AFTER_MS = 60 * 60 * 1000;

/**
 * Fill `tbody` with `rooms` (GET /rooms?window=P1D, each with `window`: its last 24 hours, or
 * null when it measured nothing then), values shown in `unit`.
 */
export function renderRooms(tbody, rooms, unit, selected, onSelect) {
  const now = new Date();
  tbody.replaceChildren(
    ...rooms.map((room) => roomRow(room, unit, now, room.room_id === selected, onSelect)),
  );
}

function roomRow(room, unit, now, isSelected, onSelect) {
  const name = document.createElement("button");
  name.type = "button";
  name.className = "room-name";
  name.textContent = room.room_id;
  if (isSelected) {
    name.setAttribute("aria-current", "true");
  }
  name.addEventListener("click", () => onSelect(room.room_id));

  const lastSeen = new Date(room.last_ts);
  const seen = cell(ago(lastSeen, now), "seen");
  seen.title = lastSeen.toLocaleString();
  if (now - lastSeen > STALE_AFTER_MS) {
    seen.classList.add("stale");
  }

  const row = document.createElement("tr");
  row.classList.toggle("selected", isSelected);
  row.append(
    cell(name, "name"),
    cell(formatKelvin(room.last_v, unit), "number current"),
    seen,
    cell(formatKelvin(room.window?.min, unit), "number day-min"),
    cell(formatKelvin(room.window?.max, unit), "number day-max"),
  );
  return row;
}

function cell(content, className = "") {
  const td = document.createElement("td");
  td.className = className;
  td.append(content);
  return td;
}
