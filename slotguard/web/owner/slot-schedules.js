// Slots: one at a time, or a season of them from a schedule (weekdays × local times between two dates,
// never twice at one start); a slot's capacity and its cancellation, opened from the calendar.
import { call, problem } from "./api.js";
import { checkbox, el, field, say } from "./dom.js";
import { registerView } from "./views.js";
import { addDays, hhmm, instantOf, local, minutesOf } from "./zone.js";

const WEEKDAYS = [["mon", "Mon"], ["tue", "Tue"], ["wed", "Wed"], ["thu", "Thu"], ["fri", "Fri"], ["sat", "Sat"], ["sun", "Sun"]];

registerView({
  id: "slots",
  title: "Slots",
  group: "setup",
  async render(root, ctx) {
    const services = ctx.services.filter((s) => !s.retired).map((s) => [s.id, s.name]);
    const today = local(Date.now(), ctx.zone).day;
    const service = field("Service", { id: "schedule-service" }, services);
    const days = WEEKDAYS.map(([d, label]) => [d, checkbox(label, { checked: d === "sat" || d === "sun" })]);
    const times = field("Start times (local, comma-separated)", { id: "schedule-times", value: "10:00, 14:00", required: true });
    const capacity = field("Seats per slot", { id: "schedule-capacity", type: "number", min: "1", value: "12", required: true });
    const from = field("From", { id: "schedule-from", type: "date", value: today, required: true });
    const until = field("Until (inclusive)", { id: "schedule-until", type: "date", value: addDays(today, 90), required: true });
    const form = el("form", { id: "schedule-form", "aria-labelledby": "schedule-title" }, el("h2", { id: "schedule-title", text: "A season of slots" }),
      service.wrapper, el("fieldset", { className: "inline" }, el("legend", { text: "Weekdays" }), days.map(([, box]) => box.wrapper)),
      el("div", { className: "row" }, times.wrapper, capacity.wrapper, from.wrapper, until.wrapper), el("button", { type: "submit", text: "Create slots" }));
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const body = { serviceId: service.input.value, weekdays: days.filter(([, box]) => box.input.checked).map(([d]) => d),
        times: times.input.value.split(",").map((t) => t.trim()).filter(Boolean), capacity: Number(capacity.input.value), from: from.input.value, until: until.input.value };
      const reply = await call("/slot-schedules", { json: body });
      if (reply.status !== 201) return say("No slots created: " + problem(reply), "error");
      say(reply.body.data.created + " slots created (existing ones left as they were).");
      ctx.refresh();
    });
    const single = singleSlotForm(ctx, services, today);
    const runs = await call("/slot-schedules");
    const history = el("ul", { id: "schedule-runs" }, (runs.status === 200 ? runs.body.data : []).map((run) => el("li", {
      text: run.rule.from + " – " + run.rule.until + ", " + run.rule.weekdays.join(" ") + " at " + run.rule.times.join(", ") + ": " + run.created + " created" })));
    root.append(form, el("h3", { text: "Schedules run" }), history, single);
  },
});

function singleSlotForm(ctx, services, today) {
  const service = field("Service", { id: "slot-service" }, services);
  const day = field("Date", { id: "slot-date", type: "date", value: today, required: true });
  const time = field("Start", { id: "slot-time", type: "time", value: "10:00", required: true });
  const capacity = field("Seats", { id: "slot-capacity", type: "number", min: "1", value: "1", required: true });
  const form = el("form", { id: "slot-form", "aria-labelledby": "slot-title" }, el("h2", { id: "slot-title", text: "One slot" }),
    el("div", { className: "row" }, service.wrapper, day.wrapper, time.wrapper, capacity.wrapper), el("button", { type: "submit", text: "Add slot" }));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const chosen = ctx.services.find((s) => s.id === service.input.value);
    const start = minutesOf(time.input.value);
    const startTime = instantOf(day.input.value, start, ctx.zone);
    const endTime = new Date(Date.parse(startTime) + chosen.durationMinutes * 60000).toISOString();
    const reply = await call("/slots", { json: { serviceId: chosen.id, startTime, endTime, capacity: Number(capacity.input.value) } });
    if (reply.status !== 201) return say("Not added: " + problem(reply), "error");
    say("Slot added.");
  });
  return form;
}
