// The console's registry of views. A view is one module, named for what it shows, that registers itself:
//
//   import { registerView } from "./views.js";
//   registerView({
//     id: "resources",            // its address: /owner/{slug}#resources
//     title: "Resources",         // its button in the navigation
//     group: "setup",             // "calendar" (the day-to-day work) or "setup"
//     async render(root, ctx) {}, // draw into `root` (emptied first); ctx is described in app.js
//     onLive(entry, ctx) {},      // optional: an audit entry just arrived on the live stream
//   });
//
// and app.js imports it (one line, where the navigation should show it). Nothing else needs to change.
// Only app.js imports a module that registers a view (the navigation follows the order of registration);
// what views share (booking-details.js, desk-booking.js, slot-details.js…) registers nothing.
const registered = [];

export function registerView(view) {
  if (registered.some((v) => v.id === view.id)) throw new Error("two views named " + view.id);
  registered.push(view);
}

export const views = () => registered.slice();
export const viewNamed = (id) => registered.find((v) => v.id === id);
