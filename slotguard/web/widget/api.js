// The widget's HTTP calls: JSON in and out, one Idempotency-Key per attempt, and a human message per error.
import { t } from "./i18n.js";

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
  if (reply.status === 0) return t("error.network");
  if (error.code === "VALIDATION_ERROR") {
    const fields = (reply.body.details || []).map((d) => String(d.field || d.loc || "").split(".").pop()).filter(Boolean);
    return t("error.fields", { fields: fields.length ? fields.join(", ") : "—" });
  }
  const sentences = { NOT_FOUND: "error.not_found", INVALID_TRANSITION: "error.transition", TOO_LATE_TO_CHANGE: "error.too_late",
    PAYMENT_PROVIDER_ERROR: "error.payment", RATE_LIMITED: "error.busy", SERVICE_UNAVAILABLE: "error.busy",
    IDEMPOTENCY_IN_PROGRESS: "error.busy", HOLD_EXPIRED: "offer.lapsed" };
  return t(sentences[error.code] || "error.other");
}
