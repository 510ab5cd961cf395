// Each staff member's own calendar (an .ics feed or a CalDAV calendar): connect it, see whether it syncs,
// how many busy times it holds, the last error in plain words, and the bookings a busy time arrived over.
import { call, problem } from "./api.js";
import { el, field, say } from "./dom.js";
import { registerView } from "./views.js";

const when = (iso, ctx) => (iso ? new Date(iso).toLocaleString("en-GB", { timeZone: ctx.zone, dateStyle: "medium", timeStyle: "short" }) : "never");
const path = (member) => "/staff/" + encodeURIComponent(member.id) + "/calendar";

registerView({
  id: "calendars",
  title: "Staff calendars",
  group: "setup",
  async render(root, ctx) {
    const staff = ctx.staff.filter((m) => !m.retired);
    const replies = await Promise.all(staff.map((m) => call(path(m))));
    root.append(el("h2", { text: "Staff calendars" }),
      el("p", { className: "muted", text: "A staff member's own calendar blocks their time like time off; with CalDAV, their bookings are written into it." }),
      staff.length ? el("div", { id: "staff-calendars" }, staff.map((m, i) => card(m, replies[i].status === 200 ? replies[i].body.data : null, ctx)))
        : el("p", { className: "muted", text: "No staff yet." }));
  },
});

function card(member, calendar, ctx) {
  const item = el("section", { dataset: { staffId: member.id }, "aria-label": member.name }, el("h3", { text: member.name }));
  if (calendar) item.append(status(member, calendar, ctx));
  item.append(connectForm(member, calendar, ctx));
  return item;
}

function status(member, calendar, ctx) {
  const conflicts = calendar.conflicts.map((c) => el("li", {
    text: "Booking " + c.bookingId.slice(0, 8) + " is under a busy time (" + when(c.busyStartTime, ctx) + " to " + when(c.busyEndTime, ctx) + "): move or cancel it.",
  }));
  const sync = async () => {
    const reply = await call(path(member) + "/sync", { method: "POST" });
    if (reply.status !== 200) return say("Not synced: " + problem(reply), "error");
    say(reply.body.data.status === "ok" ? member.name + "'s calendar is up to date." : "The calendar could not be read: " + reply.body.data.error, reply.body.data.status === "ok" ? "notice" : "error");
    ctx.refresh();
  };
  const disconnect = async () => {
    const reply = await call(path(member), { method: "DELETE" });
    if (reply.status !== 204) return say("Not disconnected: " + problem(reply), "error");
    say(member.name + "'s calendar is disconnected; its busy times no longer block.");
    ctx.refresh();
  };
  return el("div", { className: "calendar-status", role: "group", "aria-label": member.name + "'s calendar" },
    el("p", { text: (calendar.kind === "caldav" ? "CalDAV: " : "Feed: ") + calendar.url }),
    el("p", { className: calendar.status === "ok" ? "" : "error", text: calendar.status === "ok" ? "Syncing" : "Not syncing: " + calendar.error }),
    el("p", { text: "Last read " + when(calendar.lastSyncedAt, ctx) + " · " + calendar.busyCount + " busy time" + (calendar.busyCount === 1 ? "" : "s") + " ahead" }),
    conflicts.length ? el("ul", { className: "conflicts", "aria-label": "Bookings under a busy time" }, conflicts) : null,
    el("button", { type: "button", text: "Sync now", "aria-label": "Sync now " + member.name + "'s calendar", onclick: sync }),
    el("button", { type: "button", className: "plain", text: "Disconnect", "aria-label": "Disconnect " + member.name + "'s calendar", onclick: disconnect }));
}

function connectForm(member, calendar, ctx) {
  const prefix = "calendar-" + member.id.slice(0, 8) + "-";
  const kind = field("Kind", { id: prefix + "kind", value: calendar ? calendar.kind : "ics" }, [["ics", "iCalendar feed (.ics address)"], ["caldav", "CalDAV calendar"]]);
  const url = field("Calendar URL", { id: prefix + "url", type: "url", required: true, value: calendar ? calendar.url : "" });
  const username = field("Username (CalDAV)", { id: prefix + "username", autocomplete: "off", value: calendar && calendar.username ? calendar.username : "" });
  const password = field("Password or app password (CalDAV)", { id: prefix + "password", type: "password", autocomplete: "new-password" });
  const form = el("form", { className: "calendar-connect", "aria-label": "Connect " + member.name + "'s calendar" },
    kind.wrapper, url.wrapper, username.wrapper, password.wrapper, el("button", { type: "submit", text: calendar ? "Connect again" : "Connect" }));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const body = { kind: kind.input.value, url: url.input.value };
    if (body.kind === "caldav") Object.assign(body, { username: username.input.value || null, password: password.input.value || null });
    say("Reading the calendar…");
    const reply = await call(path(member), { method: "PUT", json: body });
    if (reply.status !== 200) return say("Not connected: " + problem(reply), "error");
    say(member.name + "'s calendar is connected: " + reply.body.data.busyCount + " busy times read.");
    ctx.refresh();
  });
  return form;
}
