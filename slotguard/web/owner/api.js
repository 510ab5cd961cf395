// The owner API, as any other client calls it: the API key from this tab's sessionStorage (never a URL),
// replies in the contract's envelope. A 401 or 403 signs the console out.
const slug = decodeURIComponent(location.pathname.split("/").filter(Boolean)[1] || "");
const storageKey = "slotguard-key:" + slug;
const listeners = { signedOut: [] };

export const base = "/api/v1/businesses/" + encodeURIComponent(slug);
export const publicBase = "/api/v1/public/" + encodeURIComponent(slug);
export { slug };

export const key = () => sessionStorage.getItem(storageKey);
export const setKey = (value) => sessionStorage.setItem(storageKey, value);
export const forgetKey = () => sessionStorage.removeItem(storageKey);
export const onSignedOut = (callback) => listeners.signedOut.push(callback);

// { status, body } for any reply; status 0 when the server could not be reached.
export async function call(path, options = {}) {
  const headers = Object.assign({ Authorization: "Bearer " + key() }, options.headers || {});
  if (options.json !== undefined) headers["Content-Type"] = "application/json";
  const init = { method: options.method || (options.json !== undefined ? "POST" : "GET"), headers };
  if (options.json !== undefined) init.body = JSON.stringify(options.json);
  try {
    const reply = await fetch(path.startsWith("/api/") ? path : base + path, init);
    const body = reply.status === 204 ? {} : await reply.json().catch(() => ({}));
    if (reply.status === 401 || reply.status === 403) for (const f of listeners.signedOut) f("That API key is not valid for this business.");
    return { status: reply.status, body };
  } catch (_) {
    return { status: 0, body: {} };
  }
}

// Every page of a list route, following nextCursor.
export async function listAll(path, params = {}) {
  const rows = [];
  let cursor = null;
  for (;;) {
    const query = new URLSearchParams(Object.assign({ limit: "1000" }, params, cursor ? { cursor } : {}));
    const reply = await call(path + "?" + query);
    if (reply.status !== 200) return { status: reply.status, body: reply.body, rows };
    rows.push(...reply.body.data);
    cursor = reply.body.meta && reply.body.meta.nextCursor;
    if (!cursor) return { status: 200, rows };
  }
}

// The contract's error as one readable line: message, then each field's detail.
export function problem(reply) {
  const error = (reply.body && reply.body.error) || {};
  const details = (reply.body && reply.body.details) || [];
  const text = error.message || (reply.status ? "Request failed (" + reply.status + ")" : "The server could not be reached");
  return [text, ...details.map((d) => (d.field ? d.field + ": " : "") + d.message)].join(" · ");
}
