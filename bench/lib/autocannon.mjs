// autocannon, driven from this process (the load generator), reduced to the numbers we report.
import autocannon from 'autocannon';

/**
 * Runs an optional warm-up, then the measured run. Returns
 * { rps, p50, p99, max, requests, non2xx, errors, timeouts, statusCodes, seconds }.
 * Latency comes from autocannon's histogram, which records whole milliseconds.
 */
export async function cannon({
  url,
  path = '/',
  method = 'GET',
  headers = {},
  body,
  connections = 50,
  seconds = 5,
  warmupSeconds = 0,
}) {
  const options = { url: new URL(path, url).href, method, headers, body, connections };
  if (warmupSeconds > 0) await run({ ...options, duration: warmupSeconds });
  const result = await run({ ...options, duration: seconds });
  const statusCodes = Object.fromEntries(
    Object.entries(result.statusCodeStats ?? {}).map(([code, { count }]) => [code, Number(count)]),
  );
  return {
    rps: result.requests.total / result.duration,
    p50: result.latency.p50,
    p99: result.latency.p99,
    max: result.latency.max,
    requests: result.requests.total,
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    statusCodes,
    seconds: result.duration,
  };
}

function run(options) {
  return new Promise((resolve, reject) => {
    autocannon({ ...options, timeout: 10 }, (error, result) =>
      error ? reject(error) : resolve(result),
    );
  });
}
