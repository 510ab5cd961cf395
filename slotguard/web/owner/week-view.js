// The calendar: a day or week time grid, a lane per staff member and one for slots. Bookings, holds, time off
// and the busy times of the staff's own calendars are drawn at their times in the business's zone, coloured
// by status; clicking a free time opens
// a desk booking, clicking a booking its details. The live stream redraws it within a second of a change.
import { listAll } from "./api.js";
import { openBooking } from "./booking-details.js";
import { openDeskBooking } from "./desk-booking.js";
import { checkbox, el, field, say } from "./dom.js";
import { openSlot } from "./slot-details.js";
import { hourRange, placeSideBySide } from "./time-grid.js";
import { registerView } from "./views.js";
import { addDays, dayLabel, hhmm, instantOf, local, minutesOf, mondayOf, weekdayOf } from "./zone.js";

const state = { mode: "week", day: null, staffId: "", showCancelled: true };
const INACTIVE = new Set(["cancelled", "expired"]);
const PX_PER_MINUTE = { day: 1, week: 0.75 };

registerView({
  id: "calendar",
  title: "Calendar",
  group: "calendar",
  async render(root, ctx) {
    if (!state.day) state.day = local(Date.now(), ctx.zone).day;
    if (ctx.params.day) { state.day = ctx.params.day; ctx.params = {}; }
    const grid = el("div", { id: "days", className: "days", tabindex: "0", role: "region", "aria-label": "Calendar grid (scrolls sideways)" });
    root.append(toolbar(ctx), grid, el("div", { id: "details-root" }));
    await draw(ctx, grid);
  },
  onLive(_entry, ctx) { draw(ctx); },
});

function toolbar(ctx) {
  const active = ctx.staff.filter((m) => !m.retired);
  const staff = field("Staff member", { id: "staff", value: state.staffId }, [["", "Everyone"], ...active.map((m) => [m.id, m.name])]);
  const view = field("View", { id: "view", value: state.mode }, [["day", "Day"], ["week", "Week"]]);
  const date = field("Date", { id: "date", type: "date", value: state.day });
  const cancelled = checkbox("Show cancelled", { id: "show-cancelled", checked: state.showCancelled });
  const redraw = () => { state.staffId = staff.input.value; state.mode = view.input.value; state.day = date.input.value || state.day; state.showCancelled = cancelled.input.checked; draw(ctx); };
  for (const input of [staff.input, view.input, date.input, cancelled.input]) input.addEventListener("change", redraw);
  const shift = (n) => { date.input.value = addDays(date.input.value, n * (view.input.value === "week" ? 7 : 1)); redraw(); };
  return el("div", { className: "toolbar" }, staff.wrapper, view.wrapper, date.wrapper,
    el("div", { className: "row tight nav-days" },
      el("button", { type: "button", id: "prev", className: "plain", "aria-label": "Earlier", text: "‹", onclick: () => shift(-1) }),
      el("button", { type: "button", id: "today", className: "plain", text: "Today", onclick: () => { date.input.value = local(Date.now(), ctx.zone).day; redraw(); } }),
      el("button", { type: "button", id: "next", className: "plain", "aria-label": "Later", text: "›", onclick: () => shift(1) }),
      el("button", { type: "button", id: "new-booking", text: "New booking", onclick: () => openDeskBooking(ctx, { day: state.day, staffId: state.staffId }) })),
    cancelled.wrapper, legend());
}

function legend() {
  const kinds = [["confirmed", "confirmed"], ["held", "held"], ["pending_payment", "pending payment"], ["needs_refund", "needs refund"], ["cancelled", "cancelled"]];
  return el("p", { className: "legend muted" }, kinds.map(([status, text]) => el("span", { className: "swatch status-" + status, text })),
    el("span", { className: "swatch slot", text: "slot (seats left)" }), el("span", { className: "swatch off", text: "time off" }),
    el("span", { className: "swatch off busy", text: "busy in own calendar" }));
}

const visibleDays = () => (state.mode === "week" ? Array.from({ length: 7 }, (_, i) => addDays(mondayOf(state.day), i)) : [state.day]);

let latestDraw = 0;

