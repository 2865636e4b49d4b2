// Distances between located addresses, for the impossible-travel check.
import type { GeoLocation } from '../../ports/geo.js';

/** Mean Earth radius (IUGG), in kilometres. */
const EARTH_RADIUS_KM = 6371.0088;

const radians = (degrees: number): number => (degrees * Math.PI) / 180;

/** Great-circle distance in kilometres (haversine formula). */
export function distanceKm(
  a: { latitude: number; longitude: number },
  b: { latitude: number; longitude: number },
): number {
  const dLat = radians(b.latitude - a.latitude);
  const dLon = radians(b.longitude - a.longitude);
  const h =
    Math.sin(dLat / 2) ** 2 +
    Math.cos(radians(a.latitude)) * Math.cos(radians(b.latitude)) * Math.sin(dLon / 2) ** 2;
  return 2 * EARTH_RADIUS_KM * Math.asin(Math.min(1, Math.sqrt(h)));
}

/**
 * Geo data is approximate (a city, or the middle of a country), so nearby places are never
 * "impossible": distances up to this much, or up to the two accuracy radii added, count as none.
 */
export const MIN_TRAVEL_KM = 100;

export interface Travel {
  readonly distanceKm: number;
  readonly elapsedSeconds: number;
  readonly speedKmh: number;
}

/**
 * The travel between two located uses `elapsedMs` apart, or null when the data cannot tell
 * (no coordinates) or the places are within the data's accuracy of each other.
 */
export function travelBetween(
  from: GeoLocation,
  to: GeoLocation,
  elapsedMs: number,
): Travel | null {
  if (from.latitude === null || from.longitude === null) return null;
  if (to.latitude === null || to.longitude === null) return null;
  const km = distanceKm(
    { latitude: from.latitude, longitude: from.longitude },
    { latitude: to.latitude, longitude: to.longitude },
  );
  const slack = Math.max(MIN_TRAVEL_KM, (from.accuracyRadiusKm ?? 0) + (to.accuracyRadiusKm ?? 0));
  if (km <= slack) return null;
  // Two uses in the same instant: treat as one second apart, so the speed stays finite.
  const elapsedSeconds = Math.max(1, elapsedMs / 1000);
  return {
    distanceKm: Math.round(km),
    elapsedSeconds: Math.round(elapsedSeconds),
    speedKmh: Math.round(km / (elapsedSeconds / 3600)),
  };
}
