// The owner console's entry module: sign-in, the shared context, navigation between views, and the live
// stream that keeps the open view current.
//
// How a view registers: see views.js. In short, a module calls registerView({id, title, group, render})
// and gets one import line among the views' imports below. Each view receives `ctx`:
//   ctx.business          the business with all its settings (GET /api/v1/businesses/{slug})
//   ctx.services, ctx.staff   lists including retired ones (each with `retired`)
//   ctx.zone              the business's IANA zone; times are drawn in it
//   ctx.reloadCatalog()   re-read business, services and staff (after a setup change)
//   ctx.go(id, params)    open another view; ctx.params are the params it was opened with
//   ctx.refresh()         render the current view again
import { call, forgetKey, key, listAll, onSignedOut, publicBase, setKey } from "./api.js";
import { $, el, say } from "./dom.js";
import { listen } from "./live.js";
import { viewNamed, views } from "./views.js";
// The views, in the order of the navigation: one import each (see views.js).
import "./week-view.js";
import "./audit-trail.js";
import "./business-settings.js";
import "./services-setup.js";
import "./staff-hours.js";
import "./slot-schedules.js";
import "./webhooks.js";
import "./staff-calendars.js";
import "./calendar-feeds.js";
import "./api-key.js";


const ctx = { business: null, services: [], staff: [], zone: "UTC", params: {}, current: null };
let stopLive = null;
let liveTimer = null;

ctx.reloadCatalog = async function () {
  const [business, services, staff] = await Promise.all([call(""), listAll("/services", { includeRetired: "true" }), listAll("/staff", { includeRetired: "true" })]);
  if (business.status !== 200) return false;
  ctx.business = business.body.data;
  ctx.zone = ctx.business.timezone;
  ctx.services = services.rows;
  ctx.staff = staff.rows;
  $("title").textContent = ctx.business.name;
  return true;
};

ctx.go = function (id, params = {}) {
  ctx.params = params;
  if (location.hash !== "#" + id) history.replaceState(null, "", "#" + id);
  show(id);
};

ctx.refresh = () => show(ctx.current, false);

async function show(id, moveFocus = true) {
  const view = viewNamed(id) || views()[0];
  ctx.current = view.id;
  for (const button of $("nav").querySelectorAll("button")) button.setAttribute("aria-current", button.dataset.view === view.id ? "page" : "false");
  const root = $("view-root");
  if (moveFocus) { say(""); say("", "error"); }
  const fresh = el("section", { "aria-label": view.title });
  await view.render(fresh, ctx);
  if (ctx.current !== view.id) return; // another view was opened meanwhile
  root.replaceChildren(fresh);
  if (moveFocus) root.focus();
}

function drawNavigation() {
  const groups = [["calendar", "Calendar"], ["setup", "Setup"]];
  $("nav").replaceChildren(...groups.map(([group, label]) => el("div", { className: "nav-group", role: "group", "aria-label": label },
    views().filter((v) => v.group === group).map((v) => el("button", { type: "button", className: "plain", dataset: { view: v.id }, text: v.title, onclick: () => ctx.go(v.id) })))));
}

function onLive(entry) {
  // Many entries can arrive at once (a cancelled slot, a season of slots): one redraw for all of them.
  clearTimeout(liveTimer);
  liveTimer = setTimeout(async () => {
    const view = viewNamed(ctx.current);
    if (entry.bookingId === null) await ctx.reloadCatalog();
    if (view && view.onLive) view.onLive(entry, ctx);
  }, 100);
}

async function signIn() {
  const found = await call(publicBase);
  if (found.status === 404) return say("Unknown business.", "error");
  if (!(await ctx.reloadCatalog())) return;
  $("login").classList.add("hidden");
  $("nav").classList.remove("hidden");
  $("logout").classList.remove("hidden");
  drawNavigation();
  await show((location.hash || "#").slice(1));
  stopLive = listen(onLive);
}

function signOut(message) {
  forgetKey();
  if (stopLive) stopLive();
  $("view-root").replaceChildren();
  $("nav").classList.add("hidden");
  $("logout").classList.add("hidden");
  $("login").classList.remove("hidden");
  $("live").textContent = "";
  say(message || "", "error");
}

onSignedOut(signOut);
$("login").addEventListener("submit", (event) => {
  event.preventDefault();
  setKey($("api-key").value.trim());
  $("api-key").value = "";
  signIn();
});
$("logout").addEventListener("click", () => signOut(""));
window.addEventListener("hashchange", () => { if (key() && ctx.business) show(location.hash.slice(1)); });

if (key()) signIn(); else $("login").classList.remove("hidden");
