"""The randomized invariant checker behind `slotguard verify`.

Concurrent clients run a random mix of the public operations against a fixture business: book a time
(named or any staff; of a service that needs only staff, or one that needs a lift of a set too), book a
repeat series of such times and cancel the rest of a series, hold a time and book it with the hold,
hold seats, book seats (with or without a hold), pay-later checkouts of seats and of times, signed
payment webhooks (completed or expired, some delivered twice or three times, some after the checkout
lapsed), cancels and reschedules by manage token, and reads of the shown seats. Meanwhile opt-in faults
terminate the server's PostgreSQL connections, SIGKILL worker processes (which the server's supervisor
restarts), and restart the database server or fail it over to its standby with the operator's own
command. Every request and reply is logged, and so is every database restart and failover.

Afterwards (once every hold and checkout has lapsed) the stored state is read through the owner API,
the clean-up job is run, and it is read again; the judge holds it against the log:

- no two active appointments of one staff member overlap, nor of one resource; no slot has more guests
  than seats;
- every acknowledged series is stored whole, every stored series was taken at once with one staff
  member, and cancelling the rest of a series cancels every occurrence still active;
- the `remaining` shown is capacity minus the guests of active bookings, before and after clean-up; the
  stored counter never exceeds it, and equals it once clean-up has run;
- every acknowledged booking is stored, in the status and place the log explains (each reply applied in
  turn; a request without reply may or may not have taken effect);
- nothing is stored for a 409 or 503 (a 503 answered while the database restarted may or may not have
  taken effect: its COMMIT may have landed just before the shutdown), and every payment event took
  effect exactly once;
- no reply outside the contract (a 500, an unexpected code, or a dropped connection unless workers are
  being killed).

Modules: `log` (the entries), `clients` (the fixture and the operations), `faults`, `judge`, `runner`.
"""

from __future__ import annotations

from slotguard.verify.faults import FaultPlan
from slotguard.verify.judge import StoredState, judge
from slotguard.verify.log import Entry, log_lines
from slotguard.verify.runner import VerifyPlan, VerifyReport, run

__all__ = ["Entry", "FaultPlan", "StoredState", "VerifyPlan", "VerifyReport", "judge", "log_lines", "run"]
