// The customer's own booking, reached through the manage link (?manage=TOKEN): see it, cancel it, move it;
// an occurrence of a repeat series also lists the whole series, and can cancel all of it still to come.
// A move is atomic on the server: refused, the booking stays exactly as it was, and the page says so.
import { call, humanError, post } from "./api.js";
import { $, bookingsApi, confirmed, describe, showError, showNotice, state, when } from "./page.js";
import { t } from "./i18n.js";
import { refusal as timeRefusal } from "./appointments.js";
import { refusal as seatRefusal } from "./seats.js";
import { showManagedSeries } from "./series.js";


const path = (action) => bookingsApi + encodeURIComponent(state.manageToken) + (action ? "/" + action : "");

export async function loadManaged() {
  const reply = await call(path());
  if (reply.status !== 200) return showError(humanError(reply));
  show(reply.body.data);
  return state.booking;
}

function show(booking) {
  state.booking = booking;
  $("manage-status").textContent = t("status." + booking.status);
  $("manage-status").className = "badge status-" + booking.status;
  $("manage-summary").textContent = describe(booking) + ".";
  // The business's change notice, said before the customer tries (the server refuses it all the same).
  const inTime = !booking.changeableUntil || new Date(booking.changeableUntil) > new Date();
  const changeable = booking.status === "confirmed" && inTime;
  $("cancel-booking").disabled = !changeable;
  $("start-reschedule").disabled = !changeable;
  let policy = "";
  if (booking.status === "confirmed" && booking.changeableUntil) {
    policy = inTime ? t("manage.until", { when: when(booking.changeableUntil) }) : t("manage.too_late", { business: state.business.name });
  }
  $("manage-policy").textContent = policy;
  if (booking.series || !booking.seriesId) showManagedSeries(booking, inTime);
  else refreshSeries(inTime);
  $("manage").classList.remove("hidden");
}

// The replies of cancel and reschedule do not list the series: read it again to show it as it is now.
async function refreshSeries(inTime) {
  const reply = await call(path());
  if (reply.status === 200) showManagedSeries(reply.body.data, inTime);
}

export async function cancelManaged() {
  showError("");
  const reply = await post(path("cancel"), {});
  if (reply.status !== 200) return showError(humanError(reply));
  show(reply.body.data);
  $("picker").classList.add("hidden");
  $("manage").focus();
}

// Every occurrence of the series not yet begun, in one transaction on the server (`scope: "series"`).
export async function cancelSeries() {
  showError(""); showNotice("");
  const reply = await post(path("cancel"), { scope: "series" });
  if (reply.status !== 200) return showError(humanError(reply));
  const n = reply.body.data.length;
  await loadManaged();
  showNotice(t(n === 1 ? "manage.series_cancelled_one" : "manage.series_cancelled", { n: n }));
  $("manage").focus();
}

export async function reschedule(choice) {
  const before = state.booking;
  const body = before.kind === "slot" ? { slotId: choice.id } : { startTime: choice.startTime };
  $("book").disabled = true;
  const reply = await post(path("reschedule"), body);
  $("book").disabled = false;
  if (reply.status === 200) {
    state.rescheduling = false;
    show(reply.body.data);
    return confirmed(reply.body.data, t("done.moved"));
  }
  const unchanged = (message) => t("unchanged", { message: message, when: when(before.startTime) });
  if (!reply.body.alternatives) return showError(unchanged(humanError(reply)));
  const message = before.kind === "slot" ? seatRefusal(choice, before.guests, reply.status) : timeRefusal(choice, reply.status);
  return { message: unchanged(message), alternatives: reply.body.alternatives };
}
