// A full slot's waiting list ("tell me if seats free up", with the party size and the place in line), and
// the page a waitlist offer's link opens (?offer=TOKEN): one click books the seats held for the customer.
import { humanError, post } from "./api.js";
import { $, api, clientFields, confirmed, showError, showNotice, slug } from "./page.js";
import { t } from "./i18n.js";

// A slot with seats can be booked; a full one can be waited for (not one that seats nobody more).
export const waitable = (slot) => !!slot && slot.capacity > 0;

// The party sizes to offer: up to the seats left, or, for a full slot that can be waited for, its capacity.
export function chooseParty(slot, wanted, most, waiting) {
  if (!slot) return Math.max(wanted, 1);
  const seats = slot.remaining > 0 || !waiting ? slot.remaining : slot.capacity;
  return Math.max(Math.min(seats, most), 1);
}

export async function joinWaitlist(slot, guests) {
  $("book").disabled = true;
  const reply = await post(api + "/slots/" + encodeURIComponent(slot.id) + "/waitlist", Object.assign({ guests: guests }, clientFields()));
  $("book").disabled = false;
  if (reply.status !== 201) return showError(humanError(reply));
  showError("");
  showNotice(t("waitlist.joined", { position: reply.body.data.position }));
  $("notice").focus();
  return undefined;
}

export function showOffer(token) {
  $("offer").classList.remove("hidden");
  $("offer").focus();
  $("accept-offer").addEventListener("click", async () => {
    $("accept-offer").disabled = true;
    const back = (outcome) => location.pathname + "?checkout=" + outcome; // as a checkout started here returns
    const reply = await post("/api/v1/public/waitlist/" + encodeURIComponent(token) + "/accept", { successUrl: back("paid"), cancelUrl: back("cancelled") });
    if (reply.status === 201 && reply.body.data.checkoutUrl) { // a priced service: pay on the provider's page
      try { sessionStorage.setItem("slotguard-checkout:" + slug, reply.body.data.manageToken); } catch (_) { /* blocked */ }
      return location.assign(reply.body.data.checkoutUrl);
    }
    if (reply.status === 201) {
      $("offer").classList.add("hidden");
      return confirmed(reply.body.data, t("done.booked"));
    }
    showError(humanError(reply));
    return undefined;
  });
}

