// The test MaxMind DB writer, checked with the `maxmind` reader itself, and the geo adapter that
// reads an operator's database.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { after, describe, it } from 'node:test';
import { Reader, open } from 'maxmind';
import { MaxMindGeoResolver } from '../../src/adapters/geo/maxmind.js';
import { COUNTRY_ONLY_IP, PLACES, geoFixture, writeGeoFixture } from '../support/geo-fixture.js';
import { encodeValue, uint16, uint32, uint64, writeMmdb } from '../support/mmdb-writer.js';

void describe('test MaxMind DB writer', () => {
  void it('encodes fields as the format specification shows them', () => {
    // Examples from the MaxMind DB spec, "Data Field Format".
    assert.deepEqual(encodeValue('ab'), Buffer.from([0x42, 0x61, 0x62]));
    assert.deepEqual(encodeValue(uint16(0)), Buffer.from([0xa0]));
    assert.deepEqual(encodeValue(uint32(0x1234)), Buffer.from([0xc2, 0x12, 0x34]));
    // Extended types: the control byte says 0, the next byte holds type - 7.
    assert.deepEqual(encodeValue(uint64(1)), Buffer.from([0x01, 0x02, 0x01]));
    assert.deepEqual(encodeValue(true), Buffer.from([0x01, 0x07]));
    assert.deepEqual(encodeValue([]), Buffer.from([0x00, 0x04]));
    // A 29-byte string needs the size's first extra byte.
    assert.deepEqual(encodeValue('x'.repeat(29)).subarray(0, 2), Buffer.from([0x5d, 0x00]));
  });

  void it('writes an IPv6 database with IPv4 networks that the maxmind reader reads back', () => {
    const reader = new Reader(geoFixture(6));
    assert.equal(reader.metadata.ipVersion, 6);
    assert.equal(reader.metadata.recordSize, 24);
    assert.equal(reader.metadata.databaseType, 'Latchkey-Test-City');
    const paris = reader.get(PLACES.paris.ip) as unknown as {
      country: { iso_code: string };
      location: { latitude: number; longitude: number; accuracy_radius: number };
    };
    assert.deepEqual(paris, {
      country: { iso_code: 'FR' },
      location: { latitude: 48.8566, longitude: 2.3522, accuracy_radius: 20 },
    });
    const [, prefix] = reader.getWithPrefixLength('203.0.113.200');
    assert.equal(prefix, 24);
    assert.equal(
      (reader.get(PLACES.tokyo.ip) as { country?: { iso_code: string } }).country?.iso_code,
      'JP',
    );
    assert.equal(reader.get('192.0.3.1'), null);
    assert.equal(reader.get('2001:db8:2::1'), null);
  });

  void it('writes an IPv4-only database', () => {
    const reader = new Reader(geoFixture(4));
    assert.equal(reader.metadata.ipVersion, 4);
    const berlin = reader.get(PLACES.berlin.ip) as { country: { iso_code: string } };
    assert.equal(berlin.country.iso_code, 'DE');
    assert.equal(reader.get('8.8.8.8'), null);
  });

  void it('refuses overlapping networks and IPv6 in an IPv4 database', () => {
    const data = { a: 'b' };
    assert.throws(() =>
      writeMmdb({
        ipVersion: 4,
        networks: [
          { network: '192.0.2.0/24', data },
          { network: '192.0.2.0/25', data },
        ],
      }),
    );
    assert.throws(() =>
      writeMmdb({ ipVersion: 4, networks: [{ network: '2001:db8::/32', data }] }),
    );
  });
});

void describe('MaxMind geo resolver', () => {
  const v6 = writeGeoFixture(6);
  const v4 = writeGeoFixture(4);
  after(() => {
    v6.remove();
    v4.remove();
  });

  void it('opens with the maxmind package and locates addresses', async () => {
    // The maxmind package's own open() agrees with the fixture file.
    const viaPackage = await open(v6.path);
    assert.ok(viaPackage.get(PLACES.newYork.ip));
    const geo = await MaxMindGeoResolver.open(v6.path, { watch: false });
    try {
      assert.deepEqual(geo.locate(PLACES.newYork.ip), {
        country: 'US',
        latitude: 40.7128,
        longitude: -74.006,
        accuracyRadiusKm: 20,
      });
      assert.equal(geo.locate(PLACES.tokyo.ip)?.country, 'JP');
      // Dual-stack sockets report IPv4 clients as IPv4-mapped IPv6.
      assert.equal(geo.locate(`::ffff:${PLACES.berlin.ip}`)?.country, 'DE');
      assert.deepEqual(geo.locate(COUNTRY_ONLY_IP), {
        country: 'NL',
        latitude: null,
        longitude: null,
        accuracyRadiusKm: null,
      });
      assert.equal(geo.locate('127.0.0.1'), null);
      assert.equal(geo.locate('not an address'), null);
    } finally {
      geo.close();
    }
  });

  void it('answers null for IPv6 addresses against an IPv4-only database', async () => {
    const geo = await MaxMindGeoResolver.open(v4.path, { watch: false });
    try {
      assert.equal(geo.locate(PLACES.paris.ip)?.country, 'FR');
      assert.equal(geo.locate(PLACES.tokyo.ip), null);
    } finally {
      geo.close();
    }
  });

  void it('refuses a file that is not a MaxMind database', async () => {
    const bogus = `${v6.path}.bogus`;
    writeFileSync(bogus, 'not a database');
    await assert.rejects(MaxMindGeoResolver.open(bogus, { watch: false }));
    writeFileSync(bogus, Buffer.from([0x1f, 0x8b, 0x08, 0x00]));
    await assert.rejects(MaxMindGeoResolver.open(bogus, { watch: false }), /gzip/);
    await assert.rejects(MaxMindGeoResolver.open(`${v6.path}.missing`, { watch: false }));
  });
});
