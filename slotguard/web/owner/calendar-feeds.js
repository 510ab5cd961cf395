// Calendar feeds (.ics) to subscribe to in Google or Apple Calendar: the whole business and each staff member.
import { call } from "./api.js";
import { el } from "./dom.js";
import { registerView } from "./views.js";

registerView({
  id: "feeds",
  title: "Calendar feeds",
  group: "setup",
  async render(root) {
    const reply = await call("/calendar-feeds");
    const feeds = reply.status === 200 ? reply.body.data : [];
    root.append(el("h2", { text: "Calendar feeds" }), el("p", { className: "muted", text: "Anyone with a link can read it; a new API key revokes them." }),
      el("ul", { id: "feeds" }, feeds.map((feed) => el("li", {}, el("a", { href: feed.url, text: (feed.staffId ? feed.name : "Whole business (" + feed.name + ")") + " (.ics)" })))));
  },
});
