// The business's webhook endpoint (where booking events are posted, signed) and its delivery log.
import { call, problem } from "./api.js";
import { checkbox, el, field, say } from "./dom.js";
import { registerView } from "./views.js";

registerView({
  id: "webhooks",
  title: "Webhooks",
  group: "setup",
  async render(root, ctx) {
    const [endpoint, deliveries] = await Promise.all([call("/webhook"), call("/webhook-deliveries?limit=50")]);
    const current = endpoint.status === 200 ? endpoint.body.data : null;
    const url = field("Endpoint URL", { id: "webhook-url", type: "url", value: current ? current.url : "", required: true });
    const rotate = checkbox("Issue a new signing secret", { id: "webhook-rotate" });
    const secret = el("p", { id: "webhook-secret", className: "hidden", role: "status" });
    const form = el("form", { id: "webhook-form", "aria-labelledby": "webhook-title" }, el("h2", { id: "webhook-title", text: "Webhook endpoint" }),
      el("p", { className: "muted", text: current ? "Events: " + current.events.join(", ") : "No endpoint yet: booking events are not posted anywhere." }),
      url.wrapper, current ? rotate.wrapper : null, el("button", { type: "submit", text: "Save endpoint" }),
      current ? el("button", { type: "button", className: "plain", text: "Remove endpoint", onclick: async () => { await call("/webhook", { method: "DELETE" }); say("Endpoint removed."); ctx.refresh(); } }) : null, secret);
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const reply = await call("/webhook", { method: "PUT", json: { url: url.input.value, rotateSecret: rotate.input.checked } });
      if (reply.status !== 200 && reply.status !== 201) return say("Not saved: " + problem(reply), "error");
      say("Endpoint saved.");
      if (reply.body.data.secret) { secret.textContent = "Signing secret (shown once, store it now): " + reply.body.data.secret; secret.classList.remove("hidden"); }
    });
    const rows = (deliveries.status === 200 ? deliveries.body.data : []).map((d) => el("tr", {},
      el("td", { text: d.createdAt ? new Date(d.createdAt).toLocaleString("en-GB", { timeZone: ctx.zone }) : "" }), el("td", { text: d.event }),
      el("td", { text: d.status + (d.statusCode ? " (" + d.statusCode + ")" : "") }), el("td", { text: String(d.attempts) }), el("td", { text: d.lastError || "" })));
    root.append(form, el("h2", { text: "Deliveries" }), rows.length ? el("table", { className: "list", id: "deliveries" }, el("caption", { className: "sr-only", text: "Webhook deliveries, newest first" }),
      el("thead", {}, el("tr", {}, ["When", "Event", "Status", "Attempts", "Last error"].map((h) => el("th", { scope: "col", text: h })))), el("tbody", {}, rows)) : el("p", { className: "muted", text: "No deliveries yet." }));
  },
});
