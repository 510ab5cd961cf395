// Slots with seats (a tour's N seats, a garage's one car): pick a slot, a party size, then book or pay.
import { clock, localDate, money, windowAround } from "../times.js";
import { call, humanError, post } from "./api.js";
import { $, api, bookingsApi, clientFields, confirmed, embedded, missingField, service, showError, showNotice, slug, state, zone } from "./page.js";

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
  if (rescheduled() && slot.id === rescheduled().slotId) return "your booking";
  if (slot.remaining === 0) return "full";
  if (slot.capacity === 1) return "free";
  return slot.remaining + (slot.remaining === 1 ? " seat left" : " seats left");
}

export const seats = {
  kind: "slot",

  async freeDays(monthKey) {
    const [year, month] = monthKey.split("-").map(Number);
    const last = monthKey + "-" + String(new Date(Date.UTC(year, month, 0)).getUTCDate()).padStart(2, "0");
    const slots = await slotsOn(monthKey + "-01", last);
    if (!slots) return undefined;
    return new Set(slots.filter((slot) => seats.available(slot)).map((slot) => localDate(slot.startTime, zone())));
  },

  choices: (day) => slotsOn(day, day),
  label: (slot) => clock(slot.startTime, zone()) + "–" + clock(slot.endTime, zone()) + ", " + seatsLeft(slot),
  available: (slot) => slot.remaining >= needed() && !(rescheduled() && slot.id === rescheduled().slotId),
  extra: (slot) => " (" + seatsLeft(slot) + ")",
  verb: () => (priceOf(party()) > 0 ? "Pay for " : "Book "),
  submitLabel: () => (priceOf(party()) > 0 ? "Pay " + money(priceOf(party()), service($("service").value).currency) + " and book" : "Book"),

  // The party-size choices follow the chosen slot: 1 up to its seats left (at most the API's 100).
  chosen(slot) {
    const most = Math.max(slot ? Math.min(slot.remaining, MAX_PARTY) : wanted, 1);
    const sizes = Array.from({ length: most }, (_, i) => i + 1);
    $("guests").replaceChildren(...sizes.map((n) => new Option(n === 1 ? "1 person" : n + " people", String(n))));
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
    let note = slot ? seatsLeft(slot).replace(/^./, (c) => c.toUpperCase()) + " in this slot." : "Choose a time to see the seats left.";
    const price = priceOf(guests);
    if (slot && price > 0) note += " Total " + money(price, service($("service").value).currency) + ", paid on the next page.";
    $("seats-note").textContent = note;
    $("book").textContent = state.rescheduling ? "Move my booking here" : seats.submitLabel();
  },

  async submit(slot) {
    if (missingField()) return;
    const guests = party();
    const body = Object.assign({ guests: guests }, clientFields());
    const paying = priceOf(guests) > 0;
    const path = api + "/slots/" + encodeURIComponent(slot.id) + (paying ? "/checkout" : "/book");
    if (paying) Object.assign(body, { successUrl: returnUrl("paid"), cancelUrl: returnUrl("cancelled") });
    $("book").disabled = true;
    const reply = await post(path, body);
    $("book").disabled = false;
    if (reply.status === 201) return paying ? pay(reply.body.data) : confirmed(reply.body.data, "Booked");
    if (!reply.body.alternatives) return showError(humanError(reply));
    return { message: refusal(slot, guests, reply.status), alternatives: reply.body.alternatives };
  },
};

export function refusal(slot, guests, status) {
  const taken = "the " + clock(slot.startTime, zone()) + " slot";
  if (status !== 409) return "Sorry, " + taken + " can no longer be booked online.";
  return guests === 1 ? "Sorry, " + taken + " was just taken by someone else." : "Sorry, " + taken + " no longer has " + guests + " seats free.";
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
  if (booking && booking.status === "confirmed") return confirmed(Object.assign({ manageToken: token }, booking), "Booked and paid");
  $("paying").classList.add("hidden");
  $("picker").classList.remove("hidden");
  showError("The checkout ended without a payment, so the seats were given back. You can choose again.");
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
    if (!token) showNotice("Thank you: your payment was received. Your booking and its manage link are in the window where you booked.");
    return token;
  }
  // A provider may keep a cancelled checkout open until it expires; give its seats back to others now.
  if (token) await post(bookingsApi + encodeURIComponent(token) + "/cancel", {});
  showNotice("Checkout cancelled: nothing was paid" + (token ? " and the seats are free again." : "; the seats are freed when the checkout expires."));
  return null;
}
