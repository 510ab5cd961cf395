// One-tag embedding: <script src="https://YOUR-SLOTGUARD/embed.js" data-slug="your-business"></script>
// (add data-service="SERVICE-ID" to open on one service, e.g. a tour sold by slots).
// The widget renders in an iframe (the host page's CSS cannot reach it) and reports its height to us.
"use strict";
(function () {
  const tag = document.currentScript;
  const slug = tag.dataset.slug;
  const origin = new URL(tag.src).origin;
  const frame = document.createElement("iframe");
  frame.src = origin + "/book/" + encodeURIComponent(slug) + (tag.dataset.service ? "?service=" + encodeURIComponent(tag.dataset.service) : "");
  frame.title = tag.dataset.title || "Online booking";
  frame.style.cssText = "width:100%;max-width:44rem;border:0;display:block;height:640px;color-scheme:light";
  frame.setAttribute("loading", "lazy");
  window.addEventListener("message", function (event) {
    if (event.origin !== origin || event.source !== frame.contentWindow) return;
    const data = event.data || {};
    if (data.type === "slotguard:height" && Number.isFinite(data.height)) frame.style.height = Math.ceil(data.height) + "px";
  });
  tag.parentNode.insertBefore(frame, tag.nextSibling);
})();
