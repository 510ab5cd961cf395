// Rotating the API key: the new key is shown once and kept in this tab; the old one stops working at once.
import { call, problem, setKey } from "./api.js";
import { el, say } from "./dom.js";
import { registerView } from "./views.js";

registerView({
  id: "api-key",
  title: "API key",
  group: "setup",
  async render(root) {
    const shown = el("p", { id: "new-key", className: "hidden", role: "status" });
    const confirm = el("button", { type: "button", id: "rotate-confirm", className: "hidden", text: "Yes, replace the key now" });
    confirm.addEventListener("click", async () => {
      const reply = await call("/api-key", { method: "POST" });
      if (reply.status !== 201) return say("Not rotated: " + problem(reply), "error");
      setKey(reply.body.data.apiKey);
      shown.textContent = "New API key (shown once; store it now): " + reply.body.data.apiKey;
      shown.classList.remove("hidden");
      confirm.classList.add("hidden");
      say("Key replaced. Every integration using the old key must be given the new one.");
    });
    root.append(el("h2", { text: "API key" }), el("p", { text: "Replace the key if it may have leaked. The old key is refused from that moment on, and calendar feed links change." }),
      el("button", { type: "button", id: "rotate", className: "plain", text: "Replace the API key…", onclick: () => { confirm.classList.remove("hidden"); confirm.focus(); } }), confirm, shown);
  },
});
