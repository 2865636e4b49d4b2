// A verifier wired to a fresh fake issuer, with a manual clock and quick reconnects.
import type { Verifier } from '../../src/index.js';
import { createVerifier } from '../../src/index.js';
import type { RevocationOptions, VerifierOptions } from '../../src/options.js';
import { AUDIENCE, CREDENTIAL, FakeIssuer, ManualClock } from './fake-issuer.js';

export interface Fixture {
  readonly issuer: FakeIssuer;
  readonly clock: ManualClock;
  readonly verifier: Verifier;
  readonly warnings: string[];
  close(): Promise<void>;
}

type Overrides = Partial<Omit<VerifierOptions, 'revocations'>>;

export async function startFixture(
  options: {
    verifier?: Overrides;
    /** false: no feed at all. */
    feed?: Partial<RevocationOptions> | false;
    ready?: boolean;
    issuer?: FakeIssuer;
  } = {},
): Promise<Fixture> {
  const issuer = options.issuer ?? (await FakeIssuer.start());
  const clock = new ManualClock();
  const warnings: string[] = [];
  const feed = options.feed;
  const verifier = createVerifier({
    issuer: issuer.url,
    audience: AUDIENCE,
    ...(feed === false
      ? {}
      : {
          revocations: {
            credential: CREDENTIAL,
            reconnectDelay: { initial: 5, max: 20 },
            pollInterval: 20,
            streamRetryInterval: 60_000,
            ...feed,
          },
        }),
    now: clock.now,
    onWarning: (message) => warnings.push(message),
    requestTimeout: 1_000,
    readyTimeout: 3_000,
    ...options.verifier,
  });
  if (options.ready !== false) await verifier.ready();
  return {
    issuer,
    clock,
    verifier,
    warnings,
    async close() {
      await verifier.close();
      await issuer.close();
    },
  };
}

/** The error code of a refused token, or 'ok'. */
export async function outcome(verifier: Verifier, token: string): Promise<string> {
  const result = await verifier.verify(token);
  return result.ok ? 'ok' : result.error.code;
}
