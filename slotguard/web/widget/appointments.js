// Appointments: free start times of a staff member (or of anyone) on the business's grid; where the business
// allows it, a repeat series of them (widget/series.js).
import { clock } from "../times.js";
import { call, humanError, post } from "./api.js";
import { $, api, clientFields, confirmed, missingField, showError, zone } from "./page.js";
import { t } from "./i18n.js";
import { chosenRepeat, listSeries, showSeriesRefusal, submitLabel } from "./series.js";

const staffId = () => ($("staff").value === "any" ? null : $("staff").value);

function query(extra) {
  const query = new URLSearchParams(Object.assign({ serviceId: $("service").value }, extra));
  if (staffId()) query.set("staffId", staffId());
  return query;
}

export const appointments = {
  kind: "appointment",

  async freeDays(monthKey) {
    const reply = await call(api + "/free-days?" + query({ month: monthKey }));
    if (reply.status !== 200) return showError(humanError(reply));
    return new Set(reply.body.data.days);
  },

  async choices(day) {
    const reply = await call(api + "/availability?" + query({ date: day }));
    if (reply.status !== 200) return showError(humanError(reply));
    return reply.body.data.slots;
  },

  label: (opening) => clock(opening.startTime, zone()),
  available: () => true,
  seatsLeft: null,
  verb: () => "verb.book",
  submitLabel: submitLabel,

  async submit(opening) {
    const repeat = chosenRepeat();
    if (repeat === false || missingField()) return;
    $("book").disabled = true;
    const body = Object.assign({ serviceId: $("service").value, startTime: opening.startTime, staffId: staffId() }, clientFields());
    if (repeat) body.repeat = repeat;
    const reply = await post(api + "/book", body);
    $("book").disabled = false;
    if (reply.status === 201 && repeat) return seriesBooked(reply.body.data.bookings);
    if (reply.status === 201) return confirmed(reply.body.data, t("done.booked"));
    if (repeat && reply.body.conflicts) return showSeriesRefusal(reply.status, reply.body.conflicts, repeat.count);
    if (!reply.body.alternatives) return showError(humanError(reply));
    return { message: refusal(opening, reply.status), alternatives: reply.body.alternatives };
  },
};

function seriesBooked(bookings) {
  confirmed(bookings[0], t("done.series", { count: bookings.length }), bookings);
  listSeries(bookings);
}

export function refusal(opening, status) {
  return t(status === 409 ? "refused.taken" : "refused.gone", { time: clock(opening.startTime, zone()) });
}
