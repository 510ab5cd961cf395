// Slots with seats (a tour's N seats, a garage's one car): pick a slot, a party size, then book or pay.
import { clock, localDate, money, windowAround } from "../times.js";
import { call, humanError, post } from "./api.js";
import { $, api, bookingsApi, clientFields, confirmed, embedded, missingField, service, showError, showNotice, slug, state, zone } from "./page.js";
import { chooseParty, joinWaitlist, waitable } from "./waitlist.js";
import { t } from "./i18n.js";

const MAX_PARTY = 100; // the API's limit on guests per booking
const PAGES = 10; // a month of 15-minute slots fits in a few pages of 1,000
const checkoutKey = "slotguard-checkout:" + slug;

const rescheduled = () => (state.rescheduling ? state.booking : null);
const party = () => (rescheduled() ? rescheduled().guests : Number($("guests").value) || 1);
const needed = () => (rescheduled() ? rescheduled().guests : 1); // a party is sized after its slot is chosen
let wanted = 1; // the party size last asked for, kept while the customer looks at other slots
const priceOf = (guests) => (service($("service").value) || {}).priceCents * guests || 0;

export async function sellsSlots(serviceId) {
  const query = new URLSearchParams({ serviceId: serviceId, from: new Date().toISOString(), limit: "1" });
  const reply = await call(api + "/slots?" + query);
  return reply.status === 200 && reply.body.data.length > 0;
}

// The slots starting on the local days first..last, later than now, following the list's cursor.
async function slotsOn(first, last) {
  const window = windowAround(first, last);
  const now = new Date();
  const from = new Date(window.from) > now ? window.from : now.toISOString();
  const query = { serviceId: $("service").value, from: from, to: window.to, limit: "1000" };
  let rows = [];
  for (let page = 0, cursor = null; page < PAGES; page++) {
    const reply = await call(api + "/slots?" + new URLSearchParams(cursor ? Object.assign({ cursor: cursor }, query) : query));
    if (reply.status !== 200) return showError(humanError(reply));
    rows = rows.concat(reply.body.data);
    cursor = reply.body.meta.nextCursor;
    if (!cursor) break;
  }
  return rows.filter((slot) => {
    const day = localDate(slot.startTime, zone());
    return new Date(slot.startTime) > now && day >= first && day <= last;
  });
}

function seatsLeft(slot) {
  if (rescheduled() && slot.id === rescheduled().slotId) return t("seats.yours");
  if (slot.remaining === 0) return t("seats.full");
  if (slot.capacity === 1) return t("seats.free");
  return slot.remaining === 1 ? t("seats.one") : t("seats.left", { n: slot.remaining });
}
const full = (slot) => !!slot && !rescheduled() && slot.remaining < party();

export const seats = {
  kind: "slot",

  async freeDays(monthKey) {
    const [year, month] = monthKey.split("-").map(Number);
    const last = monthKey + "-" + String(new Date(Date.UTC(year, month, 0)).getUTCDate()).padStart(2, "0");
    const slots = await slotsOn(monthKey + "-01", last);
    if (!slots) return undefined;
    // Days with a full slot can be chosen too: its waiting list is joined from there.
    const choosable = (slot) => seats.available(slot) || seats.waitable(slot);
    return new Set(slots.filter(choosable).map((slot) => localDate(slot.startTime, zone())));
  },

  choices: (day) => slotsOn(day, day),
  label: (slot) => clock(slot.startTime, zone()) + "–" + clock(slot.endTime, zone()) + ", " + seatsLeft(slot),
  available: (slot) => slot.remaining >= needed() && !(rescheduled() && slot.id === rescheduled().slotId),
  waitable: (slot) => !rescheduled() && waitable(slot),
  seatsLeft: (slot) => seatsLeft(slot),
  verb: () => (priceOf(party()) > 0 ? "verb.pay" : "verb.book"),
  submitLabel: () => {
    if (full(state.choice)) return t("waitlist.join");
    return priceOf(party()) > 0 ? t("pay_and_book", { price: money(priceOf(party()), service($("service").value).currency) }) : t("book");
  },

  // The party-size choices follow the chosen slot: 1 up to its seats left (at most the API's 100).
  // A full slot offers every party size it seats: the party joins its waiting list.
  chosen(slot) {
    const most = chooseParty(slot, wanted, MAX_PARTY, !rescheduled());
    const sizes = Array.from({ length: most }, (_, i) => i + 1);
    $("guests").replaceChildren(...sizes.map((n) => new Option(n === 1 ? t("party.one") : t("party.many", { n: n }), String(n))));
    $("guests").value = String(Math.min(wanted, most));
    $("guests").disabled = !slot;
    seats.describeParty(slot);
  },

  partyChanged(slot) {
    wanted = party();
    seats.describeParty(slot);
  },

  describeParty(slot) {
    const guests = party();
    const seatsText = slot ? seatsLeft(slot).replace(/^./, (c) => c.toUpperCase()) : "";
    const price = priceOf(guests);
    let note = t("seats.hint");
    if (full(slot)) note = t("seats.note.full");
    else if (slot) note = price > 0 ? t("seats.note.price", { seats: seatsText, price: money(price, service($("service").value).currency) }) : t("seats.note", { seats: seatsText });
    $("seats-note").textContent = note;
    $("book").textContent = state.rescheduling ? t("move_here") : seats.submitLabel();
  },

  async submit(slot) {
    if (missingField()) return;
    const guests = party();
    if (full(slot)) return joinWaitlist(slot, guests);
    const body = Object.assign({ guests: guests }, clientFields());
    const paying = priceOf(guests) > 0;
    const path = api + "/slots/" + encodeURIComponent(slot.id) + (paying ? "/checkout" : "/book");
    if (paying) Object.assign(body, { successUrl: returnUrl("paid"), cancelUrl: returnUrl("cancelled") });
    $("book").disabled = true;
    const reply = await post(path, body);
    $("book").disabled = false;
    if (reply.status === 201) return paying ? pay(reply.body.data) : confirmed(reply.body.data, t("done.booked"));
    if (!reply.body.alternatives) return showError(humanError(reply));
    return { message: refusal(slot, guests, reply.status), alternatives: reply.body.alternatives };
  },
};

