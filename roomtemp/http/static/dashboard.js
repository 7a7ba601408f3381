// The dashboard: what is shown, and when it is asked for again. Values are kept in kelvin as
// they came, so a change of unit redraws without asking the server.

import { ApiError, getJson, getPage, roomPath, saveToken, Unauthorized } from "./api.js";
import { Chart, RANGES, seriesQuery } from "./chart.js";
import { renderRooms } from "./rooms.js";
import { saveUnit, savedUnit } from "./units.js";

const REFRESH_MS = 30_000;
const RANGE_KEY = "roomtemp.range";
// Rooms a page of the table shows: the table is one request, whatever the number of rooms.
const PAGE_SIZE = 50;

const state = {
  unit: savedUnit(),
  range: localStorage.getItem(RANGE_KEY) in RANGES ? localStorage.getItem(RANGE_KEY) : "24h",
  selected: new URLSearchParams(location.hash.slice(1)).get("room"),
  rooms: [],
  cursors: [null], // of each page up to the one shown (the first has none)
  nextCursor: null,
  series: null,
  busy: false,
};

const $ = (id) => document.getElementById(id);
const chart = new Chart($("chart"));

/**
 * The latest of everything: the page of rooms shown, each with its last 24 hours (one
 * request), and the selected room's chart (another).
 */
async function refresh() {
  if (state.busy) {
    return;
  }
  state.busy = true;
  try {
    const query = { limit: PAGE_SIZE, window: "P1D" };
    const cursor = state.cursors.at(-1);
    const page = await getPage("rooms", cursor === null ? query : { ...query, cursor });
    state.rooms = page.items;
    state.nextCursor = page.cursor;
    state.series = await selectedSeries();
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
 * The selected room's series: a room named by the page's address may be on another page of
 * the table; one that is not there at all gives way to the first room shown.
 */
async function selectedSeries() {
  if (state.selected !== null) {
    try {
      return await seriesOf(state.selected, state.range);
    } catch (error) {
      if (!(error instanceof ApiError && error.code === "room_not_found")) {
        throw error;
      }
    }
  }
  state.selected = state.rooms[0]?.room_id ?? null;
  return state.selected ? await seriesOf(state.selected, state.range) : null;
}

async function turnPage(forward) {
  if (forward) {
    state.cursors.push(state.nextCursor);
  } else {
    state.cursors.pop();
  }
  await refresh();
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
  const first = (state.cursors.length - 1) * PAGE_SIZE;
  $("pager").hidden = state.cursors.length === 1 && state.nextCursor === null;
  $("page-range").textContent = `Rooms ${first + 1}–${first + state.rooms.length}`;
  $("previous-page").disabled = state.cursors.length === 1;
  $("next-page").disabled = state.nextCursor === null;
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
  $("previous-page").addEventListener("click", () => turnPage(false));
  $("next-page").addEventListener("click", () => turnPage(true));
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
