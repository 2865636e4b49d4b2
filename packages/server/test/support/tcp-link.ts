// A TCP relay in front of a service (Redis, PostgreSQL) that a fault test controls: cut it (every
// connection dropped, new ones refused) and restore it on the same port, as a network partition
// that resets; or stall the connections open now (their bytes stop flowing both ways while the
// sockets stay open, new ones pass), as a partition that drops packets.
import { connect, createServer, type Server, type Socket } from 'node:net';
import { freePort } from './instances.js';

export class TcpLink {
  private readonly flowing = new Set<[Socket, Socket]>();
  private readonly stalled = new Set<Socket>();
  private server: Server | null = null;

  private constructor(
    readonly port: number,
    private readonly targetUrl: string,
    private readonly target: { host: string; port: number },
  ) {}

  /** A link to the host and port of `targetUrl` (`defaultPort` when the URL names none). */
  static async open(targetUrl: string, defaultPort: number): Promise<TcpLink> {
    const target = new URL(targetUrl);
    const link = new TcpLink(await freePort(), targetUrl, {
      host: target.hostname,
      port: Number(target.port || defaultPort),
    });
    await link.restore();
    return link;
  }

  /** The target's URL with the link's address in place of the target's: credentials kept. */
  url(targetUrl = this.targetUrl): string {
    const url = new URL(targetUrl);
    url.hostname = '127.0.0.1';
    url.port = String(this.port);
    return url.toString();
  }

  async restore(): Promise<void> {
    if (this.server) return;
    const server = createServer((client) => {
      const upstream = connect(this.target.port, this.target.host);
      const pair: [Socket, Socket] = [client, upstream];
      this.flowing.add(pair);
      for (const socket of pair) {
        socket.on('error', () => undefined);
        socket.on('close', () => {
          this.flowing.delete(pair);
          client.destroy();
          upstream.destroy();
        });
      }
      client.pipe(upstream);
      upstream.pipe(client);
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
    this.server = server;
  }

  /** Drops every connection and refuses new ones until `restore()`. */
  async cut(): Promise<void> {
    const server = this.server;
    this.server = null;
    for (const socket of this.stalled) socket.destroy();
    for (const pair of this.flowing) for (const socket of pair) socket.destroy();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Stalls every connection open now; returns how many. */
  stallOpenConnections(): number {
    const count = this.flowing.size;
    for (const [client, upstream] of this.flowing) {
      client.unpipe(upstream);
      upstream.unpipe(client);
      client.pause();
      upstream.pause();
      this.stalled.add(client).add(upstream);
    }
    this.flowing.clear();
    return count;
  }
}
