// Staff: who works when. A weekly-hours editor (several ranges a day), time off, the services each offers,
// online bookability; add, change and retire. Changing hours or time off never moves a booking.
import { call, problem } from "./api.js";
import { checkbox, el, field, say } from "./dom.js";
import { registerView } from "./views.js";
import { hhmm, instantOf, local, minutesOf } from "./zone.js";

const WEEKDAYS = [["mon", "Monday"], ["tue", "Tuesday"], ["wed", "Wednesday"], ["thu", "Thursday"], ["fri", "Friday"], ["sat", "Saturday"], ["sun", "Sunday"]];
let showRetired = false;

registerView({
  id: "staff",
  title: "Staff",
  group: "setup",
  async render(root, ctx) {
    const retired = checkbox("Show retired staff", { checked: showRetired, onchange: (e) => { showRetired = e.target.checked; ctx.refresh(); } });
    const list = el("ul", { className: "people" }, ctx.staff.filter((m) => showRetired || !m.retired).map((m) => el("li", {},
      el("span", { text: m.name + (m.retired ? " (retired)" : m.onlineBookingEnabled ? "" : " (desk only)") }),
      el("button", { type: "button", className: "plain", text: "Edit", "aria-label": "Edit " + m.name, onclick: () => editor(root, ctx, m) }),
      m.retired ? null : el("button", { type: "button", className: "plain", text: "Retire", "aria-label": "Retire " + m.name, onclick: () => retire(ctx, m) }))));
    root.append(el("h2", { text: "Staff" }), retired.wrapper, list, el("div", { id: "staff-editor" }));
    editor(root, ctx, null);
  },
});

function editor(root, ctx, member) {
  const name = field("Name", { id: "staff-name", value: member ? member.name : "", required: true, maxlength: "100" });
  const email = field("Email (optional)", { id: "staff-email", type: "email", value: member && member.email ? member.email : "" });
  const online = checkbox("Customers can book online", { id: "staff-online", checked: member ? member.onlineBookingEnabled : true });
  const services = ctx.services.filter((s) => !s.retired).map((s) => [s.id, checkbox(s.name, { checked: member ? member.serviceIds.includes(s.id) : true })]);
  const hours = member ? member.workingHours : Object.fromEntries(WEEKDAYS.slice(0, 5).map(([d]) => [d, [["09:00", "17:00"]]]));
  const week = WEEKDAYS.map(([day, label]) => dayEditor(day, label, hours[day] || []));
  const offs = el("ul", { id: "time-off", className: "ranges" });
  for (const off of member ? member.timeOff : []) offs.append(offEditor(ctx, off));
  const form = el("form", { id: "staff-form", "aria-labelledby": "staff-form-title" }, el("h3", { id: "staff-form-title", text: member ? "Change " + member.name : "Add a staff member" }),
    el("div", { className: "row" }, name.wrapper, email.wrapper), online.wrapper,
    el("fieldset", {}, el("legend", { text: "Services offered" }), services.map(([, box]) => box.wrapper)),
    el("fieldset", { className: "week-hours" }, el("legend", { text: "Weekly hours (" + ctx.zone + ")" }), week.map((d) => d.node)),
    el("fieldset", {}, el("legend", { text: "Time off" }), offs, el("button", { type: "button", className: "plain", id: "add-time-off", text: "Add time off", onclick: () => { const node = offEditor(ctx, null); offs.append(node); node.querySelector("input").focus(); } })),
    el("button", { type: "submit", text: member ? "Save staff member" : "Add staff member" }));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const body = {
      name: name.input.value, email: email.input.value || null, onlineBookingEnabled: online.input.checked,
      serviceIds: services.filter(([, box]) => box.input.checked).map(([id]) => id),
      workingHours: Object.fromEntries(week.map((d) => [d.day, d.ranges()]).filter(([, ranges]) => ranges.length)),
      timeOff: [...offs.querySelectorAll("li")].map((li) => li.range(ctx)).filter(Boolean),
    };
    const reply = member ? await call("/staff/" + member.id, { method: "PATCH", json: body }) : await call("/staff", { json: body });
    if (reply.status !== 200 && reply.status !== 201) return say("Not saved: " + problem(reply), "error");
    await ctx.reloadCatalog();
    say(member ? "Saved; existing bookings are unchanged." : "Staff member added.");
    ctx.refresh();
  });
  root.querySelector("#staff-editor").replaceChildren(form);
  if (member) name.input.focus();
}

// One weekday: its ranges, each a pair of time inputs, with buttons to add and remove ranges.
function dayEditor(day, label, initial) {
  const list = el("ul", { className: "ranges", dataset: { day } });
  const add = (start, end) => {
    const from = field(label + " from", { type: "time", value: start, required: true, step: "300" });
    const to = field(label + " until", { type: "time", value: end, required: true, step: "300" });
    const item = el("li", {}, from.wrapper, to.wrapper, el("button", { type: "button", className: "plain", text: "Remove", "aria-label": "Remove " + label + " " + start + "–" + end, onclick: () => item.remove() }));
    item.range = () => [from.input.value, to.input.value === "00:00" ? "24:00" : to.input.value];
    list.append(item);
    return from.input;
  };
  for (const [start, end] of initial) add(start, end === "24:00" ? "00:00" : end);
  const node = el("div", { className: "day-hours" }, el("h4", { text: label }), list,
    el("button", { type: "button", className: "plain", text: "Add hours", "aria-label": "Add hours on " + label, onclick: () => add("09:00", "17:00").focus() }));
  return { day, node, ranges: () => [...list.children].map((li) => li.range()).filter(([a, b]) => a && b) };
}

// One stretch of time off, entered in the business's zone.
function offEditor(ctx, off) {
  const at = (iso) => { const l = local(iso, ctx.zone); return l.day + "T" + hhmm(l.minutes); };
  const from = field("Off from", { type: "datetime-local", value: off ? at(off.startTime) : "", required: true });
  const to = field("Off until", { type: "datetime-local", value: off ? at(off.endTime) : "", required: true });
  const item = el("li", {}, from.wrapper, to.wrapper, el("button", { type: "button", className: "plain", text: "Remove", "aria-label": "Remove this time off", onclick: () => item.remove() }));
  const instant = (value) => instantOf(value.slice(0, 10), minutesOf(value.slice(11, 16)), ctx.zone);
  item.range = () => (from.input.value && to.input.value ? { startTime: instant(from.input.value), endTime: instant(to.input.value) } : null);
  return item;
}

async function retire(ctx, member) {
  const reply = await call("/staff/" + member.id, { method: "DELETE" });
  if (reply.status !== 204) return say("Not retired: " + problem(reply), "error");
  await ctx.reloadCatalog();
  say(member.name + " is retired; their bookings stay.");
  ctx.refresh();
}
