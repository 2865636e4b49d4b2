// A small City-shaped MaxMind database for the risk tests, written with ./mmdb-writer.ts into a
// temporary file. Addresses come from the documentation and benchmarking ranges.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cityRecord, writeMmdb } from './mmdb-writer.js';

/** One address in each fixture place, and where it is. */
export const PLACES = {
  paris: { ip: '192.0.2.10', country: 'FR', latitude: 48.8566, longitude: 2.3522 },
  versailles: { ip: '198.18.0.10', country: 'FR', latitude: 48.8049, longitude: 2.1204 },
  berlin: { ip: '198.51.100.10', country: 'DE', latitude: 52.52, longitude: 13.405 },
  newYork: { ip: '203.0.113.10', country: 'US', latitude: 40.7128, longitude: -74.006 },
  tokyo: { ip: '2001:db8:1::10', country: 'JP', latitude: 35.6762, longitude: 139.6503 },
} as const;

/** A country-only record (as GeoLite2-Country has): no coordinates. */
export const COUNTRY_ONLY_IP = '198.18.1.10';

export function geoFixture(ipVersion: 4 | 6 = 6): Buffer {
  const city = (place: (typeof PLACES)[keyof typeof PLACES]) =>
    cityRecord(place.country, place.latitude, place.longitude);
  return writeMmdb({
    ipVersion,
    networks: [
      { network: '192.0.2.0/24', data: city(PLACES.paris) },
      { network: '198.18.0.0/24', data: city(PLACES.versailles) },
      { network: '198.51.100.0/24', data: city(PLACES.berlin) },
      { network: '203.0.113.0/24', data: city(PLACES.newYork) },
      { network: '198.18.1.0/24', data: { country: { iso_code: 'NL' } } },
      ...(ipVersion === 6 ? [{ network: '2001:db8:1::/48', data: city(PLACES.tokyo) }] : []),
    ],
  });
}

/** Writes the fixture to a fresh temporary file; `remove()` deletes it. */
export function writeGeoFixture(ipVersion: 4 | 6 = 6): { path: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'latchkey-geo-'));
  const path = join(dir, `fixture-v${ipVersion}.mmdb`);
  writeFileSync(path, geoFixture(ipVersion));
  return { path, remove: () => rmSync(dir, { recursive: true, force: true }) };
}
