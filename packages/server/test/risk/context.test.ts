// The per-request context the risk checks compare: network prefixes, user-agent families and
// distances between places.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { distanceKm, travelBetween } from '../../src/core/risk/geo.js';
import { networkOf, parseAddress } from '../../src/core/risk/network.js';
import { UserAgentFamilies, userAgentFamily } from '../../src/core/risk/user-agent.js';

void describe('networkOf', () => {
  void it('takes the /24 of an IPv4 address', () => {
    assert.equal(networkOf('192.0.2.77'), '192.0.2.0/24');
    assert.equal(networkOf('10.1.2.3'), '10.1.2.0/24');
  });

  void it('takes the /48 of an IPv6 address, expanding "::" wherever it stands', () => {
    assert.equal(networkOf('2001:db8:1:2:3:4:5:6'), '2001:db8:1::/48');
    assert.equal(networkOf('2001:db8::1'), '2001:db8:0::/48');
    assert.equal(networkOf('2001:0DB8:00AB::'), '2001:db8:ab::/48');
    assert.equal(networkOf('::1'), '0:0:0::/48');
    assert.equal(networkOf('::'), '0:0:0::/48');
    assert.equal(networkOf('fe80::1%eth0'), 'fe80:0:0::/48');
    assert.equal(networkOf('2001:db8:1:ffff::'), networkOf('2001:db8:1::9'));
  });

  void it('reads IPv4-mapped IPv6 (dual-stack sockets) as the IPv4 address it is', () => {
    assert.equal(networkOf('::ffff:192.0.2.77'), '192.0.2.0/24');
    assert.equal(networkOf('::ffff:c000:24d'), '192.0.2.0/24');
    assert.deepEqual(parseAddress('::ffff:198.51.100.7'), { family: 4, octets: [198, 51, 100, 7] });
  });

  void it('answers null for anything that is not an address', () => {
    for (const value of [null, '', 'localhost', '192.0.2', '192.0.2.300', '1:2:3', 'not an ip']) {
      assert.equal(networkOf(value), null, String(value));
    }
  });
});

void describe('userAgentFamily', () => {
  const cases: Array<[string, string, string]> = [
    [
      'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36',
      'Chrome',
      'Windows',
    ],
    [
      'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36 Edg/124.0.2478.51',
      'Edge',
      'Windows',
    ],
    [
      'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15',
      'Safari',
      'macOS',
    ],
    ['Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0', 'Firefox', 'Linux'],
    [
      'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1',
      'Safari',
      'iOS',
    ],
    [
      'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/124.0.6367.88 Mobile/15E148 Safari/604.1',
      'Chrome',
      'iOS',
    ],
    [
      'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Mobile Safari/537.36',
      'Chrome',
      'Android',
    ],
    [
      'Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/24.0 Chrome/117.0.0.0 Mobile Safari/537.36',
      'Samsung Internet',
      'Android',
    ],
    [
      'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36 OPR/109.0.0.0',
      'Opera',
      'Windows',
    ],
    [
      'Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36',
      'Chrome',
      'ChromeOS',
    ],
    ['Mozilla/5.0 (Windows NT 10.0; Trident/7.0; rv:11.0) like Gecko', 'IE', 'Windows'],
    ['curl/8.5.0', 'Other', 'Other'],
    ['python-requests/2.31.0', 'Other', 'Other'],
  ];

  void it('names the browser and operating system families of common agents', () => {
    for (const [agent, browser, os] of cases) {
      assert.deepEqual(userAgentFamily(agent), { browser, os }, agent);
    }
  });

  void it('keeps the family across versions, and treats a missing header as Other', () => {
    const v1 = userAgentFamily(
      'Mozilla/5.0 (X11; Linux x86_64; rv:115.0) Gecko/20100101 Firefox/115.0',
    );
    const v2 = userAgentFamily(
      'Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0',
    );
    assert.deepEqual(v1, v2);
    assert.deepEqual(userAgentFamily(null), { browser: 'Other', os: 'Other' });
    assert.deepEqual(userAgentFamily(''), { browser: 'Other', os: 'Other' });
  });

  void it('memoises within a bound', () => {
    const families = new UserAgentFamilies(2);
    const agent = cases[0]![0];
    assert.equal(families.of(agent), families.of(agent));
    families.of('a');
    families.of('b');
    assert.deepEqual(families.of(agent), { browser: 'Chrome', os: 'Windows' });
  });
});

void describe('distances', () => {
  const paris = { latitude: 48.8566, longitude: 2.3522 };
  const newYork = { latitude: 40.7128, longitude: -74.006 };

  void it('computes great-circle distances (haversine)', () => {
    // Paris to New York is about 5,837 km.
    assert.ok(Math.abs(distanceKm(paris, newYork) - 5837) < 10, String(distanceKm(paris, newYork)));
    assert.equal(distanceKm(paris, paris), 0);
    // Antipodes: half the Earth's circumference.
    const half = distanceKm({ latitude: 0, longitude: 0 }, { latitude: 0, longitude: 180 });
    assert.ok(Math.abs(half - Math.PI * 6371.0088) < 0.001);
  });

  void it('measures travel only beyond the accuracy of the data', () => {
    const at = (p: typeof paris, radius: number | null = 20) => ({
      country: null,
      ...p,
      accuracyRadiusKm: radius,
    });
    const travel = travelBetween(at(paris), at(newYork), 3_600_000);
    assert.ok(travel);
    assert.equal(travel.elapsedSeconds, 3600);
    assert.ok(Math.abs(travel.speedKmh - 5837) < 10);
    // 17 km apart: within the data's accuracy, so no travel at all.
    assert.equal(
      travelBetween(at(paris), at({ latitude: 48.8049, longitude: 2.1204 }), 1000),
      null,
    );
    // A country-only location has no coordinates.
    const countryOnly = { country: 'FR', latitude: null, longitude: null, accuracyRadiusKm: null };
    assert.equal(travelBetween(countryOnly, at(newYork), 1000), null);
    // The same instant counts as one second, so the speed stays finite.
    assert.equal(travelBetween(at(paris), at(newYork), 0)?.elapsedSeconds, 1);
  });
});
