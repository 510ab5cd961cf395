// Wall-clock arithmetic in the business's zone. Formatters are built once per zone: building one costs far
// more than using it, and the week view formats every booking it draws.
import { addDays } from "../times.js";

const formatters = new Map();
function parts(instant, zone) {
  let format = formatters.get(zone);
  if (!format) {
    const options = { timeZone: zone, hourCycle: "h23", year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit" };
    format = new Intl.DateTimeFormat("en-CA", options);
    formatters.set(zone, format);
  }
  const out = {};
  for (const p of format.formatToParts(new Date(instant))) out[p.type] = p.value;
  return out;
}

// { day: "YYYY-MM-DD", minutes: minutes since local midnight } of an instant in `zone`.
export function local(instant, zone) {
  const p = parts(instant, zone);
  return { day: p.year + "-" + p.month + "-" + p.day, minutes: Number(p.hour) * 60 + Number(p.minute) };
}

// The UTC instant (ISO, Z) at which the wall clock in `zone` shows `minutes` past midnight of `day`.
export function instantOf(day, minutes, zone) {
  const wanted = Date.parse(day + "T00:00:00Z") + minutes * 60000;
  let guess = wanted;
  for (let i = 0; i < 3; i++) {
    const seen = local(guess, zone);
    const shown = Date.parse(seen.day + "T00:00:00Z") + seen.minutes * 60000;
    guess += wanted - shown;
  }
  return new Date(guess).toISOString().replace(".000Z", "Z");
}

export const hhmm = (minutes) => String(Math.floor(minutes / 60)).padStart(2, "0") + ":" + String(minutes % 60).padStart(2, "0");
export const minutesOf = (text) => { const [h, m] = text.split(":").map(Number); return h * 60 + m; };
export const weekdayOf = (day) => ["sun", "mon", "tue", "wed", "thu", "fri", "sat"][new Date(day + "T12:00:00Z").getUTCDay()];
export const mondayOf = (day) => addDays(day, -((new Date(day + "T12:00:00Z").getUTCDay() + 6) % 7));
export const dayLabel = (day) => new Date(day + "T12:00:00Z").toLocaleDateString("en-GB", { weekday: "short", day: "numeric", month: "short", timeZone: "UTC" });
export { addDays };