export function refusal(slot, guests, status) {
  const time = clock(slot.startTime, zone());
  if (status !== 409) return t("refused.slot_gone", { time: time });
  return guests === 1 ? t("refused.slot_taken", { time: time }) : t("refused.slot_seats", { time: time, n: guests });
}

// Paid seats are held as pending_payment while the customer pays on the provider's page. A widget of
// its own page goes there and comes back; an embedded one opens it in a new tab and watches the booking.
function pay(started) {
  try { sessionStorage.setItem(checkoutKey, started.manageToken); } catch (_) { /* storage blocked: the return page says so */ }
  if (!embedded) return location.assign(started.checkoutUrl);
  $("picker").classList.add("hidden");
  $("pay-link").href = started.checkoutUrl;
  $("paying").classList.remove("hidden");
  $("pay-link").focus();
  watchPayment(started.manageToken, new Date(started.expiresAt).getTime() + 60000);
}

async function watchPayment(token, until) {
  const booking = await settled(token, until);
  if (booking && booking.status === "confirmed") return confirmed(Object.assign({ manageToken: token }, booking), t("done.paid"));
  $("paying").classList.add("hidden");
  $("picker").classList.remove("hidden");
  showError(t("checkout.ended"));
}

// The booking once its payment is settled (no longer pending_payment), or null if that takes past `until`.
export async function settled(token, until) {
  while (Date.now() < until) {
    const reply = await call(bookingsApi + encodeURIComponent(token));
    if (reply.status === 200 && reply.body.data.status !== "pending_payment") return reply.body.data;
    await new Promise((resolve) => setTimeout(resolve, 2000));
  }
  return null;
}

// Where the provider's page sends the customer back: this widget, on the same service.
function returnUrl(outcome) {
  // A path on this server: the only return address the server accepts besides the business's own sites.
  const url = new URL(location.pathname, location.origin);
  url.searchParams.set("service", $("service").value);
  url.searchParams.set("checkout", outcome);
  return url.pathname + url.search;
}

// Back from the provider's page (?checkout=paid or cancelled): the booking this tab started, if it knows it.
export async function checkoutReturn(outcome) {
  let token = null;
  try { token = sessionStorage.getItem(checkoutKey); sessionStorage.removeItem(checkoutKey); } catch (_) { /* blocked */ }
  const paid = outcome === "paid";
  const url = new URL(location.href);
  url.searchParams.delete("checkout");
  if (paid && token) url.searchParams.set("manage", token);
  history.replaceState(null, "", url.pathname + url.search);
  if (paid) {
    if (!token) showNotice(t("checkout.thanks"));
    return token;
  }
  // A provider may keep a cancelled checkout open until it expires; give its seats back to others now.
  if (token) await post(bookingsApi + encodeURIComponent(token) + "/cancel", {});
  showNotice(t(token ? "checkout.cancelled_freed" : "checkout.cancelled"));
  return null;
}
