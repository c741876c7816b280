// The image's HEALTHCHECK. One container runs one service, so the first port whose /healthz
// answers 200 is that service's; the ports come from the variables the services read.
const env = process.env;
const ports = [
  env.INGEST_PORT ?? '8080',
  env.WEBHOOKS_PORT ?? '8081',
  env.SYNC_WORKER_PORT ?? '8082',
  env.ASSIGNMENT_WORKER_PORT ?? '8083',
  env.REALTIME_PORT ?? '8084',
];

async function healthy(port) {
  try {
    const res = await fetch(`http://127.0.0.1:${port}/healthz`, { signal: AbortSignal.timeout(2_000) });
    return res.ok;
  } catch {
    return false;
  }
}

const results = await Promise.all(ports.map(healthy));
process.exit(results.some(Boolean) ? 0 : 1);