// Draw the visible days into `grid` (the one on the page unless given: a view renders before it is shown).
// Draws overlap (a change of day while the last day's rows are still loading, a live update): only the
// latest one is put on screen, so an earlier request that answers late never shows the day left behind.
async function draw(ctx, grid = document.getElementById("days")) {
  const turn = ++latestDraw;
  const days = visibleDays();
  const from = instantOf(days[0], 0, ctx.zone);
  const to = instantOf(addDays(days[days.length - 1], 1), 0, ctx.zone);
  const query = { from, to, includeHolds: "true" };
  if (state.staffId) query.staffId = state.staffId;
  const [bookings, slots, busy] = await Promise.all([
    listAll("/appointments", query),
    state.staffId ? { status: 200, rows: [] } : listAll("/slots", { from, to }),
    listAll("/busy-times", { from, to }),
  ]);
  if (turn !== latestDraw) return;
  if (bookings.status !== 200) return say("Could not load the calendar.", "error");
  if (!grid) return;
  const started = performance.now();
  grid.style.setProperty("--hour", 60 * PX_PER_MINUTE[state.mode] + "px");
  grid.replaceChildren(...layout(ctx, days, bookings.rows, slots.rows, busy.rows));
  grid.dataset.entries = String(bookings.rows.length);
  // The time from data in hand to the grid on screen, for anyone measuring the console (see docs/owner.md).
  requestAnimationFrame(() => { grid.dataset.renderMs = (performance.now() - started).toFixed(1); });
}

function layout(ctx, days, bookings, slots, busy) {
  const staff = ctx.staff.filter((m) => (state.staffId ? m.id === state.staffId : !m.retired || bookings.some((b) => b.staffId === m.id)));
  const lanes = [...staff.map((m) => ({ id: m.id, name: m.name, member: m })), ...(state.staffId ? [] : [{ id: "slots", name: "Slots" }])];
  const shown = bookings.filter((b) => state.showCancelled || !INACTIVE.has(b.status));
  const items = new Map(); // "day|lane" → entries
  const ranges = [];
  const put = (day, lane, entry) => { const k = day + "|" + lane; if (!items.has(k)) items.set(k, []); items.get(k).push(entry); ranges.push([entry.start, entry.end]); };
  for (const booking of shown) placeTimed(ctx, booking, booking.staffId || "slots", put, { booking });
  for (const slot of slots) placeTimed(ctx, slot, "slots", put, { slot });
  for (const lane of lanes) {
    if (!lane.member) continue;
    for (const off of lane.member.timeOff) for (const day of days) clip(ctx, off, day, lane.id, put, { off });
    for (const time of busy.filter((b) => b.staffId === lane.id)) for (const day of days) clip(ctx, time, day, lane.id, put, { busy: time });
    for (const day of days) for (const [a, b] of lane.member.workingHours[weekdayOf(day)] || []) ranges.push([minutesOf(a), b === "24:00" || b === "00:00" ? 1440 : minutesOf(b)]);
  }
  const [firstHour, lastHour] = hourRange(ranges);
  const scale = PX_PER_MINUTE[state.mode];
  const geometry = { firstMinute: firstHour * 60, scale, height: (lastHour - firstHour) * 60 * scale };
  const axis = el("div", { className: "axis", "aria-hidden": "true" }, Array.from({ length: lastHour - firstHour }, (_, i) => el("div", { className: "hour", text: hhmm((firstHour + i) * 60) })));
  return [axis, ...days.map((day) => dayColumn(ctx, day, lanes, items, geometry))];
}

function placeTimed(ctx, item, lane, put, payload) {
  const start = local(item.startTime, ctx.zone);
  const end = local(item.endTime, ctx.zone);
  const endMinutes = end.day === start.day ? end.minutes : 1440;
  put(start.day, lane, Object.assign({ start: start.minutes, end: Math.max(endMinutes, start.minutes + 5) }, payload));
}

// The part of a span of blocked time (time off, a busy time) that falls on `day`.
function clip(ctx, span, day, lane, put, payload) {
  const dayStart = instantOf(day, 0, ctx.zone);
  const dayEnd = instantOf(addDays(day, 1), 0, ctx.zone);
  if (span.endTime <= dayStart || span.startTime >= dayEnd) return;
  const start = span.startTime <= dayStart ? 0 : local(span.startTime, ctx.zone).minutes;
  const end = span.endTime >= dayEnd ? 1440 : local(span.endTime, ctx.zone).minutes;
  put(day, lane, Object.assign({ start, end }, payload));
}

