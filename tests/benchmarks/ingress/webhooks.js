// Signed Standard Webhooks traffic (Salto event callbacks) against a local ingress, bounded in requests and time.
//
//   k6 run -e TARGET_URL=http://127.0.0.1:8088/webhooks/salto/<tenant> -e WEBHOOK_SECRET=whsec_... \
//          -e LOCKS=AP-1,AP-2 -e REQUESTS=3000 -e VUS=16 -e MAX_DURATION=30s -e SUMMARY_FILE=out.json webhooks.js
//
// Every request has a fresh webhook-id (the ingress refuses replays) and a current timestamp, signed with
// HMAC-SHA256 over `id.timestamp.body` exactly as a vendor signs it. tests/benchmarks/ingress_bench.py runs this
// script against the ingress and against a bare aiohttp handler, and compares the result with the baseline.
import http from 'k6/http';
import crypto from 'k6/crypto';
import encoding from 'k6/encoding';
import { check } from 'k6';

const TARGET_URL = __ENV.TARGET_URL;
const SECRET = __ENV.WEBHOOK_SECRET || 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const LOCKS = (__ENV.LOCKS || 'AP-1').split(',');
const KEY = encoding.b64decode(SECRET.replace(/^whsec_/, ''), 'std');

if (!TARGET_URL || !TARGET_URL.startsWith('http://127.')) {
  throw new Error('TARGET_URL must be a loopback URL: load tests only ever target this machine');
}

export const options = {
  scenarios: {
    webhooks: {
      executor: 'shared-iterations',
      vus: parseInt(__ENV.VUS || '16', 10),
      iterations: parseInt(__ENV.REQUESTS || '3000', 10),
      maxDuration: __ENV.MAX_DURATION || '30s',
    },
  },
  summaryTrendStats: ['avg', 'p(50)', 'p(95)', 'p(99)', 'max'],
  discardResponseBodies: true,
  thresholds: { checks: ['rate>0.99'] },
};

export default function () {
  const id = `msg_${__VU}_${__ITER}_${Date.now()}`;
  const timestamp = Math.floor(Date.now() / 1000);
  const body = JSON.stringify({
    id,
    type: 'accessPoint.online',
    occurredAt: new Date().toISOString(),
    accessPointId: LOCKS[__ITER % LOCKS.length],
  });
  const signature = crypto.hmac('sha256', KEY, `${id}.${timestamp}.${body}`, 'base64');
  const response = http.post(TARGET_URL, body, {
    headers: {
      'content-type': 'application/json',
      'webhook-id': id,
      'webhook-timestamp': `${timestamp}`,
      'webhook-signature': `v1,${signature}`,
    },
  });
  check(response, { accepted: (r) => r.status === 202 });
}

export function handleSummary(data) {
  return { [__ENV.SUMMARY_FILE || 'k6-summary.json']: JSON.stringify(data) };
}
