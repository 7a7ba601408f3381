// The dashboard: what is shown, and when it is asked for again. Values are kept in kelvin as
// they came, so a change of unit redraws without asking the server.

import { ApiError, getJson, roomPath, saveToken, Unauthorized } from "./api.js";
import { Chart, RANGES, seriesQuery } from "./chart.js";
import { renderRooms } from "./rooms.js";
import { saveUnit, savedUnit } from "./units.js";

const REFRESH_MS = 30_000;
const RANGE_KEY = "roomtemp.range";

const state = {
  unit: savedUnit(),
  range: localStorage.getItem(RANGE_KEY) in RANGES ? localStorage.getItem(RANGE_KEY) : "24h",
  selected: new URLSearchParams(location.hash.slice(1)).get("room"),
  rooms: [],
  series: null,
  busy: false,
};

const $ = (id) => document.getElementById(id);
const chart = new Chart($("chart"));

/** The latest of everything: rooms, their last 24 hours, the selected room's chart. */
async function refresh() {
  if (state.busy) {
    return;
  }
  state.busy = true;
  try {
    const rooms = await getJson("rooms");
    state.rooms = await Promise.all(
      rooms.map(async (room) => ({ ...room, day: await lastDay(room.room_id) })),
    );
    if (!state.rooms.some((room) => room.room_id === state.selected)) {
      state.selected = state.rooms[0]?.room_id ?? null;
    }
    state.series = state.selected ? await seriesOf(state.selected, state.range) : null;
    $("token-form").hidden = true;
    render();
    setStatus(`Updated ${new Date().toLocaleTimeString()}; refreshed every ${REFRESH_MS / 1000} s.`);
  } catch (error) {
    handle(error);
  } finally {
    state.busy = false;
  }
}

/**
 * The room's 24 h average answer (mean, min, max), or null when it measured nothing then, or
 * when the server cannot answer for this room alone: one room is not worth the whole table.
 */
async function lastDay(roomId) {
  try {
    return await getJson(roomPath(roomId, "average", "P1D"));
  } catch (error) {
    if (error instanceof ApiError && error.status !== 503) {
      return null;
    }
    throw error;
  }
}

function seriesOf(roomId, range) {
  return getJson(roomPath(roomId, "series", RANGES[range].window), seriesQuery(range));
}

function render() {
  const hasRooms = state.rooms.length > 0;
  $("empty").hidden = hasRooms;
  $("rooms").hidden = !hasRooms;
  $("chart-section").hidden = !hasRooms;
  renderRooms($("room-rows"), state.rooms, state.unit, state.selected, selectRoom);
  for (const button of document.querySelectorAll("[data-unit]")) {
    button.setAttribute("aria-pressed", String(button.dataset.unit === state.unit));
  }
  for (const button of document.querySelectorAll("[data-range]")) {
    button.setAttribute("aria-pressed", String(button.dataset.range === state.range));
  }
  $("chart-title").textContent = state.selected ?? "";
  const points = state.series?.points.length ?? 0;
  $("chart-empty").hidden = !hasRooms || points > 0;
  if (points > 0) {
    chart.draw(state.series, state.range, state.unit);
  } else {
    chart.clear();
  }
}

async function selectRoom(roomId) {
  state.selected = roomId;
  history.replaceState(null, "", `#${new URLSearchParams({ room: roomId })}`);
  await redrawChart();
}

async function selectRange(range) {
  state.range = range;
  localStorage.setItem(RANGE_KEY, range);
  await redrawChart();
}

async function redrawChart() {
  if (state.selected === null) {
    return;
  }
  try {
    state.series = await seriesOf(state.selected, state.range);
    render();
  } catch (error) {
    handle(error);
  }
}

function handle(error) {
  if (error instanceof Unauthorized) {
    $("token-problem").textContent = `Access denied: ${error.message}.`;
    $("token-form").hidden = false;
    $("token").focus();
    setStatus("Waiting for a token.");
  } else if (error instanceof ApiError) {
    setStatus(`The server answered ${error.status}: ${error.message}`);
  } else {
    setStatus(`The server is not answering (${error.message}); trying again shortly.`);
  }
}

function setStatus(text) {
  $("status").textContent = text;
}

function wire() {
  for (const button of document.querySelectorAll("[data-unit]")) {
    button.addEventListener("click", () => {
      state.unit = button.dataset.unit;
      saveUnit(state.unit);
      render();
    });
  }
  for (const button of document.querySelectorAll("[data-range]")) {
    button.addEventListener("click", () => selectRange(button.dataset.range));
  }
  $("token-form").addEventListener("submit", (event) => {
    event.preventDefault();
    saveToken($("token").value.trim());
    $("token").value = "";
    refresh();
  });
  $("curl-example").textContent =
    `curl -X POST ${new URL(roomPath("Living room"), document.baseURI)} \\\n` +
    `     -H 'Content-Type: application/json' -d '{"v": 21.5, "u": "C"}'`;
  // A hidden tab asks nothing, and catches up as soon as it is shown again; nor does a page
  // waiting for a token, which would only be refused again.
  const due = () => !document.hidden && $("token-form").hidden;
  setInterval(() => due() && refresh(), REFRESH_MS);
  document.addEventListener("visibilitychange", () => due() && refresh());
}

wire();
refresh();