function dayColumn(ctx, day, lanes, items, geometry) {
  const laneNodes = lanes.map((lane) => {
    const body = el("div", { className: "lane-body", role: "group", "aria-label": lane.name + ", " + dayLabel(day), dataset: { day, lane: lane.id } });
    body.style.height = geometry.height + "px";
    if (lane.member) {
      for (const [a, b] of lane.member.workingHours[weekdayOf(day)] || []) body.append(block("open", minutesOf(a), b === "24:00" || b === "00:00" ? 1440 : minutesOf(b), geometry));
      body.addEventListener("click", (event) => { if (event.target === body || event.target.classList.contains("open")) freeTimeClicked(ctx, event, body, day, lane, geometry); });
    }
    for (const entry of placeSideBySide(items.get(day + "|" + lane.id) || [])) body.append(entryNode(ctx, entry, geometry));
    return el("div", { className: "lane" }, el("div", { className: "lane-name", text: lane.name }), body);
  });
  const lanesNode = el("div", { className: "lanes" }, laneNodes);
  lanesNode.style.setProperty("--lanes", lanes.length);
  return el("section", { className: "day", "aria-label": dayLabel(day) }, el("h3", { text: dayLabel(day) }), lanesNode);
}

function block(className, start, end, geometry) {
  const node = el("div", { className, "aria-hidden": "true" });
  node.style.top = (start - geometry.firstMinute) * geometry.scale + "px";
  node.style.height = (end - start) * geometry.scale + "px";
  return node;
}

function entryNode(ctx, entry, geometry) {
  let node;
  if (entry.booking) node = bookingButton(ctx, entry.booking);
  else if (entry.slot) node = slotButton(ctx, entry.slot);
  else if (entry.busy) node = el("div", { className: "entry off busy", text: "Busy in own calendar" });
  else node = el("div", { className: "entry off", text: "Time off" });
  node.style.top = Math.max(0, (entry.start - geometry.firstMinute) * geometry.scale) + "px";
  node.style.height = Math.max(14, (entry.end - entry.start) * geometry.scale - 1) + "px";
  node.style.left = (100 * entry.column) / entry.columns + "%";
  node.style.width = 100 / entry.columns + "%";
  return node;
}

function bookingButton(ctx, booking) {
  const client = booking.client ? booking.client.firstName + " " + booking.client.lastName : "Held";
  const service = (ctx.services.find((s) => s.id === booking.serviceId) || {}).name || "";
  const staff = (ctx.staff.find((m) => m.id === booking.staffId) || {}).name || "";
  const party = booking.kind === "slot" ? booking.guests + (booking.guests === 1 ? " guest" : " guests") : "";
  const times = hhmm(local(booking.startTime, ctx.zone).minutes) + "–" + hhmm(local(booking.endTime, ctx.zone).minutes);
  const text = times + " " + client + [service, staff, party].filter(Boolean).map((t) => " · " + t).join("") + " (" + booking.status.replace("_", " ") + ")";
  return el("button", { type: "button", className: "entry status-" + booking.status, dataset: { bookingId: booking.id }, text, onclick: () => openBooking(ctx, booking) });
}

function slotButton(ctx, slot) {
  const seats = slot.capacity === 1 ? (slot.remaining ? "free" : "taken") : slot.remaining ? slot.remaining + " of " + slot.capacity + " seats left" : "full";
  const service = (ctx.services.find((s) => s.id === slot.serviceId) || {}).name || "Slot";
  const times = hhmm(local(slot.startTime, ctx.zone).minutes) + "–" + hhmm(local(slot.endTime, ctx.zone).minutes);
  return el("button", { type: "button", className: "entry slot" + (slot.remaining === 0 ? " full" : ""), dataset: { slotId: slot.id }, text: times + " " + service + ": " + seats, onclick: () => openSlot(ctx, slot) });
}

function freeTimeClicked(ctx, event, body, day, lane, geometry) {
  const y = event.clientY - body.getBoundingClientRect().top;
  const grid = ctx.business.slotIntervalMinutes || 15;
  const minutes = Math.round((geometry.firstMinute + y / geometry.scale) / grid) * grid;
  openDeskBooking(ctx, { day, time: hhmm(Math.min(minutes, 1440 - grid)), staffId: lane.id });
}

