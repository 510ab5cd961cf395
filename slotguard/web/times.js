// Wall-clock helpers shared by the widget and the owner calendar. A time is always shown in a named zone:
// the business's, and the customer's own beside it when that differs.
export const customerZone = Intl.DateTimeFormat().resolvedOptions().timeZone;

// The language times are written in, and the sentence that joins a time to its zone: English unless a
// page (the widget, in its customer's language) says otherwise.
let locale = "en-GB";
let sentences = { here: "{when} ({zone})", yours: "{when} ({zone}), {clock} your time ({yours})" };
export function writeTimesIn(newLocale, newSentences) {
  locale = newLocale;
  sentences = newSentences;
}
export const currentLocale = () => locale;
const fill = (sentence, values) => sentence.replace(/\{(\w+)\}/g, (_, name) => values[name]);

export function clock(iso, zone) {
  return new Intl.DateTimeFormat(locale, { timeZone: zone, hour: "2-digit", minute: "2-digit" }).format(new Date(iso));
}

export function dateAndClock(iso, zone) {
  const options = { timeZone: zone, hour: "2-digit", minute: "2-digit", weekday: "long", day: "numeric", month: "long", year: "numeric" };
  return new Intl.DateTimeFormat(locale, options).format(new Date(iso));
}

// "Monday 4 May 2026 at 10:00 (Europe/London), 11:00 your time (Europe/Berlin)"
export function when(iso, zone) {
  const values = { when: dateAndClock(iso, zone), zone: zone, clock: clock(iso, customerZone), yours: customerZone };
  return fill(customerZone && customerZone !== zone ? sentences.yours : sentences.here, values);
}

// The calendar day (YYYY-MM-DD) of an instant in `zone`.
export function localDate(instant, zone) {
  const options = { timeZone: zone, year: "numeric", month: "2-digit", day: "2-digit" };
  return new Intl.DateTimeFormat("en-CA", options).format(new Date(instant));
}

export function addDays(day, n) {
  const d = new Date(day + "T12:00:00Z");
  d.setUTCDate(d.getUTCDate() + n);
  return d.toISOString().slice(0, 10);
}

// A UTC window surely covering the local days first..last in any zone (offsets stay within a day):
// callers keep what falls on those days by localDate(), so no zone arithmetic is needed here.
export function windowAround(first, last) {
  return { from: addDays(first, -1) + "T00:00:00Z", to: addDays(last, 2) + "T00:00:00Z" };
}

export function money(cents, currency) {
  return new Intl.NumberFormat(locale, { style: "currency", currency: currency }).format(cents / 100);
}
