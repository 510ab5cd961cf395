// The booking widget: plain DOM and ES modules, talking only to the public API of the business in its URL.
// Appointments and slots share one picker (service, day, time); what the chosen service sells picks the flow.
import { localDate, dateAndClock, money, writeTimesIn } from "./times.js";
import { chooseLanguage, locale, t, translatePage } from "./widget/i18n.js";
import { showOffer } from "./widget/waitlist.js";
import { call, humanError } from "./widget/api.js";
import { appointments } from "./widget/appointments.js";
import { cancelManaged, cancelSeries, loadManaged, reschedule } from "./widget/manage.js";
import { $, api, choiceButton, confirmed, embedded, hideAlternatives, offerAlternatives, showError, slug, state, when, zone, zoneNote } from "./widget/page.js";
import { checkoutReturn, seats, sellsSlots, settled } from "./widget/seats.js";
import { offersRepeat, repeatChanged } from "./widget/series.js";

const params = new URLSearchParams(location.search);
const flows = new Map(); // service id → appointments or seats, asked once per page
const tickets = { month: 0, day: 0 }; // the newest request of each kind: answers to older ones are dropped
let month = null; // [year, month] shown

async function flowOf(serviceId) {
  if (!flows.has(serviceId)) flows.set(serviceId, (await sellsSlots(serviceId)) ? seats : appointments);
  return flows.get(serviceId);
}

async function useService(serviceId, staffId) {
  const staff = state.business.staff.filter((m) => m.serviceIds.includes(serviceId));
  $("staff").replaceChildren(new Option(t("staff.any"), "any"), ...staff.map((m) => new Option(m.name, m.id)));
  if (staffId) $("staff").value = staffId;
  const flow = await flowOf(serviceId);
  if ($("service").value !== serviceId) return; // the customer chose another service meanwhile
  state.flow = flow;
  $("staff-box").classList.toggle("hidden", flow === seats);
  $("party-box").classList.toggle("hidden", flow !== seats || state.rescheduling);
  $("repeat-box").classList.toggle("hidden", flow !== appointments || !offersRepeat());
  await resetDay();
}

async function resetDay() {
  state.day = null;
  selectChoice(null);
  $("times").replaceChildren();
  $("times-hint").textContent = t("times.hint");
  hideAlternatives();
  await renderMonth();
}

async function renderMonth() {
  const ticket = ++tickets.month;
  const [year, number] = month;
  const first = new Date(Date.UTC(year, number - 1, 1));
  $("month-name").textContent = first.toLocaleDateString(locale(), { month: "long", year: "numeric", timeZone: "UTC" });
  const monthKey = year + "-" + String(number).padStart(2, "0");
  const free = await state.flow.freeDays(monthKey);
  if (ticket !== tickets.month || !free) return;
  const monday = Date.UTC(2024, 0, 1); // a Monday: the week's day names in the page's language
  const names = Array.from({ length: 7 }, (_, i) => new Date(monday + i * 86400000).toLocaleDateString(locale(), { weekday: "short", timeZone: "UTC" }));
  const cells = names.map((d) => {
    const cell = document.createElement("span"); cell.className = "dow"; cell.textContent = d; cell.setAttribute("aria-hidden", "true"); return cell;
  });
  for (let i = 0; i < (first.getUTCDay() + 6) % 7; i++) cells.push(document.createElement("span"));
  const days = new Date(Date.UTC(year, number, 0)).getUTCDate();
  for (let d = 1; d <= days; d++) {
    const iso = monthKey + "-" + String(d).padStart(2, "0");
    const button = document.createElement("button");
    button.type = "button"; button.textContent = d; button.dataset.date = iso;
    const label = new Date(iso + "T12:00:00Z").toLocaleDateString(locale(), { weekday: "long", day: "numeric", month: "long", timeZone: "UTC" });
    button.setAttribute("aria-label", t(free.has(iso) ? "day.free" : "day.full", { day: label }));
    button.setAttribute("aria-pressed", String(state.day === iso));
    if (free.has(iso)) { button.className = "free"; button.addEventListener("click", () => pickDay(iso)); } else { button.disabled = true; }
    cells.push(button);
  }
  $("month").replaceChildren(...cells);
}

function shiftMonth(delta) {
  let [year, number] = month; number += delta;
  if (number < 1) { number = 12; year -= 1; } if (number > 12) { number = 1; year += 1; }
  month = [year, number]; renderMonth();
}

async function pickDay(iso) {
  state.day = iso; selectChoice(null);
  for (const b of $("month").querySelectorAll("button")) b.setAttribute("aria-pressed", String(b.dataset.date === iso));
  const ticket = ++tickets.day;
  const flow = state.flow;
  const choices = await flow.choices(iso);
  if (ticket !== tickets.day || !choices) return;
  const open = choices.filter((choice) => flow.available(choice));
  const choosable = open.length || choices.some((choice) => flow.waitable && flow.waitable(choice)); // a full slot's line
  $("times-hint").textContent = choosable ? t("times.zone", { zone: zone() }) : t("times.none");
  $("times").replaceChildren(...choices.map((choice) => {
    const button = choiceButton(choice, flow.label(choice), () => selectChoice(choice));
    button.setAttribute("aria-label", flow.label(choice) + ", " + when(choice.startTime)); // starts as it reads
    button.disabled = !open.includes(choice) && !(flow.waitable && flow.waitable(choice));
    return button;
  }));
}

