// The owner's live stream (server-sent events over fetch(), because EventSource cannot send the
// Authorization header). Reconnects with Last-Event-ID, so nothing committed meanwhile is missed.
import { base, key } from "./api.js";
import { $ } from "./dom.js";

export function listen(onEntry) {
  let lastEventId = null;
  let controller = null;
  let stopped = false;
  (async () => {
    while (!stopped && key()) {
      controller = new AbortController();
      const headers = { Authorization: "Bearer " + key(), Accept: "text/event-stream" };
      if (lastEventId) headers["Last-Event-ID"] = lastEventId;
      try {
        const reply = await fetch(base + "/events", { headers, signal: controller.signal });
        if (reply.status === 401 || reply.status === 403) return;
        if (!reply.ok) throw new Error(String(reply.status));
        $("live").textContent = "Live: changes appear as they happen.";
        const reader = reply.body.pipeThrough(new TextDecoderStream()).getReader();
        let buffer = "";
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buffer += value;
          let end;
          while ((end = buffer.indexOf("\n\n")) >= 0) {
            const block = buffer.slice(0, end);
            buffer = buffer.slice(end + 2);
            let data = null;
            for (const line of block.split("\n")) {
              if (line.startsWith("id: ")) lastEventId = line.slice(4);
              if (line.startsWith("data: ")) data = line.slice(6);
            }
            if (data && /^event: booking$/m.test(block)) onEntry(JSON.parse(data));
          }
        }
      } catch (_) {
        if (stopped || !key()) return;
        $("live").textContent = "Reconnecting…";
      }
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
  })();
  return () => { stopped = true; if (controller) controller.abort(); };
}
