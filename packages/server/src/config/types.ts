// The validated, frozen configuration every other module receives. All durations are whole
// seconds here, whatever form the operator wrote them in.

export type Strategy = 'session' | 'jwt' | 'hybrid';
export type SigningAlgorithm = 'EdDSA' | 'ES256' | 'RS256' | 'HS256';
export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
/** What a risk signal does (see core/risk/risk-engine.ts): nothing, record it, or end the session. */
export type RiskAction = 'off' | 'audit' | 'revoke' | 'reauthenticate';

export interface ClientConfig {
  readonly id: string;
  readonly strategy: Strategy;
  /** `aud` of the access tokens issued to this client; defaults to the issuer. */
  readonly audience: string;
  readonly allowedOrigins: readonly string[];
  /** Access-token lifetime for this client; defaults to `tokens.accessTtl`. */
  readonly accessTtl: number;
  readonly singleSession: boolean;
}

export interface ResourceServerConfig {
  readonly id: string;
  readonly secret: string;
}

export interface Argon2Parameters {
  /** KiB */
  readonly memoryCost: number;
  readonly timeCost: number;
  readonly parallelism: number;
}

export interface LatchkeyConfig {
  readonly issuer: string;
  readonly host: string;
  readonly port: number;
  readonly dataDir: string;
  /** `null` means the embedded SQLite database in `dataDir`. */
  readonly databaseUrl: string | null;
  /** Seconds; PostgreSQL only; 0 means no limit. */
  readonly databaseStatementTimeout: number;
  readonly redisUrl: string | null;
  /** Proxies (addresses, CIDR ranges) whose X-Forwarded-For is believed; `false`: none. */
  readonly trustProxy: false | readonly string[];
  readonly logLevel: LogLevel;
  readonly cookies: {
    readonly sameSite: 'lax' | 'strict';
    /** Derived: true whenever the issuer is https. */
    readonly secure: boolean;
  };
  readonly session: {
    readonly idleTtl: number;
    readonly absoluteTtl: number;
    readonly maxPerUser: number | null;
    readonly onLimit: 'deny' | 'evictOldest';
  };
  readonly tokens: {
    readonly algorithm: SigningAlgorithm;
    readonly hs256Secret: string | null;
    readonly accessTtl: number;
    readonly refreshIdleTtl: number;
    readonly refreshAbsoluteTtl: number;
    readonly refreshReuseGrace: number;
  };
  readonly passwords: {
    readonly minLength: number;
    readonly maxLength: number;
    /** Worker threads that hash passwords; hashes beyond this queue. */
    readonly hashConcurrency: number;
    readonly argon2: Argon2Parameters;
  };
  readonly keys: {
    /** How often a running server re-reads signing keys from storage (rotation by the CLI). */
    readonly reloadInterval: number;
    /** Encrypts private signing keys at rest; `null` stores them plain. */
    readonly encryptionSecret: string | null;
  };
  readonly throttle: {
    readonly accountFreeFailures: number;
    readonly ipFreeFailures: number;
    readonly firstDelay: number;
    readonly maxDelay: number;
    readonly accountHardLimit: number;
    readonly hardLimitWait: number;
    readonly signupsPerIpPerHour: number;
  };
  readonly rateLimits: {
    readonly refreshPerMinute: number;
    readonly defaultPerMinute: number;
  };
  readonly audit: {
    readonly retention: number;
  };
  readonly risk: {
    readonly enabled: boolean;
    /** Path of a MaxMind DB file (GeoLite2/GeoIP2 City or Country); `null`: no geo data. */
    readonly geoDatabase: string | null;
    readonly maxTravelSpeedKmh: number;
    /** Seconds a known device is remembered after its last login. */
    readonly forgetDevicesAfter: number;
    readonly actions: {
      readonly userAgentChanged: RiskAction;
      readonly networkChanged: RiskAction;
      readonly impossibleTravel: RiskAction;
      readonly newDevice: RiskAction;
      /** Reuse always ends the family (API.md); `off` only leaves out the suspicious_activity event. */
      readonly refreshTokenReused: 'revoke' | 'off';
    };
  };
  readonly clients: readonly ClientConfig[];
  readonly resourceServers: readonly ResourceServerConfig[];
}
