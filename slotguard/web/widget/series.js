// Repeat appointments, where the business takes them online (its `repeatBookings` setting): the picker's
// "repeat" control, the confirmation of a whole series, and a refusal that names every occurrence that
// cannot be booked. The server books all occurrences or none, so a refusal means nothing was booked.
import { clock, dateAndClock, localDate } from "../times.js";
import { t } from "./i18n.js";
import { $, showError, state, zone } from "./page.js";

export const offersRepeat = () => !!state.business.repeatBookings && !state.rescheduling;

// The control is used at all only when a frequency is chosen: the count is asked for then.
export function repeatChanged() {
  $("repeat-count").disabled = !$("repeat-every").value;
}

// {every, count} to send with the booking; null for a single appointment; false when the count is wrong.
export function chosenRepeat() {
  if (!offersRepeat() || $("repeat-box").classList.contains("hidden") || !$("repeat-every").value) return null;
  const count = $("repeat-count");
  if (!count.checkValidity()) {
    showError(t("repeat.count_invalid"));
    count.focus();
    return false;
  }
  return { every: $("repeat-every").value, count: Number(count.value) };
}

export function submitLabel() {
  const repeat = offersRepeat() && $("repeat-every").value && $("repeat-count").checkValidity();
  return repeat ? t("book.series", { count: Number($("repeat-count").value) }) : t("book");
}

// The whole series, one line per occurrence, after the first one's usual confirmation.
export function listSeries(bookings) {
  $("done-series").replaceChildren(...bookings.map((b) => item(dateAndClock(b.startTime, zone()))));
  $("done-series").classList.remove("hidden");
}

// A 409 (taken) or 422 (outside the hours or the horizon) with `conflicts`: say that nothing was booked,
// then name each occurrence that stands in the way, with the nearest free times the server found for it.
export function showSeriesRefusal(status, conflicts, count) {
  const one = conflicts.length === 1;
  $("conflict").textContent = t(one ? "refused.series_one" : "refused.series", { n: conflicts.length, count: count });
  $("series-conflicts").replaceChildren(...conflicts.map((c) => item(occurrenceSentence(status, c))));
  $("series-conflicts").classList.remove("hidden");
  $("alternatives").replaceChildren();
  $("alternatives").classList.add("hidden");
  $("alternatives-box").classList.remove("hidden");
  $("conflict").focus();
}

function occurrenceSentence(status, conflict) {
  const start = conflict.startTime;
  const said = t(status === 409 ? "refused.series_taken" : "refused.series_outside", { when: dateAndClock(start, zone()) });
  const nearest = (conflict.alternatives || []).slice().sort((a, b) => new Date(a.startTime) - new Date(b.startTime));
  const alternatives = nearest.map((alt) =>
    localDate(alt.startTime, zone()) === localDate(start, zone()) ? clock(alt.startTime, zone()) : dateAndClock(alt.startTime, zone()));
  return alternatives.length ? said + " " + t("refused.series_nearest", { times: alternatives.join(", ") }) : said;
}

// The manage page: every occurrence of the booking's series with its status, this booking marked.
export function showManagedSeries(booking, inTime) {
  const series = booking.series || [];
  $("manage-series").classList.toggle("hidden", !series.length);
  $("series-list").replaceChildren(...series.map((o) => {
    const values = { when: dateAndClock(o.startTime, zone()), status: t("status." + o.status) };
    const li = item(t(o.id === booking.id ? "manage.series_this" : "manage.series_item", values));
    li.dataset.bookingId = o.id;
    li.dataset.status = o.status;
    if (o.id === booking.id) { li.className = "this"; li.setAttribute("aria-current", "true"); }
    return li;
  }));
  const coming = series.some((o) => ["confirmed", "held", "pending_payment"].includes(o.status) && new Date(o.startTime) > new Date());
  $("cancel-series").disabled = !coming || !inTime;
}

function item(text) {
  const li = document.createElement("li");
  li.textContent = text;
  return li;
}
