// A booking taken at the desk or on the phone: a service, a time, a staff member (or anyone free), and a
// client found by name or email or typed in new. A time that is taken shows the nearest free ones as
// buttons; one click books that one instead.
import { call } from "./api.js";
import { el, field, say } from "./dom.js";
import { hhmm, local, minutesOf, instantOf } from "./zone.js";

let searchTimer = null;

export function openDeskBooking(ctx, { day, time = "10:00", staffId = "" }) {
  const services = ctx.services.filter((s) => !s.retired);
  const staff = ctx.staff.filter((m) => !m.retired);
  const service = field("Service", { id: "desk-service" }, services.map((s) => [s.id, s.name + " (" + s.durationMinutes + " min)"]));
  const member = field("Staff member", { id: "desk-staff", value: staffId === "slots" ? "" : staffId }, [["", "Anyone free"], ...staff.map((m) => [m.id, m.name])]);
  const date = field("Date", { id: "desk-date", type: "date", value: day, required: true });
  const clock = field("Time", { id: "desk-time", type: "time", value: time, required: true, step: "300" });
  const search = field("Find a client (name or email)", { id: "client-search", type: "search", autocomplete: "off" });
  const found = el("ul", { id: "client-results", className: "results", "aria-live": "polite" });
  const first = field("First name", { id: "desk-first", required: true, maxlength: "100", autocomplete: "off" });
  const last = field("Last name", { id: "desk-last", required: true, maxlength: "100", autocomplete: "off" });
  const email = field("Email", { id: "desk-email", type: "email", required: true, maxlength: "254", autocomplete: "off" });
  const phone = field("Phone (optional)", { id: "desk-phone", type: "tel", autocomplete: "off" });
  const alternatives = el("div", { id: "alternatives", className: "alternatives" });
  const problem = el("p", { id: "desk-problem", className: "alert hidden", role: "alert" });
  const dialog = el("dialog", { id: "desk-booking", "aria-labelledby": "desk-title" });
  const close = () => { dialog.close(); dialog.remove(); };
  const form = el("form", { method: "dialog" }, el("h2", { id: "desk-title", text: "New booking" }),
    el("div", { className: "row" }, service.wrapper, member.wrapper), el("div", { className: "row" }, date.wrapper, clock.wrapper),
    el("fieldset", {}, el("legend", { text: "Client" }), search.wrapper, found, el("div", { className: "row" }, first.wrapper, last.wrapper), el("div", { className: "row" }, email.wrapper, phone.wrapper)),
    problem, alternatives,
    el("div", { className: "row tight" }, el("button", { type: "submit", id: "desk-book", text: "Book" }), el("button", { type: "button", className: "plain", text: "Close", onclick: close })));
  search.input.addEventListener("input", () => { clearTimeout(searchTimer); searchTimer = setTimeout(() => findClients(search.input.value, found, { first, last, email, phone }), 200); });
  const book = async (startTime, staffId) => {
    const body = { serviceId: service.input.value, staffId: staffId || null, startTime, firstName: first.input.value, lastName: last.input.value, email: email.input.value };
    if (phone.input.value) body.phone = phone.input.value;
    const reply = await call("/appointments", { json: body });
    if (reply.status === 201) { close(); say("Booked " + first.input.value + " " + last.input.value + "."); return; }
    problem.textContent = (reply.body.error || {}).message || "Could not book (" + reply.status + ")";
    problem.classList.remove("hidden");
    showAlternatives(ctx, alternatives, reply.body.alternatives || [], (alt) => book(alt.startTime, alt.staffId));
  };
  form.addEventListener("submit", (event) => { event.preventDefault(); book(instantOf(date.input.value, minutesOf(clock.input.value), ctx.zone), member.input.value); });
  dialog.append(form);
  dialog.addEventListener("close", () => dialog.remove());
  document.body.append(dialog);
  dialog.showModal();
  (services.length ? first.input : service.input).focus();
}

async function findClients(text, list, fields) {
  if (text.trim().length < 2) return list.replaceChildren();
  const reply = await call("/clients?" + new URLSearchParams({ q: text.trim() }));
  const clients = reply.status === 200 ? reply.body.data : [];
  list.replaceChildren(...clients.map((c) => el("li", {}, el("button", { type: "button", className: "plain", text: c.firstName + " " + c.lastName + " <" + c.email + ">", onclick: () => {
    fields.first.input.value = c.firstName; fields.last.input.value = c.lastName; fields.email.input.value = c.email; fields.phone.input.value = c.phone || "";
    list.replaceChildren(); fields.email.input.focus();
  } }))));
}

// Alternatives of a refused time as buttons ("Tue 14:30 with Ana"), each calling `choose` with its time.
export function showAlternatives(ctx, container, alternatives, choose) {
  const name = (id) => (ctx.staff.find((m) => m.id === id) || {}).name;
  container.replaceChildren(...(alternatives.length ? [el("p", { text: "Free instead:" })] : []), ...alternatives.map((alt) => {
    const at = local(alt.startTime, ctx.zone);
    const label = at.day + " " + hhmm(at.minutes) + (alt.staffId ? " with " + (name(alt.staffId) || "staff") : "");
    return el("button", { type: "button", className: "plain alternative", text: label, onclick: () => choose(alt) });
  }));
  const firstButton = container.querySelector("button");
  if (firstButton) firstButton.focus();
}