const keyOf = (choice) => choice.id || choice.startTime;

function selectChoice(choice) {
  state.choice = choice;
  for (const b of $("times").querySelectorAll("button")) b.setAttribute("aria-pressed", String(!!choice && (b.dataset.slotId || b.dataset.start) === keyOf(choice)));
  $("selected").textContent = choice ? t(state.flow.seatsLeft ? "selected.seats" : "selected", { when: when(choice.startTime), seats: state.flow.seatsLeft && state.flow.seatsLeft(choice) }) : "";
  if (state.flow.chosen) state.flow.chosen(choice);
  $("book").textContent = state.rescheduling ? t("move_here") : state.flow.submitLabel();
}

async function submit(choice) {
  showError(""); hideAlternatives();
  if (!choice) return showError(t("choose_first"));
  const flow = state.flow;
  const refused = state.rescheduling ? await reschedule(choice) : await flow.submit(choice);
  if (!refused) return;
  const verb = state.rescheduling ? "verb.move" : flow.verb();
  const what = (alt) => (flow.seatsLeft ? dateAndClock(alt.startTime, zone()) + " (" + flow.seatsLeft(alt) + ")" : dateAndClock(alt.startTime, zone()));
  offerAlternatives(refused.message, refused.alternatives, (alt) => t(verb, { what: what(alt) }), submit);
  if (state.day) pickDay(state.day);
}

async function startReschedule() {
  showError("");
  state.rescheduling = true;
  $("service").value = state.booking.serviceId;
  $("service").disabled = true; // a booking moves to another time of the same service (and staff member)
  $("staff").disabled = true;
  $("client").classList.add("hidden");
  $("picker").classList.remove("hidden");
  await useService(state.booking.serviceId, state.booking.staffId);
  $("book").textContent = t("move_here");
  ($("month").querySelector("button.free") || $("next-month")).focus();
}

function reportHeight() {
  if (!embedded) return;
  const send = () => window.parent.postMessage({ type: "slotguard:height", slug: slug, height: document.documentElement.scrollHeight }, "*");
  new ResizeObserver(send).observe(document.body); send();
}

function serviceLabel(s) {
  return s.name + " (" + s.durationMinutes + " min" + (s.priceCents > 0 ? ", " + money(s.priceCents, s.currency) : "") + ")";
}

// Back from a paid checkout, the provider's webhook may still be on its way: wait a minute for it.
async function openManaged(paid) {
  const booking = await loadManaged();
  if (!paid || !booking) return;
  const final = booking.status === "pending_payment" ? await settled(state.manageToken, Date.now() + 60000) : booking;
  if (final && final.status === "confirmed") confirmed(final, t("done.paid"));
  else loadManaged();
}

async function start() {
  reportHeight();
  const reply = await call(api);
  if (reply.status !== 200) return showError(humanError(reply));
  state.business = reply.body.data;
  chooseLanguage(state.business.language);
  writeTimesIn(locale(), { here: t("when.here"), yours: t("when.yours") });
  translatePage();
  document.title = t("title.business", { business: state.business.name });
  $("title").textContent = document.title;
  $("zone-note").textContent = zoneNote();
  month = localDate(new Date(), zone()).split("-").slice(0, 2).map(Number);
  $("service").replaceChildren(...state.business.services.map((s) => new Option(serviceLabel(s), s.id)));
  if (state.business.services.some((s) => s.id === params.get("service"))) $("service").value = params.get("service");
  $("service").addEventListener("change", () => useService($("service").value));
  $("staff").addEventListener("change", resetDay);
  $("guests").addEventListener("change", () => seats.partyChanged(state.choice));
  const relabel = () => { repeatChanged(); if (!state.rescheduling) $("book").textContent = state.flow.submitLabel(); };
  $("repeat-every").addEventListener("change", relabel);
  $("repeat-count").addEventListener("input", relabel);
  $("prev-month").addEventListener("click", () => shiftMonth(-1));
  $("next-month").addEventListener("click", () => shiftMonth(1));
  $("picker").addEventListener("submit", (event) => { event.preventDefault(); submit(state.choice); });
  $("cancel-booking").addEventListener("click", cancelManaged);
  $("cancel-series").addEventListener("click", cancelSeries);
  $("start-reschedule").addEventListener("click", startReschedule);
  const checkout = params.get("checkout");
  state.manageToken = checkout ? await checkoutReturn(checkout) : params.get("manage");
  if (state.manageToken) return openManaged(checkout === "paid");
  if (params.get("offer")) return showOffer(params.get("offer"));
  $("picker").classList.remove("hidden");
  await useService($("service").value);
}
start();
