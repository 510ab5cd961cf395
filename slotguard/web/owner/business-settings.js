// The business's settings, every one the API returns: the known ones with their own labels, any a later
// version adds drawn from its value's type, so a new setting shows here without a change to this file.
import { call, problem } from "./api.js";
import { checkbox, el, field, say } from "./dom.js";
import { registerView } from "./views.js";

const READ_ONLY = new Set(["id", "slug"]);
const LABELS = {
  name: "Name", timezone: "Time zone (IANA, e.g. Europe/Berlin)", slotIntervalMinutes: "Start-time grid (minutes)",
  minNoticeMinutes: "Minimum notice (minutes)", horizonDays: "Booking horizon (days)", holdTtlSeconds: "Hold time (seconds)",
  rateLimit: "Public rate limit (e.g. 60/minute, off; empty: the server's)", maxActiveHolds: "Active holds per client (empty: the server's)",
  corsOrigins: "Sites allowed to call the public API (comma-separated origins)",
};
const label = (key) => LABELS[key] || key.replace(/([A-Z])/g, " $1").replace(/^./, (c) => c.toUpperCase());

registerView({
  id: "settings",
  title: "Business",
  group: "setup",
  async render(root, ctx) {
    const inputs = {};
    const fields = Object.entries(ctx.business).filter(([key]) => !READ_ONLY.has(key)).map(([key, value]) => {
      if (typeof value === "boolean") { const box = checkbox(label(key), { checked: value }); inputs[key] = box.input; return box.wrapper; }
      const type = typeof value === "number" || /Minutes$|Days$|Seconds$|^max/.test(key) ? "number" : "text";
      const shown = Array.isArray(value) ? value.join(", ") : value === null ? "" : String(value);
      const f = field(label(key), { type, value: shown, name: key });
      inputs[key] = f.input;
      return f.wrapper;
    });
    const form = el("form", { id: "settings-form", "aria-labelledby": "settings-title" }, el("h2", { id: "settings-title", text: "Business settings" }),
      el("p", { className: "muted", text: "Address: /book/" + ctx.business.slug }), ...fields, el("button", { type: "submit", text: "Save settings" }));
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const changes = {};
      for (const [key, input] of Object.entries(inputs)) {
        const before = ctx.business[key];
        let value = input.type === "checkbox" ? input.checked : input.value.trim();
        if (Array.isArray(before)) value = value ? value.split(",").map((s) => s.trim()).filter(Boolean) : [];
        else if (input.type === "number") value = value === "" ? null : Number(value);
        else if (value === "" && before === null) value = null;
        if (JSON.stringify(value) !== JSON.stringify(before)) changes[key] = value;
      }
      if (!Object.keys(changes).length) return say("Nothing changed.");
      const reply = await call("", { method: "PATCH", json: changes });
      if (reply.status !== 200) return say("Not saved: " + problem(reply), "error");
      await ctx.reloadCatalog();
      say("Settings saved.");
      ctx.refresh();
    });
    root.append(form);
  },
});
