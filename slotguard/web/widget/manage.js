// The customer's own booking, reached through the manage link (?manage=TOKEN): see it, cancel it, move it.
// A move is atomic on the server: refused, the booking stays exactly as it was, and the page says so.
import { call, humanError, post } from "./api.js";
import { $, bookingsApi, confirmed, describe, showError, state, when } from "./page.js";
import { refusal as timeRefusal } from "./appointments.js";
import { refusal as seatRefusal } from "./seats.js";

const STATUS = { confirmed: "Confirmed", held: "Held", pending_payment: "Waiting for payment", cancelled: "Cancelled",
  expired: "Expired", needs_refund: "Payment arrived too late: the business will refund it" };

const path = (action) => bookingsApi + encodeURIComponent(state.manageToken) + (action ? "/" + action : "");

export async function loadManaged() {
  const reply = await call(path());
  if (reply.status !== 200) return showError(humanError(reply));
  show(reply.body.data);
  return state.booking;
}

function show(booking) {
  state.booking = booking;
  $("manage-status").textContent = STATUS[booking.status] || booking.status;
  $("manage-status").className = "badge status-" + booking.status;
  $("manage-summary").textContent = describe(booking) + ".";
  const changeable = booking.status === "confirmed";
  $("cancel-booking").disabled = !changeable;
  $("start-reschedule").disabled = !changeable;
  $("manage").classList.remove("hidden");
}

export async function cancelManaged() {
  showError("");
  const reply = await post(path("cancel"), {});
  if (reply.status !== 200) return showError(humanError(reply));
  show(reply.body.data);
  $("picker").classList.add("hidden");
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
    return confirmed(reply.body.data, "Moved");
  }
  const unchanged = " Your booking is unchanged: " + when(before.startTime) + ".";
  if (!reply.body.alternatives) return showError(humanError(reply) + unchanged);
  const message = before.kind === "slot" ? seatRefusal(choice, before.guests, reply.status) : timeRefusal(choice, reply.status);
  return { message: message + unchanged, alternatives: reply.body.alternatives };
}
