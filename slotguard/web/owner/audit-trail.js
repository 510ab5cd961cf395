// The activity log: every booking change and every setup change, newest first, page by page.
import { call } from "./api.js";
import { el } from "./dom.js";
import { registerView } from "./views.js";

registerView({
  id: "activity",
  title: "Activity",
  group: "calendar",
  async render(root, ctx) {
    const list = el("ol", { id: "activity-log", className: "log" });
    const more = el("button", { type: "button", className: "plain hidden", text: "Older entries" });
    let cursor = null;
    const load = async () => {
      const reply = await call("/audit-log?" + new URLSearchParams(Object.assign({ limit: "50" }, cursor ? { cursor } : {})));
      if (reply.status !== 200) return;
      list.append(...reply.body.data.map((e) => el("li", { text: new Date(e.at).toLocaleString("en-GB", { timeZone: ctx.zone }) + " · " + e.actor + " · " + e.action.replace(/_/g, " ") +
        (e.toStatus ? ": " + (e.fromStatus || "new") + " → " + e.toStatus : "") + describe(ctx, e) })));
      cursor = reply.body.meta.nextCursor;
      more.classList.toggle("hidden", !cursor);
    };
    more.addEventListener("click", load);
    root.append(el("h2", { text: "Activity" }), list, more);
    await load();
  },
  onLive(_entry, ctx) { ctx.refresh(); },
});

function describe(ctx, entry) {
  const d = entry.details || {};
  const name = (list, id) => (list.find((x) => x.id === id) || {}).name;
  if (d.serviceId && name(ctx.services, d.serviceId)) return " · " + name(ctx.services, d.serviceId);
  if (d.staffId && name(ctx.staff, d.staffId)) return " · " + name(ctx.staff, d.staffId);
  if (d.created !== undefined) return " · " + d.created + " slots";
  return "";
}
