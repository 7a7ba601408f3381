// The chart of one room: the series endpoint's buckets, drawn with uPlot (vendor/), a line for
// the mean in a band from min to max.

import { formatNumber, UNITS } from "./units.js";

const MINUTE = 60;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

// Buckets chosen for a few hundred points per range: enough for a smooth curve on a wide
// screen, few enough to draw at once. A year is counted in local days, so `tz` goes along.
export const RANGES = {
  "1h": { window: "PT1H", bucket: "PT15S", seconds: 15 },
  // Every bucket here is a whole number of quarter hours (PT15S excepted: an hour is short),
  // so the server answers from its rollups, not from every raw row (issue 10, item 3).
  "24h": { window: "P1D", bucket: "PT15M", seconds: 15 * MINUTE },
  "7d": { window: "P7D", bucket: "PT30M", seconds: 30 * MINUTE },
  "30d": { window: "P30D", bucket: "PT2H", seconds: 2 * HOUR },
  "1y": { window: "P365D", bucket: "P1D", seconds: DAY, localDays: true },
};

/** The query string of the series endpoint for `range`. */
export function seriesQuery(range) {
  const { bucket, localDays } = RANGES[range];
  return localDays
    ? { bucket, tz: Intl.DateTimeFormat().resolvedOptions().timeZone }
    : { bucket };
}

/**
 * uPlot's columns (seconds, mean, max, min), converted to `unit`. Empty buckets are left out by
 * the server; a null where one or more are missing makes uPlot break the line there, so a
 * sensor's silence shows as a gap instead of a straight line across it.
 */
export function columns(points, bucketSeconds, unit) {
  const convert = UNITS[unit].fromKelvin;
  const data = [[], [], [], []];
  let previous = null;
  for (const point of points) {
    const seconds = Date.parse(point.ts) / 1000;
    // 1.5 buckets: a local day is 23 or 25 hours long where daylight saving time changes.
    if (previous !== null && seconds - previous > 1.5 * bucketSeconds) {
      pushRow(data, previous + bucketSeconds, null, null, null);
    }
    pushRow(data, seconds, convert(point.v), convert(point.max), convert(point.min));
    previous = seconds;
  }
  return data;
}

function pushRow(data, ...row) {
  row.forEach((value, index) => data[index].push(value));
}

function themeColor(name) {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim();
}

function options(unit, span, size) {
  const label = UNITS[unit].label;
  const show = (self, value) => (value == null ? "—" : `${formatNumber(value, unit)} ${label}`);
  const line = themeColor("--chart-line");
  const edge = themeColor("--chart-edge");
  const ink = themeColor("--muted");
  const grid = { stroke: themeColor("--grid"), width: 1 };
  return {
    ...size,
    series: [
      {},
      { label: "mean", stroke: line, width: 2, value: show },
      { label: "max", stroke: edge, width: 1, value: show },
      { label: "min", stroke: edge, width: 1, value: show },
    ],
    bands: [{ series: [2, 3], fill: themeColor("--chart-band") }],
    scales: { x: { time: true, range: () => span } },
    axes: [
      { stroke: ink, grid, ticks: grid },
      {
        stroke: ink,
        grid,
        ticks: grid,
        size: 60,
        label,
        labelSize: 20,
        values: (self, splits) => splits.map((value) => formatNumber(value, unit)),
      },
    ],
  };
}

export class Chart {
  constructor(element) {
    this.element = element;
    this.plot = null;
    this.width = 0;
    // Only width changes are followed: the height follows from the width, and reacting to
    // it would set the size again and again.
    new ResizeObserver(() => this.resize()).observe(element);
  }

  /** Draw a series answer (in kelvin) for `range`, shown in `unit`. */
  draw(series, range, unit) {
    // The whole window asked for, even where it has no measurements.
    const span = [Date.parse(series.start) / 1000, Date.parse(series.end) / 1000];
    const data = columns(series.points, RANGES[range].seconds, unit);
    this.plot?.destroy();
    this.plot = new globalThis.uPlot(options(unit, span, this.size()), data, this.element);
    this.element.dataset.points = String(series.points.length);
  }

  clear() {
    this.plot?.destroy();
    this.plot = null;
    this.element.dataset.points = "0";
  }

  size() {
    this.width = this.element.clientWidth;
    return { width: this.width, height: Math.round(Math.min(360, Math.max(200, this.width / 2.5))) };
  }

  resize() {
    if (this.plot && this.element.clientWidth !== this.width) {
      this.plot.setSize(this.size());
    }
  }
}
