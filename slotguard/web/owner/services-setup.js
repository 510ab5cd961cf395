// Services: list, add, change (any field) and retire. Retiring keeps every booking of the service.
import { call, problem } from "./api.js";
import { checkbox, el, field, say } from "./dom.js";
import { registerView } from "./views.js";

const NUMBERS = [["durationMinutes", "Duration (minutes)", 30], ["priceCents", "Price (cents)", 0], ["bufferBeforeMinutes", "Buffer before (minutes)", 0], ["bufferAfterMinutes", "Buffer after (minutes)", 0]];
let showRetired = false;

registerView({
  id: "services",
  title: "Services",
  group: "setup",
  async render(root, ctx) {
    const retired = checkbox("Show retired services", { checked: showRetired, onchange: (e) => { showRetired = e.target.checked; ctx.refresh(); } });
    const rows = ctx.services.filter((s) => showRetired || !s.retired).map((s) => el("tr", {},
      el("td", { text: s.name + (s.retired ? " (retired)" : "") }), el("td", { text: s.durationMinutes + " min" }),
      el("td", { text: (s.priceCents / 100).toFixed(2) + " " + s.currency }), el("td", { text: s.bufferBeforeMinutes + " / " + s.bufferAfterMinutes + " min" }),
      el("td", {}, el("button", { type: "button", className: "plain", text: "Edit", "aria-label": "Edit " + s.name, onclick: () => editor(root, ctx, s) }),
        s.retired ? null : el("button", { type: "button", className: "plain", text: "Retire", "aria-label": "Retire " + s.name, onclick: () => retire(ctx, s) }))));
    root.append(el("h2", { text: "Services" }), retired.wrapper,
      el("table", { className: "list" }, el("caption", { className: "sr-only", text: "Services" }),
        el("thead", {}, el("tr", {}, ["Name", "Duration", "Price", "Buffers", "Actions"].map((h) => el("th", { scope: "col", text: h })))), el("tbody", {}, rows)),
      el("div", { id: "service-editor" }));
    editor(root, ctx, null);
  },
});

function editor(root, ctx, service) {
  const name = field("Service name", { id: "service-name", value: service ? service.name : "", required: true, maxlength: "100" });
  const numbers = NUMBERS.map(([key, text, fallback]) => [key, field(text, { id: "service-" + key, type: "number", min: "0", value: String(service ? service[key] : fallback) })]);
  const currency = field("Currency", { id: "service-currency", value: service ? service.currency : "EUR", maxlength: "3" });
  const form = el("form", { id: "service-form", "aria-labelledby": "service-form-title" }, el("h3", { id: "service-form-title", text: service ? "Change " + service.name : "Add a service" }),
    name.wrapper, el("div", { className: "row" }, numbers.map(([, f]) => f.wrapper), currency.wrapper), el("button", { type: "submit", text: service ? "Save service" : "Add service" }));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const body = { name: name.input.value, currency: currency.input.value.toUpperCase() };
    for (const [key, f] of numbers) body[key] = Number(f.input.value);
    const reply = service ? await call("/services/" + service.id, { method: "PATCH", json: body }) : await call("/services", { json: body });
    if (reply.status !== 200 && reply.status !== 201) return say("Not saved: " + problem(reply), "error");
    await ctx.reloadCatalog();
    say(service ? "Service saved." : "Service added.");
    ctx.refresh();
  });
  root.querySelector("#service-editor").replaceChildren(form);
  if (service) name.input.focus();
}

async function retire(ctx, service) {
  const reply = await call("/services/" + service.id, { method: "DELETE" });
  if (reply.status !== 204) return say("Not retired: " + problem(reply), "error");
  await ctx.reloadCatalog();
  say(service.name + " is retired; its bookings stay.");
  ctx.refresh();
}
