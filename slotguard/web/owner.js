// The owner's calendar: API key in sessionStorage (never in a URL), live updates over a fetch()-read
// server-sent-event stream, because EventSource cannot send the Authorization header.
import { addDays, clock as clockIn, localDate as localDateIn } from "./times.js";

(function () {
  const slug = decodeURIComponent(location.pathname.split("/").filter(Boolean)[1] || "");
  const base = "/api/v1/businesses/" + encodeURIComponent(slug);
  const storageKey = "slotguard-key:" + slug;
  const $ = (id) => document.getElementById(id);
  const state = { business: null, staffNames: {}, serviceNames: {}, stream: null, lastEventId: null, selected: null };
  let reloadTimer = null;

  const key = () => sessionStorage.getItem(storageKey);
  async function call(path, options) {
    options = options || {};
    options.headers = Object.assign({ Authorization: "Bearer " + key() }, options.headers || {});
    try {
      const reply = await fetch(path, options);
      const body = await reply.json().catch(() => ({}));
      if (reply.status === 401 || reply.status === 403) signOut("That API key is not valid for this business.");
      return { status: reply.status, body: body };
    } catch (_) { return { status: 0, body: {} }; }
  }
  function showError(message) { $("error").textContent = message || ""; $("error").classList.toggle("hidden", !message); }

  const zone = () => state.business.timezone;
  const localDate = (date) => localDateIn(date, zone());
  const clock = (iso) => clockIn(iso, zone());
  function offsetOf(iso) {
    // The business zone's UTC offset around local noon of `iso`, good enough to bound a day window.
    const noon = new Date(iso + "T12:00:00Z");
    const parts = new Intl.DateTimeFormat("en-US", { timeZone: zone(), hour12: false, year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit" }).formatToParts(noon);
    const get = (t) => Number(parts.find((p) => p.type === t).value);
    return (Date.UTC(get("year"), get("month") - 1, get("day"), get("hour") % 24, get("minute")) - noon.getTime()) / 60000;
  }
  const utcStart = (iso) => new Date(Date.parse(iso + "T00:00:00Z") - offsetOf(iso) * 60000).toISOString();

  function visibleDays() {
    let first = $("date").value;
    if ($("view").value === "week") { const weekday = (new Date(first + "T12:00:00Z").getUTCDay() + 6) % 7; first = addDays(first, -weekday); }
    const count = $("view").value === "week" ? 7 : 1;
    return Array.from({ length: count }, (_, i) => addDays(first, i));
  }

  async function render() {
    const days = visibleDays();
    const query = new URLSearchParams({ from: utcStart(days[0]), to: utcStart(addDays(days[days.length - 1], 1)), limit: "1000" });
    const slotQuery = new URLSearchParams(query);
    if ($("staff").value) query.set("staffId", $("staff").value);
    // Slots belong to no staff member: they show with everyone's calendar, not with one person's.
    const [bookings, slots] = await Promise.all([
      call(base + "/appointments?" + query), $("staff").value ? { status: 204 } : call(base + "/slots?" + slotQuery)]);
    if (bookings.status !== 200) return showError("Could not load the calendar (" + ((bookings.body.error || {}).message || bookings.status) + ").");
    showError("");
    // By start time; at the same start a slot comes first, its bookings under it.
    const entries = bookings.body.data.map((b) => ({ at: b.startTime, rank: 1, node: bookingButton(b) }));
    if (slots.status === 200) for (const s of slots.body.data) entries.push({ at: s.startTime, rank: 0, node: slotItem(s) });
    entries.sort((a, b) => a.at.localeCompare(b.at) || a.rank - b.rank);
    $("days").style.setProperty("--columns", days.length);
    $("days").replaceChildren(...days.map((day) => {
      const column = document.createElement("section"); column.className = "day";
      const title = document.createElement("h3");
      title.textContent = new Date(day + "T12:00:00Z").toLocaleDateString("en-GB", { weekday: "short", day: "numeric", month: "short", timeZone: "UTC" });
      column.append(title, ...entries.filter((e) => localDate(new Date(e.at)) === day).map((e) => e.node));
      return column;
    }));
  }
  function bookingButton(booking) {
    const button = document.createElement("button");
    button.type = "button"; button.className = "entry status-" + booking.status; button.dataset.bookingId = booking.id;
    const who = booking.client ? booking.client.firstName + " " + booking.client.lastName : "";
    const staff = state.staffNames[booking.staffId] || "";
    const party = booking.kind === "slot" ? booking.guests + (booking.guests === 1 ? " guest" : " guests") : "";
    button.textContent = clock(booking.startTime) + "–" + clock(booking.endTime) + " " + who + [staff, party].filter(Boolean).map((t) => " · " + t).join("") + " (" + booking.status.replace("_", " ") + ")";
    button.addEventListener("click", () => showDetails(booking));
    return button;
  }
  function slotItem(slot) {
    const item = document.createElement("div"); item.className = "entry slot" + (slot.remaining === 0 ? " full" : ""); item.dataset.slotId = slot.id;
    const seats = slot.capacity === 1 ? (slot.remaining ? "free" : "taken") : slot.remaining ? slot.remaining + " of " + slot.capacity + " seats left" : "full";
    item.textContent = clock(slot.startTime) + "–" + clock(slot.endTime) + " " + (state.serviceNames[slot.serviceId] || "Slot") + ": " + seats;
    return item;
  }

  async function showDetails(booking) {
    state.selected = booking;
    const client = booking.client || {};
    $("details-summary").textContent = [state.serviceNames[booking.serviceId] || booking.kind, clock(booking.startTime) + "–" + clock(booking.endTime),
      booking.status, (client.firstName || "") + " " + (client.lastName || ""), client.email, client.phone].filter(Boolean).join(" · ");
    $("cancel").disabled = ["cancelled", "expired", "needs_refund"].includes(booking.status);
    $("details").classList.remove("hidden"); $("details").focus();
    const reply = await call(base + "/audit-log?" + new URLSearchParams({ bookingId: booking.id }));
    const rows = reply.status === 200 ? reply.body.data : [];
    $("audit").replaceChildren(...rows.map((entry) => {
      const item = document.createElement("li");
      item.textContent = new Date(entry.at).toLocaleString("en-GB", { timeZone: zone() }) + ": " + entry.action + " " + (entry.fromStatus || "new") + " → " + entry.toStatus + " by " + entry.actor;
      return item;
    }));
  }
  async function cancelSelected() {
    const reply = await call(base + "/appointments/" + state.selected.id + "/cancel", { method: "POST" });
    if (reply.status !== 200) return showError("Could not cancel: " + ((reply.body.error || {}).message || reply.status));
    await showDetails(reply.body.data); render();
  }

  async function listen() {
    // A server-sent-event stream read with fetch; reconnects with Last-Event-ID so nothing is missed.
    while (key()) {
      const controller = new AbortController(); state.stream = controller;
      const headers = { Authorization: "Bearer " + key(), Accept: "text/event-stream" };
      if (state.lastEventId) headers["Last-Event-ID"] = state.lastEventId;
      try {
        const reply = await fetch(base + "/events", { headers: headers, signal: controller.signal });
        if (!reply.ok) { if (reply.status === 401 || reply.status === 403) return; throw new Error(String(reply.status)); }
        $("live").textContent = "Live: new bookings appear automatically.";
        const reader = reply.body.pipeThrough(new TextDecoderStream()).getReader();
        let buffer = "";
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buffer += value;
          let end;
          while ((end = buffer.indexOf("\n\n")) >= 0) { onEvent(buffer.slice(0, end)); buffer = buffer.slice(end + 2); }
        }
      } catch (_) {
        if (!key()) return;
        $("live").textContent = "Reconnecting…";
      }
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
  }
  function onEvent(block) {
    for (const line of block.split("\n")) if (line.startsWith("id: ")) state.lastEventId = line.slice(4);
    if (!/^event: booking$/m.test(block)) return;
    clearTimeout(reloadTimer); reloadTimer = setTimeout(render, 100);
  }

  async function loadFeeds() {
    const reply = await call(base + "/calendar-feeds");
    if (reply.status !== 200) return;
    $("feeds").replaceChildren(...reply.body.data.map((feed) => {
      const item = document.createElement("li"); const link = document.createElement("a");
      link.href = feed.url; link.textContent = (feed.staffId ? feed.name : "Whole business (" + feed.name + ")") + " (.ics)";
      item.append(link); return item;
    }));
  }

  async function signIn() {
    const reply = await call("/api/v1/public/" + encodeURIComponent(slug));
    if (reply.status !== 200) return showError("Unknown business.");
    const check = await call(base + "/calendar-feeds");
    if (check.status !== 200) return;
    state.business = reply.body.data;
    $("title").textContent = state.business.name + ": calendar";
    for (const s of state.business.services) state.serviceNames[s.id] = s.name;
    for (const m of state.business.staff) state.staffNames[m.id] = m.name;
    $("staff").replaceChildren(new Option("Everyone", ""), ...state.business.staff.map((m) => new Option(m.name, m.id)));
    $("date").value = localDate(new Date());
    $("login").classList.add("hidden"); $("calendar").classList.remove("hidden");
    await render(); loadFeeds(); listen();
  }
  function signOut(message) {
    sessionStorage.removeItem(storageKey);
    if (state.stream) state.stream.abort();
    $("calendar").classList.add("hidden"); $("login").classList.remove("hidden");
    showError(message || "");
  }
  function shift(direction) { $("date").value = addDays($("date").value, direction * ($("view").value === "week" ? 7 : 1)); render(); }

  $("login").addEventListener("submit", (event) => {
    event.preventDefault();
    sessionStorage.setItem(storageKey, $("api-key").value.trim()); $("api-key").value = ""; signIn();
  });
  for (const id of ["staff", "view", "date"]) $(id).addEventListener("change", render);
  $("prev").addEventListener("click", () => shift(-1));
  $("next").addEventListener("click", () => shift(1));
  $("today").addEventListener("click", () => { $("date").value = localDate(new Date()); render(); });
  $("logout").addEventListener("click", () => signOut(""));
  $("cancel").addEventListener("click", cancelSelected);
  if (key()) signIn(); else $("login").classList.remove("hidden");
})();
