// Geo data from a MaxMind DB file the operator provides (GeoLite2/GeoIP2 City, or Country for
// countries only), read with the `maxmind` package's reader. The whole file is held in memory and
// lookups are synchronous; they happen only at logins and when a session changes network, so no
// lookup cache. The file is re-read when it changes (monthly database updates); a file that
// cannot be read then leaves the previous data in use.
import { unwatchFile, watchFile, type Stats } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { Reader, type Response } from 'maxmind';
import { parseAddress } from '../../core/risk/network.js';
import type { GeoLocation, GeoResolver } from '../../ports/geo.js';

/** The fields Latchkey reads from a City or Country record. */
interface GeoRecord {
  readonly country?: { readonly iso_code?: unknown };
  readonly registered_country?: { readonly iso_code?: unknown };
  readonly location?: {
    readonly latitude?: unknown;
    readonly longitude?: unknown;
    readonly accuracy_radius?: unknown;
  };
}

/** How often the file's modification time is polled for updates. */
const WATCH_INTERVAL_MS = 60_000;

const finiteOrNull = (value: unknown): number | null =>
  typeof value === 'number' && Number.isFinite(value) ? value : null;

export function toGeoLocation(record: GeoRecord): GeoLocation | null {
  const iso = record.country?.iso_code ?? record.registered_country?.iso_code;
  const country = typeof iso === 'string' ? iso : null;
  let latitude = finiteOrNull(record.location?.latitude);
  let longitude = finiteOrNull(record.location?.longitude);
  if (latitude === null || longitude === null || Math.abs(latitude) > 90) {
    latitude = null;
    longitude = null;
  }
  if (country === null && latitude === null) return null;
  return {
    country,
    latitude,
    longitude,
    accuracyRadiusKm: finiteOrNull(record.location?.accuracy_radius),
  };
}

/** Parses a database; throws with a short reason when the bytes are not a MaxMind DB. */
async function readDatabase(path: string): Promise<Reader<Response>> {
  const buffer = await readFile(path);
  if (buffer[0] === 0x1f && buffer[1] === 0x8b) {
    throw new Error('the file is gzip-compressed: give the uncompressed .mmdb file');
  }
  return new Reader<Response>(buffer);
}

export class MaxMindGeoResolver implements GeoResolver {
  private readonly onChange: (current: Stats, previous: Stats) => void;

  private constructor(
    private readonly path: string,
    private reader: Reader<Response>,
    watch: boolean,
  ) {
    this.onChange = (current, previous) => {
      if (current.mtimeMs === previous.mtimeMs || current.size === 0) return;
      readDatabase(this.path)
        .then((reader) => {
          this.reader = reader;
        })
        // A half-written or removed file: keep answering from the data already loaded.
        .catch(() => undefined);
    };
    if (watch) {
      watchFile(path, { persistent: false, interval: WATCH_INTERVAL_MS }, this.onChange);
    }
  }

  /** Reads the database at `path`; rejects when it is missing or not a MaxMind DB. */
  static async open(path: string, options: { watch?: boolean } = {}): Promise<MaxMindGeoResolver> {
    return new MaxMindGeoResolver(path, await readDatabase(path), options.watch ?? true);
  }

  locate(ip: string): GeoLocation | null {
    const address = parseAddress(ip);
    if (!address) return null;
    // An IPv4-only database would answer an IPv6 address from its first 32 bits: wrong, not absent.
    if (address.family === 6 && this.reader.metadata.ipVersion === 4) return null;
    // IPv4-mapped IPv6 (dual-stack sockets) is looked up as the IPv4 address it is.
    const text =
      address.family === 4
        ? address.octets.join('.')
        : address.groups.map((group) => group.toString(16)).join(':');
    const record = this.reader.get(text);
    return record ? toGeoLocation(record as GeoRecord) : null;
  }

  close(): void {
    unwatchFile(this.path, this.onChange);
  }
}
