// Seed 000's load test against slotguard: 100 virtual users book the same time of one staff member at once.
// Passing means exactly 1 booking succeeded (201), 99 got 409 TIME_CONFLICT, and nothing else happened;
// k6 exits non-zero if any threshold fails.
//
//   k6 run -e BASE_URL=http://127.0.0.1:8000 -e SLUG=demo -e SERVICE_ID=… -e STAFF_ID=… \
//          -e START_TIME=2030-01-07T10:00:00Z scripts/load-test-booking.js
//
// SLUG, SERVICE_ID and STAFF_ID come from `slotguard demo` (or `slotguard business create` plus the owner
// API). START_TIME must be a free, bookable time of that staff member (see GET /api/v1/public/{slug}/availability);
// a time that is already taken gives 0 successes and fails the run. VUS (default 100) changes the crowd size.

import http from 'k6/http';
import { check } from 'k6';
import { Counter } from 'k6/metrics';

const successes = new Counter('booking_successes');
const conflicts = new Counter('booking_conflicts');
const errors = new Counter('booking_errors');

const VUS = parseInt(__ENV.VUS || '100', 10);

export const options = {
  scenarios: {
    double_booking_test: {
      executor: 'per-vu-iterations', // every VU fires exactly one request, all at the same moment
      vus: VUS,
      iterations: 1,
      maxDuration: '60s',
    },
  },
  thresholds: {
    booking_successes: ['count==1'],
    booking_conflicts: [`count==${VUS - 1}`],
    booking_errors: ['count==0'],
  },
};

const BASE_URL = (__ENV.BASE_URL || 'http://127.0.0.1:8000').replace(/\/$/, '');
const SLUG = __ENV.SLUG || 'demo';
const SERVICE_ID = __ENV.SERVICE_ID || '';
const STAFF_ID = __ENV.STAFF_ID || '';
const START_TIME = __ENV.START_TIME || '';

export function setup() {
  if (!SERVICE_ID || !STAFF_ID || !START_TIME) {
    throw new Error('set SERVICE_ID, STAFF_ID and START_TIME (an ISO time with offset, e.g. 2030-01-07T10:00:00Z)');
  }
}

export default function () {
  const payload = JSON.stringify({
    serviceId: SERVICE_ID,
    staffId: STAFF_ID,
    startTime: START_TIME,
    firstName: 'Load',
    lastName: `Test${__VU}`,
    email: `loadtest-${__VU}-${Date.now()}@example.com`,
  });
  const res = http.post(`${BASE_URL}/api/v1/public/${SLUG}/book`, payload, {
    headers: { 'Content-Type': 'application/json' },
    responseCallback: http.expectedStatuses(201, 409),
  });

  let code = null;
  try {
    code = res.json('error.code');
  } catch (_) {
    // not JSON: counted as an error below
  }
  check(res, {
    'booked (201) or TIME_CONFLICT (409)': (r) => r.status === 201 || (r.status === 409 && code === 'TIME_CONFLICT'),
  });
  if (res.status === 201) {
    successes.add(1);
  } else if (res.status === 409 && code === 'TIME_CONFLICT') {
    conflicts.add(1);
  } else {
    errors.add(1);
    console.error(`unexpected reply ${res.status}: ${res.body}`);
  }
}

export function teardown() {
  console.log(`Expected: 1 success, ${VUS - 1} conflicts, 0 errors. More than 1 success means a double booking.`);
}
