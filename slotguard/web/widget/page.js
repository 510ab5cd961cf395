// What every part of the widget shares: the page's state, its messages, and the confirmation screen.
import { customerZone, when as whenIn } from "../times.js";
import { t } from "./i18n.js";

export const $ = (id) => document.getElementById(id);
export const slug = decodeURIComponent(location.pathname.split("/").filter(Boolean)[1] || "");
export const api = "/api/v1/public/" + encodeURIComponent(slug);
export const bookingsApi = "/api/v1/public/bookings/";
export const embedded = window.parent !== window;

export const state = {
  business: null,
  flow: null, // appointments or seats, by what the chosen service sells
  day: null,
  choice: null, // an open time {startTime, endTime, staffIds} or a slot {id, startTime, endTime, remaining, capacity}
  manageToken: null,
  booking: null, // the managed booking
  rescheduling: false,
};

export const zone = () => state.business.timezone;
export const when = (iso) => whenIn(iso, zone());
export const service = (id) => state.business.services.find((s) => s.id === id);
export const staffName = (id) => (state.business.staff.find((m) => m.id === id) || {}).name;

export function showError(message) {
  $("error").textContent = message || "";
  $("error").classList.toggle("hidden", !message);
}
export function showNotice(message) {
  $("notice").textContent = message || "";
  $("notice").classList.toggle("hidden", !message);
}

// A time or slot to pick; `data-start` (and `data-slot-id` for slots) identify it for the keyboard and tests.
export function choiceButton(choice, text, onClick) {
  const button = document.createElement("button");
  button.type = "button";
  button.textContent = text;
  button.dataset.start = choice.startTime;
  if (choice.id) button.dataset.slotId = choice.id;
  button.setAttribute("aria-pressed", "false");
  button.addEventListener("click", onClick);
  return button;
}

// After a refusal: say so plainly, and offer what is still free as one-click buttons.
export function offerAlternatives(message, alternatives, labelOf, onPick) {
  $("conflict").textContent = t(alternatives.length ? "refused.alternatives" : "refused.none", { message: message });
  $("alternatives").replaceChildren(...alternatives.map((alt) => {
    const choice = alt.slotId ? Object.assign({ id: alt.slotId }, alt) : alt;
    const button = choiceButton(choice, labelOf(choice), () => onPick(choice));
    button.setAttribute("aria-label", button.textContent + ", " + when(choice.startTime));
    return button;
  }));
  $("alternatives").classList.remove("hidden");
  $("series-conflicts").classList.add("hidden");
  $("alternatives-box").classList.remove("hidden");
  ($("alternatives").querySelector("button") || $("conflict")).focus();
}
export function hideAlternatives() {
  $("alternatives-box").classList.add("hidden");
}

export function clientFields() {
  const values = {};
  for (const name of ["firstName", "lastName", "email", "phone"]) values[name] = $(name).value.trim();
  if (!values.phone) delete values.phone;
  return values;
}

// The first empty or invalid customer field, focused and named in the error; null when all are fine.
export function missingField() {
  for (const input of $("client").querySelectorAll("input")) {
    if (input.checkValidity()) continue;
    showError(t("fill_in", { field: $("client").querySelector("label[for=" + input.id + "]").textContent.toLowerCase() }));
    input.focus();
    return input;
  }
  return null;
}

export function describe(booking) {
  const values = { service: (service(booking.serviceId) || {}).name || t("manage.title"), when: when(booking.startTime),
    guests: booking.guests, staff: staffName(booking.staffId) };
  if (booking.kind === "slot") return t(booking.guests === 1 ? "summary.guest" : "summary.guests", values);
  return t(values.staff ? "summary.staff" : "summary.plain", values);
}

// The confirmation of a booking; of a repeat series (`series`: all its bookings, `booking` the first), the
// calendar file holds every occurrence, and the manage link opens the first.
export function confirmed(booking, title, series) {
  $("picker").classList.add("hidden");
  $("manage").classList.add("hidden");
  $("paying").classList.add("hidden");
  $("done-series").classList.add("hidden");
  $("done-title").textContent = title;
  const values = { summary: describe(booking), reference: booking.id.slice(0, 8), count: series && series.length };
  $("done-summary").textContent = t(series ? "done.series_summary" : "done.summary", values);
  const name = (service(booking.serviceId) || {}).name || "Booking";
  $("ics").href = URL.createObjectURL(new Blob([ics(series || [booking], name)], { type: "text/calendar" }));
  const token = booking.manageToken || state.manageToken;
  $("manage-link").href = location.pathname + "?manage=" + encodeURIComponent(token);
  $("done").classList.remove("hidden");
  $("done").focus();
}

function ics(bookings, name) {
  const stamp = (iso) => new Date(iso).toISOString().replace(/[-:]/g, "").replace(/\.\d{3}/, "");
  const text = (s) => s.replace(/[\\;,]/g, (c) => "\\" + c);
  const event = (booking) => ["BEGIN:VEVENT",
    "UID:" + booking.id + "@slotguard", "DTSTAMP:" + stamp(new Date().toISOString()),
    "DTSTART:" + stamp(booking.startTime), "DTEND:" + stamp(booking.endTime),
    "SUMMARY:" + text(name + " at " + state.business.name), "END:VEVENT"];
  return ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//slotguard//widget//EN", ...bookings.flatMap(event),
    "END:VCALENDAR", ""].join("\r\n");
}

export function zoneNote() {
  return t(customerZone && customerZone !== zone() ? "zone.yours" : "zone.same", { zone: zone(), yours: customerZone });
}

