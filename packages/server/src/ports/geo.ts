// Where an address is, for the impossible-travel check. Optional: without geo data the other risk
// signals still run. The shipped adapter reads a MaxMind DB file (adapters/geo/maxmind.ts).

export interface GeoLocation {
  /** ISO 3166-1 alpha-2, when the data has it. */
  readonly country: string | null;
  /** Degrees; `null` when the data has a country only (e.g. GeoLite2-Country). */
  readonly latitude: number | null;
  readonly longitude: number | null;
  /** Kilometres around the point within which the address is likely to be, when known. */
  readonly accuracyRadiusKm: number | null;
}

export interface GeoResolver {
  /** `null` for addresses the data does not cover (private ranges, loopback) and non-addresses. */
  locate(ip: string): GeoLocation | null;
  close(): void;
}
