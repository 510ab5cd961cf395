// The booking widget: plain DOM, talks only to the public API of the business in the page's URL.
"use strict";
(function () {
  const slug = decodeURIComponent(location.pathname.split("/").filter(Boolean)[1] || "");
  const params = new URLSearchParams(location.search);
  const api = "/api/v1/public/" + encodeURIComponent(slug);
  const $ = (id) => document.getElementById(id);
  const customerZone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  const state = { business: null, month: null, day: null, time: null, manageToken: params.get("manage"), booking: null };

  async function call(path, options) {
    try {
      const reply = await fetch(path, options);
      const body = await reply.json().catch(() => ({}));
      return { status: reply.status, body: body };
    } catch (_) {
      return { status: 0, body: {} };
    }
  }
  const post = (path, body) => call(path, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });

  function format(iso, zone, withDate) {
    const options = { timeZone: zone, hour: "2-digit", minute: "2-digit" };
    if (withDate) Object.assign(options, { weekday: "long", day: "numeric", month: "long", year: "numeric" });
    return new Intl.DateTimeFormat("en-GB", options).format(new Date(iso));
  }
  function when(iso) {
    const zone = state.business.timezone;
    let text = format(iso, zone, true) + " (" + zone + ")";
    if (customerZone && customerZone !== zone) text += ", " + format(iso, customerZone, false) + " your time (" + customerZone + ")";
    return text;
  }
  function todayIn(zone) {
    return new Intl.DateTimeFormat("en-CA", { timeZone: zone, year: "numeric", month: "2-digit", day: "2-digit" }).format(new Date());
  }

  function showError(message) {
    $("error").textContent = message;
    $("error").classList.toggle("hidden", !message);
  }
  function humanError(reply) {
    const error = (reply.body && reply.body.error) || {};
    if (reply.status === 0) return "We could not reach the booking service. Check your connection and try again.";
    if (error.code === "VALIDATION_ERROR") {
      const fields = (reply.body.details || []).map((d) => String(d.field || d.loc || "").split(".").pop()).filter(Boolean);
      return "Please check " + (fields.length ? fields.join(", ") : "the form") + ": " + error.message + ".";
    }
    if (error.code === "NOT_FOUND") return "This business, service or booking no longer exists.";
    if (error.code === "RATE_LIMITED" || error.code === "SERVICE_UNAVAILABLE") return "We are very busy right now. Please try again in a moment.";
    return "Something went wrong (" + (error.message || "status " + reply.status) + "). Your details are kept; please try again.";
  }

  function fillSelect(select, options) {
    select.replaceChildren(...options.map(([value, label]) => new Option(label, value)));
  }
  function service() { return state.business.services.find((s) => s.id === $("service").value); }
  function staffId() { return $("staff").value === "any" ? null : $("staff").value; }
  function staffFor(serviceId) { return state.business.staff.filter((m) => m.serviceIds.includes(serviceId)); }

  function onServiceChange() {
    const staff = staffFor($("service").value).map((m) => [m.id, m.name]);
    fillSelect($("staff"), [["any", "Any available"], ...staff]);
    resetDay();
  }
  function resetDay() { state.day = null; selectTime(null); renderMonth(); }

  async function renderMonth() {
    const [year, month] = state.month;
    const first = new Date(Date.UTC(year, month - 1, 1));
    $("month-name").textContent = first.toLocaleDateString("en-GB", { month: "long", year: "numeric", timeZone: "UTC" });
    const monthKey = year + "-" + String(month).padStart(2, "0");
    const query = new URLSearchParams({ serviceId: $("service").value, month: monthKey });
    if (staffId()) query.set("staffId", staffId());
    const reply = await call(api + "/free-days?" + query);
    if (reply.status !== 200) return showError(humanError(reply));
    const free = new Set(reply.body.data.days);
    const cells = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"].map((d) => {
      const cell = document.createElement("span"); cell.className = "dow"; cell.textContent = d; cell.setAttribute("aria-hidden", "true"); return cell;
    });
    for (let i = 0; i < (first.getUTCDay() + 6) % 7; i++) cells.push(document.createElement("span"));
    const days = new Date(Date.UTC(year, month, 0)).getUTCDate();
    for (let d = 1; d <= days; d++) {
      const iso = monthKey + "-" + String(d).padStart(2, "0");
      const button = document.createElement("button");
      button.type = "button"; button.textContent = d; button.dataset.date = iso;
      const label = new Date(iso + "T12:00:00Z").toLocaleDateString("en-GB", { weekday: "long", day: "numeric", month: "long", timeZone: "UTC" });
      button.setAttribute("aria-label", label + (free.has(iso) ? ", free times" : ", fully booked or closed"));
      button.setAttribute("aria-pressed", String(state.day === iso));
      if (free.has(iso)) { button.className = "free"; button.addEventListener("click", () => pickDay(iso)); } else { button.disabled = true; }
      cells.push(button);
    }
    $("month").replaceChildren(...cells);
  }
  function shiftMonth(delta) {
    let [year, month] = state.month; month += delta;
    if (month < 1) { month = 12; year -= 1; } if (month > 12) { month = 1; year += 1; }
    state.month = [year, month]; renderMonth();
  }

  async function pickDay(iso) {
    state.day = iso; selectTime(null);
    for (const b of $("month").querySelectorAll("button")) b.setAttribute("aria-pressed", String(b.dataset.date === iso));
    const query = new URLSearchParams({ serviceId: $("service").value, date: iso });
    if (staffId()) query.set("staffId", staffId());
    const reply = await call(api + "/availability?" + query);
    if (reply.status !== 200) return showError(humanError(reply));
    const slots = reply.body.data.slots;
    $("times-hint").textContent = slots.length ? "Times are in " + state.business.timezone + "." : "No free times left on this day.";
    $("times").replaceChildren(...slots.map((slot) => timeButton(slot, () => selectTime(slot))));
  }
  function timeButton(slot, onClick) {
    const button = document.createElement("button");
    button.type = "button"; button.textContent = format(slot.startTime, state.business.timezone, false);
    button.dataset.start = slot.startTime; button.setAttribute("aria-pressed", "false");
    button.setAttribute("aria-label", when(slot.startTime));
    button.addEventListener("click", onClick);
    return button;
  }
  function selectTime(slot) {
    state.time = slot;
    for (const b of $("times").querySelectorAll("button")) b.setAttribute("aria-pressed", String(!!slot && b.dataset.start === slot.startTime));
    $("selected").textContent = slot ? "Selected: " + when(slot.startTime) : "";
  }

  function clientFields() {
    const values = {};
    for (const name of ["firstName", "lastName", "email", "phone"]) values[name] = $(name).value.trim();
    if (!values.phone) delete values.phone;
    return values;
  }
  function missingField() {
    for (const input of $("client").querySelectorAll("input")) if (!input.checkValidity()) return input;
    return null;
  }

  async function submit(slot) {
    showError(""); $("alternatives-box").classList.add("hidden");
    if (!slot) { showError("Please choose a day and a time first."); return; }
    if (state.manageToken) return reschedule(slot);
    const missing = missingField();
    if (missing) { showError("Please fill in " + $("client").querySelector("label[for=" + missing.id + "]").textContent.toLowerCase() + "."); missing.focus(); return; }
    $("book").disabled = true;
    const body = Object.assign({ serviceId: $("service").value, startTime: slot.startTime, staffId: staffId() }, clientFields());
    const reply = await post(api + "/book", body);
    $("book").disabled = false;
    if (reply.status === 201) return confirmed(reply.body.data);
    if (reply.body.alternatives) return offerAlternatives(slot, reply);
    showError(humanError(reply));
  }

  function offerAlternatives(slot, reply) {
    const taken = format(slot.startTime, state.business.timezone, false);
    const alternatives = reply.body.alternatives || [];
    $("conflict").textContent = (reply.status === 409 ? "Sorry, " + taken + " was just taken by someone else." : "Sorry, " + taken + " can no longer be booked.")
      + (alternatives.length ? " These times are still free; one click books one:" : " Please choose another day.");
    $("alternatives").replaceChildren(...alternatives.map((alt) => {
      const button = timeButton(alt, () => submit(alt));
      button.textContent = "Book " + format(alt.startTime, state.business.timezone, true);
      return button;
    }));
    $("alternatives-box").classList.remove("hidden");
    const firstAlternative = $("alternatives").querySelector("button");
    (firstAlternative || $("conflict")).focus();
    if (state.day) pickDay(state.day);
  }

  function confirmed(booking) {
    state.booking = booking;
    $("picker").classList.add("hidden"); $("manage").classList.add("hidden");
    const name = (service() || {}).name || "Your appointment";
    $("done-summary").textContent = name + ", " + when(booking.startTime) + ". Booking reference " + booking.id.slice(0, 8) + ".";
    $("ics").href = URL.createObjectURL(new Blob([ics(booking, name)], { type: "text/calendar" }));
    const token = booking.manageToken || state.manageToken;
    $("manage-link").href = location.pathname + "?manage=" + encodeURIComponent(token);
    $("done").classList.remove("hidden"); $("done").focus();
  }
  function ics(booking, name) {
    const stamp = (iso) => new Date(iso).toISOString().replace(/[-:]/g, "").replace(/\.\d{3}/, "");
    const text = (s) => s.replace(/[\\;,]/g, (c) => "\\" + c);
    return ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//slotguard//widget//EN", "BEGIN:VEVENT",
      "UID:" + booking.id + "@slotguard", "DTSTAMP:" + stamp(new Date().toISOString()),
      "DTSTART:" + stamp(booking.startTime), "DTEND:" + stamp(booking.endTime),
      "SUMMARY:" + text(name + " at " + state.business.name), "END:VEVENT", "END:VCALENDAR", ""].join("\r\n");
  }

  async function loadManaged() {
    const reply = await call(api.replace(/[^/]+$/, "") + "bookings/" + encodeURIComponent(state.manageToken));
    if (reply.status !== 200) return showError(humanError(reply));
    state.booking = reply.body.data;
    $("manage-summary").textContent = state.booking.status + ": " + when(state.booking.startTime);
    $("cancel-booking").disabled = state.booking.status !== "confirmed";
    $("manage").classList.remove("hidden");
  }
  async function cancelManaged() {
    const reply = await post(api.replace(/[^/]+$/, "") + "bookings/" + encodeURIComponent(state.manageToken) + "/cancel", {});
    if (reply.status !== 200) return showError(humanError(reply));
    state.booking = reply.body.data;
    $("manage-summary").textContent = "Cancelled: " + when(state.booking.startTime);
    $("cancel-booking").disabled = true; $("picker").classList.add("hidden");
  }
  function startReschedule() {
    $("service").value = state.booking.serviceId; onServiceChange();
    if (state.booking.staffId) { $("staff").value = state.booking.staffId; resetDay(); }
    $("client").classList.add("hidden"); $("book").textContent = "Move my booking here";
    $("picker").classList.remove("hidden"); $("service").focus();
  }
  async function reschedule(slot) {
    const path = api.replace(/[^/]+$/, "") + "bookings/" + encodeURIComponent(state.manageToken) + "/reschedule";
    const reply = await post(path, { startTime: slot.startTime });
    if (reply.status === 200 || reply.status === 201) return confirmed(reply.body.data);
    if (reply.body.alternatives) return offerAlternatives(slot, reply);
    showError(reply.status === 404 || reply.status === 405 ? "This booking cannot be moved online; please contact the business." : humanError(reply));
  }

  function reportHeight() {
    if (window.parent === window) return;
    const send = () => window.parent.postMessage({ type: "slotguard:height", slug: slug, height: document.documentElement.scrollHeight }, "*");
    new ResizeObserver(send).observe(document.body); send();
  }

  async function start() {
    reportHeight();
    const reply = await call(api);
    if (reply.status !== 200) return showError(humanError(reply));
    state.business = reply.body.data;
    document.title = "Book at " + state.business.name;
    $("title").textContent = "Book at " + state.business.name;
    const zone = state.business.timezone;
    $("zone-note").textContent = "Times are shown in " + zone + (customerZone && customerZone !== zone ? "; your own time (" + customerZone + ") is shown beside them." : ".");
    const today = todayIn(zone).split("-").map(Number);
    state.month = [today[0], today[1]];
    fillSelect($("service"), state.business.services.map((s) => [s.id, s.name + " (" + s.durationMinutes + " min)"]));
    $("service").addEventListener("change", onServiceChange);
    $("staff").addEventListener("change", resetDay);
    $("prev-month").addEventListener("click", () => shiftMonth(-1));
    $("next-month").addEventListener("click", () => shiftMonth(1));
    $("picker").addEventListener("submit", (event) => { event.preventDefault(); submit(state.time); });
    $("cancel-booking").addEventListener("click", cancelManaged);
    $("start-reschedule").addEventListener("click", startReschedule);
    onServiceChange();
    if (state.manageToken) return loadManaged();
    $("picker").classList.remove("hidden");
  }
  start();
})();
