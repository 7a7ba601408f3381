// Temperatures arrive in kelvin, as the server stores them, and are converted here for display,
// so that switching the unit needs no new request. The formulas are the server's
// (roomtemp/domain/units.py).

const UNIT_KEY = "roomtemp.unit";

export const UNITS = {
  C: { label: "°C", digits: 1, fromKelvin: (kelvin) => kelvin - 273.15 },
  F: { label: "°F", digits: 1, fromKelvin: (kelvin) => (kelvin * 9) / 5 - 459.67 },
  // Kelvin readers are usually scientists, used to seeing hundredths: 295.15 K.
  K: { label: "K", digits: 2, fromKelvin: (kelvin) => kelvin },
};

export function savedUnit() {
  const saved = localStorage.getItem(UNIT_KEY);
  return saved in UNITS ? saved : "C";
}

export function saveUnit(unit) {
  localStorage.setItem(UNIT_KEY, unit);
}

const numberFormats = {};

/** A number in `unit`, without the unit: "21.5". */
export function formatNumber(value, unit) {
  const digits = UNITS[unit].digits;
  numberFormats[digits] ??= new Intl.NumberFormat(undefined, {
    minimumFractionDigits: digits,
    maximumFractionDigits: digits,
  });
  return numberFormats[digits].format(value);
}

/** A temperature stored in kelvin, shown in `unit`: "21.5 °C"; a dash for none. */
export function formatKelvin(kelvin, unit) {
  if (kelvin == null) {
    return "—";
  }
  return `${formatNumber(UNITS[unit].fromKelvin(kelvin), unit)} ${UNITS[unit].label}`;
}

const relative = new Intl.RelativeTimeFormat(undefined, { numeric: "auto", style: "short" });
const STEPS = [
  [60, "second"],
  [60, "minute"],
  [24, "hour"],
  [365, "day"],
  [Infinity, "year"],
];

/** How long ago `date` was, roughly: "3 min. ago", "yesterday". */
export function ago(date, now = new Date()) {
  let amount = Math.round((date - now) / 1000);
  let step = 0;
  while (Math.abs(amount) >= STEPS[step][0]) {
    amount = Math.round(amount / STEPS[step][0]);
    step += 1;
  }
  return relative.format(amount, STEPS[step][1]);
}
