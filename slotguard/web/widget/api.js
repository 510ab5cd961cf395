// The widget's HTTP calls: JSON in and out, one Idempotency-Key per attempt, and a human message per error.

export async function call(path, options) {
  try {
    const reply = await fetch(path, options);
    const body = await reply.json().catch(() => ({}));
    return { status: reply.status, body: body };
  } catch (_) {
    return { status: 0, body: {} };
  }
}

// A write whose outcome we never learned (the connection dropped, the server was busy): clicking again
// repeats it with the same key, so the server replays a booking it did make instead of making another.
let unanswered = null;

export async function post(path, body) {
  const text = JSON.stringify(body);
  if (!unanswered || unanswered.path !== path || unanswered.text !== text) unanswered = { path: path, text: text, key: newKey() };
  const attempt = unanswered;
  const headers = { "Content-Type": "application/json", "Idempotency-Key": attempt.key };
  const reply = await call(path, { method: "POST", headers: headers, body: text });
  if (unanswered === attempt && !outcomeUnknown(reply)) unanswered = null;
  return reply;
}

function outcomeUnknown(reply) {
  const code = ((reply.body && reply.body.error) || {}).code;
  return reply.status === 0 || reply.status >= 500 || reply.status === 429 || code === "IDEMPOTENCY_IN_PROGRESS";
}

function newKey() {
  if (crypto.randomUUID) return crypto.randomUUID();
  // randomUUID needs a secure context; a self-hosted server on plain HTTP still has getRandomValues.
  return Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, "0")).join("");
}

export function errorCode(reply) {
  return ((reply.body && reply.body.error) || {}).code;
}

export function humanError(reply) {
  const error = (reply.body && reply.body.error) || {};
  if (reply.status === 0) return "We could not reach the booking service. Check your connection and try again.";
  if (error.code === "VALIDATION_ERROR") {
    const fields = (reply.body.details || []).map((d) => String(d.field || d.loc || "").split(".").pop()).filter(Boolean);
    return "Please check " + (fields.length ? fields.join(", ") : "the form") + ": " + error.message + ".";
  }
  if (error.code === "NOT_FOUND") return "This business, service or booking no longer exists.";
  if (error.code === "INVALID_TRANSITION") return "This booking can no longer be changed online (" + error.message + ").";
  if (error.code === "PAYMENT_PROVIDER_ERROR") return "The payment service did not answer, so nothing was booked or charged. Please try again.";
  if (error.code === "RATE_LIMITED" || error.code === "SERVICE_UNAVAILABLE" || error.code === "IDEMPOTENCY_IN_PROGRESS") {
    return "We are very busy right now. Please try again in a moment.";
  }
  return "Something went wrong (" + (error.message || "status " + reply.status) + "). Your details are kept; please try again.";
}
