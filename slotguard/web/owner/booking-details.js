// One booking, opened from the calendar: who, what, when; cancel it, move it to another time or staff
// member, and read its audit trail (newest first).
import { call } from "./api.js";
import { el, field, say } from "./dom.js";
import { showAlternatives } from "./desk-booking.js";
import { hhmm, instantOf, local } from "./zone.js";

const ENDED = new Set(["cancelled", "expired", "needs_refund"]);

export async function openBooking(ctx, booking) {
  const root = document.getElementById("details-root");
  if (!root) return;
  const client = booking.client || {};
  const service = (ctx.services.find((s) => s.id === booking.serviceId) || {}).name || booking.kind;
  const staff = (ctx.staff.find((m) => m.id === booking.staffId) || {}).name;
  const at = local(booking.startTime, ctx.zone);
  const summary = [service, at.day + " " + hhmm(at.minutes) + "–" + hhmm(local(booking.endTime, ctx.zone).minutes), staff, booking.status.replace("_", " "),
    [client.firstName, client.lastName].filter(Boolean).join(" "), client.email, client.phone].filter(Boolean).join(" · ");
  const cancel = el("button", { type: "button", id: "cancel", className: "plain", text: "Cancel this booking", disabled: ENDED.has(booking.status), onclick: () => cancelBooking(ctx, booking) });
  const audit = el("ol", { id: "audit" });
  const panel = el("section", { id: "details", className: "panel", tabindex: "-1", "aria-labelledby": "details-title" },
    el("h2", { id: "details-title", text: "Booking" }), el("p", { id: "details-summary", text: summary }),
    el("div", { className: "row tight" }, cancel, el("button", { type: "button", className: "plain", text: "Close", onclick: () => root.replaceChildren() })),
    booking.kind === "appointment" && !ENDED.has(booking.status) ? rescheduleForm(ctx, booking, at) : null,
    el("h3", { text: "History" }), audit);
  root.replaceChildren(panel);
  panel.focus();
  const reply = await call("/audit-log?" + new URLSearchParams({ bookingId: booking.id }));
  const entries = reply.status === 200 ? reply.body.data : [];
  audit.replaceChildren(...entries.map((e) => el("li", { text: new Date(e.at).toLocaleString("en-GB", { timeZone: ctx.zone }) + ": " + e.action + " " + (e.fromStatus || "new") + " → " + e.toStatus + " by " + e.actor })));
}

async function cancelBooking(ctx, booking) {
  const reply = await call("/appointments/" + booking.id + "/cancel", { method: "POST" });
  if (reply.status !== 200) return say("Could not cancel: " + ((reply.body.error || {}).message || reply.status), "error");
  say("Booking cancelled; the customer is told.");
  await openBooking(ctx, reply.body.data);
}

function rescheduleForm(ctx, booking, at) {
  const active = ctx.staff.filter((m) => !m.retired && m.serviceIds.includes(booking.serviceId));
  const day = field("New date", { type: "date", value: at.day, required: true });
  const time = field("New time", { type: "time", value: hhmm(at.minutes), required: true, step: "300" });
  const staff = field("Staff member", { value: booking.staffId }, active.map((m) => [m.id, m.name]));
  const alternatives = el("div", { className: "alternatives" });
  const form = el("form", { id: "reschedule", className: "panel-form", "aria-label": "Reschedule" }, el("h3", { text: "Reschedule" }),
    el("div", { className: "row" }, day.wrapper, time.wrapper, staff.wrapper), el("button", { type: "submit", text: "Move booking" }), alternatives);
  const move = async (startTime, staffId) => {
    const reply = await call("/appointments/" + booking.id + "/reschedule", { json: { startTime, staffId } });
    if (reply.status === 200) { say("Booking moved; the customer is told."); return openBooking(ctx, reply.body.data); }
    say("Could not move it: " + ((reply.body.error || {}).message || reply.status), "error");
    showAlternatives(ctx, alternatives, reply.body.alternatives || [], (alt) => move(alt.startTime, alt.staffId));
  };
  form.addEventListener("submit", (event) => { event.preventDefault(); move(instantOf(day.input.value, Number(time.input.value.slice(0, 2)) * 60 + Number(time.input.value.slice(3, 5)), ctx.zone), staff.input.value); });
  return form;
}
