// Layout of a time grid, with no DOM: which lane and which side-by-side column each entry takes, and
// the hours the grid must show. Kept pure so that drawing 300 bookings is one pass of arithmetic.

// Entries of one lane ({start, end} in minutes) → the same objects with `column` and `columns` set, so
// that overlapping ones sit side by side (a cancelled booking beside the one that took its time).
export function placeSideBySide(entries) {
  const sorted = entries.slice().sort((a, b) => a.start - b.start || b.end - a.end);
  let cluster = [];
  let clusterEnd = -1;
  const close = () => { const n = Math.max(1, ...cluster.map((e) => e.column + 1)); for (const e of cluster) e.columns = n; cluster = []; };
  for (const entry of sorted) {
    if (entry.start >= clusterEnd) { close(); clusterEnd = -1; }
    const taken = new Set(cluster.filter((e) => e.end > entry.start).map((e) => e.column));
    let column = 0;
    while (taken.has(column)) column++;
    entry.column = column;
    cluster.push(entry);
    clusterEnd = Math.max(clusterEnd, entry.end);
  }
  close();
  return sorted;
}

// The [first, last) hour the grid shows: working hours and every entry, at least 08:00–18:00.
export function hourRange(ranges) {
  let first = 8 * 60;
  let last = 18 * 60;
  for (const [start, end] of ranges) { first = Math.min(first, start); last = Math.max(last, end); }
  return [Math.floor(first / 60), Math.min(24, Math.ceil(last / 60))];
}
