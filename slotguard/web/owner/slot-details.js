// A slot opened from the calendar: its seats, a new capacity, or cancel it with every booking in it.
import { call, problem } from "./api.js";
import { el, field, say } from "./dom.js";
import { slotWaitlist } from "./slot-waitlist.js";
import { hhmm, local } from "./zone.js";

export function openSlot(ctx, slot) {
  const root = document.getElementById("details-root");
  if (!root) return;
  const at = local(slot.startTime, ctx.zone);
  const capacity = field("Capacity", { id: "slot-new-capacity", type: "number", min: "1", value: String(slot.capacity) });
  const form = el("form", { className: "row tight" }, capacity.wrapper, el("button", { type: "submit", text: "Change capacity" }));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const reply = await call("/slots/" + slot.id, { method: "PATCH", json: { capacity: Number(capacity.input.value) } });
    if (reply.status !== 200) return say("Not changed: " + problem(reply), "error");
    say("Capacity changed.");
    openSlot(ctx, reply.body.data);
  });
  const cancel = el("button", { type: "button", id: "cancel-slot", className: "plain", text: "Cancel this slot and its bookings", onclick: async () => {
    const reply = await call("/slots/" + slot.id + "/cancel", { method: "POST" });
    if (reply.status !== 200) return say("Not cancelled: " + problem(reply), "error");
    say("Slot cancelled; " + reply.body.data.bookings.length + " booking(s) settled and their customers told.");
    root.replaceChildren();
  } });
  const panel = el("section", { id: "details", className: "panel", tabindex: "-1", "aria-labelledby": "slot-details-title" },
    el("h2", { id: "slot-details-title", text: "Slot" }),
    el("p", { text: at.day + " " + hhmm(at.minutes) + ": " + slot.remaining + " of " + slot.capacity + " seats left" }), form, cancel,
    slotWaitlist(ctx, slot),
    el("button", { type: "button", className: "plain", text: "Close", onclick: () => root.replaceChildren() }));
  root.replaceChildren(panel);
  panel.focus();
}

