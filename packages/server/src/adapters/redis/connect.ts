// Redis connections from a URL. Plain `redis://` / `rediss://` for one server; Sentinel and
// Cluster deployments name several nodes:
//   redis+sentinel://[:password@]host1:26379,host2:26379/mymaster   (the master's name as path)
//   redis+cluster://[:password@]host1:6379,host2:6379
import { Cluster, Redis } from 'ioredis';

/**
 * Commands fail at once while disconnected (no offline queue): a cookie check must get a 503
 * now, not hang until Redis returns. ioredis keeps reconnecting in the background. A Redis that
 * hangs with the connection open (stopped, swapping, a silent network) fails commands after
 * `commandTimeout` instead of holding requests until TCP gives up.
 */
const COMMON = {
  enableOfflineQueue: false,
  maxRetriesPerRequest: 1,
  connectTimeout: 2000,
  commandTimeout: 1000,
  enableAutoPipelining: true,
  retryStrategy: (attempt: number) => Math.min(attempt * 100, 2000),
};

function nodes(hostList: string): Array<{ host: string; port: number }> {
  return hostList.split(',').map((entry) => {
    const [host = '', port = ''] = entry.split(':');
    return { host, port: Number(port) };
  });
}

export function connectRedis(url: string): Redis | Cluster {
  const parsed = /^(redis\+sentinel|redis\+cluster):\/\/(?::([^@]*)@)?([^/]+)(?:\/(.*))?$/.exec(
    url,
  );
  if (!parsed) return new Redis(url, COMMON);
  const [, scheme, password, hosts = '', name] = parsed;
  const auth = password ? { password: decodeURIComponent(password) } : {};
  if (scheme === 'redis+sentinel') {
    return new Redis({ ...COMMON, ...auth, sentinels: nodes(hosts), name: name ?? 'mymaster' });
  }
  return new Cluster(nodes(hosts), {
    redisOptions: { ...COMMON, ...auth },
    enableOfflineQueue: false,
  });
}

export type RedisConnection = Redis | Cluster;

/**
 * Resolves once connected, or after `timeoutMs` regardless: a server may start while Redis is
 * away (Bearer verification needs no Redis; cookie checks answer 503 until it returns).
 */
export function waitForRedis(connection: RedisConnection, timeoutMs: number): Promise<boolean> {
  if (connection.status === 'ready') return Promise.resolve(true);
  return new Promise((resolve) => {
    const done = (ready: boolean) => {
      clearTimeout(timer);
      connection.off('ready', onReady);
      resolve(ready);
    };
    const onReady = () => done(true);
    const timer = setTimeout(() => done(false), timeoutMs);
    connection.once('ready', onReady);
  });
}
