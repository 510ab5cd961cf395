// Building DOM without HTML strings: text is always set with textContent, so nothing from the API is
// ever parsed as markup, and no inline script or style attribute is needed (a strict CSP holds).
export function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (name === "text") node.textContent = value;
    else if (name === "className") node.className = value;
    else if (name === "dataset") Object.assign(node.dataset, value);
    else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else if (value === true) node.setAttribute(name, "");
    else node.setAttribute(name, value);
  }
  for (const child of children.flat()) if (child !== null && child !== undefined && child !== false) node.append(child);
  return node;
}

export const $ = (id) => document.getElementById(id);

let fieldCount = 0;
// A labelled form field: { wrapper, input }. `options` (for a select) is [[value, label], ...].
export function field(label, attributes = {}, options = null) {
  const id = attributes.id || "f" + ++fieldCount;
  const input = options
    ? el("select", Object.assign({}, attributes, { id }), options.map(([value, text]) => el("option", { value, text })))
    : el(attributes.tag || "input", Object.assign({}, attributes, { id, tag: undefined }));
  if (attributes.value !== undefined && options) input.value = attributes.value;
  return { wrapper: el("div", { className: "field" }, el("label", { for: id, text: label }), input), input };
}

export function checkbox(label, attributes = {}) {
  const id = attributes.id || "f" + ++fieldCount;
  const input = el("input", Object.assign({ type: "checkbox" }, attributes, { id }));
  return { wrapper: el("div", { className: "check" }, input, el("label", { for: id, text: label })), input };
}

export function say(message, kind = "notice") {
  const box = $(kind === "error" ? "error" : "notice");
  box.textContent = message || "";
  box.classList.toggle("hidden", !message);
  if (message && kind !== "error") setTimeout(() => { if (box.textContent === message) say("", kind); }, 4000);
}
