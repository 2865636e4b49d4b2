// A deliberately small user-agent reader: the browser family and the operating system family, no
// versions. Risk checks ask only "is this still the same kind of client?": a browser update keeps
// its family, a cookie replayed from a script or another operating system does not.

export interface UserAgentFamily {
  /** `Chrome`, `Firefox`, `Safari`, `Edge`, `Opera`, `Samsung Internet`, `IE`, or `Other`. */
  readonly browser: string;
  /** `Windows`, `macOS`, `iOS`, `Android`, `ChromeOS`, `Linux`, or `Other`. */
  readonly os: string;
}

// Order matters: Chromium-based browsers also say "Chrome" and "Safari"; Chrome says "Safari".
const BROWSERS: ReadonlyArray<readonly [RegExp, string]> = [
  [/\bEdg(?:e|A|iOS)?\//, 'Edge'],
  [/\b(?:OPR|Opera|OPT)\//, 'Opera'],
  [/\bSamsungBrowser\//, 'Samsung Internet'],
  [/\b(?:Firefox|FxiOS)\//, 'Firefox'],
  [/\b(?:Chrome|Chromium|CriOS)\//, 'Chrome'],
  [/\bVersion\/[\d.]+.*\bSafari\//, 'Safari'],
  [/\b(?:MSIE |Trident\/)/, 'IE'],
];

const SYSTEMS: ReadonlyArray<readonly [RegExp, string]> = [
  [/\b(?:iPhone|iPad|iPod)\b/, 'iOS'],
  [/\bAndroid\b/, 'Android'],
  [/\bCrOS\b/, 'ChromeOS'],
  [/\bWindows\b/, 'Windows'],
  [/\bMac OS X\b|\bMacintosh\b/, 'macOS'],
  [/\bLinux\b|\bX11\b/, 'Linux'],
];

const OTHER: UserAgentFamily = { browser: 'Other', os: 'Other' };

/** The family of a User-Agent header. A missing header and an unrecognised one are both `Other`. */
export function userAgentFamily(userAgent: string | null): UserAgentFamily {
  if (userAgent === null || userAgent === '') return OTHER;
  const browser = BROWSERS.find(([pattern]) => pattern.test(userAgent))?.[1] ?? 'Other';
  const os = SYSTEMS.find(([pattern]) => pattern.test(userAgent))?.[1] ?? 'Other';
  return { browser, os };
}

export function sameFamily(a: UserAgentFamily, b: UserAgentFamily): boolean {
  return a.browser === b.browser && a.os === b.os;
}

/**
 * userAgentFamily with a bounded memo: a busy server sees the same few hundred header values over
 * and over, and the checks run on every refresh and cookie request.
 */
export class UserAgentFamilies {
  private readonly memo = new Map<string, UserAgentFamily>();

  constructor(private readonly maxEntries = 2_000) {}

  of(userAgent: string | null): UserAgentFamily {
    if (userAgent === null) return OTHER;
    const known = this.memo.get(userAgent);
    if (known) return known;
    const family = userAgentFamily(userAgent);
    // A full memo starts over rather than tracking recency: cheap, and the hot values return.
    if (this.memo.size >= this.maxEntries) this.memo.clear();
    this.memo.set(userAgent, family);
    return family;
  }
}
