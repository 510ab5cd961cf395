// A slot's waiting list, shown under the slot opened from the calendar: who waits in which order, the
// offers open (with the token, to pass an offer on by phone), and removing an entry (its offer, if it has
// one, is withdrawn and the seats pass on).
import { call, problem } from "./api.js";
import { el, say } from "./dom.js";
import { hhmm, local } from "./zone.js";

const zoned = (instant, zone) => { const at = local(instant, zone); return at.day + " " + hhmm(at.minutes); };

const STATUS = { waiting: "waiting", offered: "offered", booked: "booked", lapsed: "offer lapsed", removed: "removed" };

export function slotWaitlist(ctx, slot) {
  const section = el("section", { className: "waitlist", "aria-labelledby": "waitlist-title" },
    el("h3", { id: "waitlist-title", text: "Waiting list" }));
  show(ctx, slot, section);
  return section;
}

async function show(ctx, slot, section) {
  const reply = await call("/slots/" + slot.id + "/waitlist");
  if (reply.status !== 200) return say("Waiting list not read: " + problem(reply), "error");
  const entries = reply.body.data;
  const heading = section.firstChild;
  if (!entries.length) return section.replaceChildren(heading, el("p", { className: "muted", text: "Nobody is waiting for this slot." }));
  const rows = entries.map((entry) => row(ctx, slot, section, entry));
  const head = el("tr", {}, ["Place", "Name", "Guests", "Status", "Offer", ""].map((text) => el("th", { scope: "col", text })));
  section.replaceChildren(heading, el("table", { id: "waitlist-entries" }, el("thead", {}, head), el("tbody", {}, rows)));
  return undefined;
}

function row(ctx, slot, section, entry) {
  const offer = entry.status === "offered" ? "until " + zoned(entry.offerExpiresAt, ctx.zone) + " · " + entry.offerToken : "";
  const inLine = entry.status === "waiting" || entry.status === "offered";
  const name = entry.firstName + " " + entry.lastName;
  const remove = inLine
    ? el("button", { type: "button", className: "plain", text: "Remove", "aria-label": "Remove " + name + " from the waiting list", onclick: async () => {
      const done = await call("/slots/" + slot.id + "/waitlist/" + entry.waitlistId, { method: "DELETE" });
      if (done.status !== 204) return say("Not removed: " + problem(done), "error");
      say(name + " was removed from the waiting list.");
      return show(ctx, slot, section);
    } })
    : "";
  return el("tr", { dataset: { waitlistId: entry.waitlistId } },
    el("td", { text: entry.position ? String(entry.position) : "–" }), el("td", { text: name + " <" + entry.email + ">" }),
    el("td", { text: String(entry.guests) }), el("td", { text: STATUS[entry.status] || entry.status }),
    el("td", { text: offer }), el("td", {}, remove));
}
