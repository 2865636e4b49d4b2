// The package as users install it: one runtime dependency (jose), every entry point listed in
// `exports` and loadable by name, a core that needs nothing from Node or the server, and framework
// adapters that import their framework's types only.
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { describe, it } from 'node:test';

const root = new URL('../../', import.meta.url); // packages/verifier/
const manifest = JSON.parse(readFileSync(new URL('package.json', root), 'utf8')) as {
  name: string;
  dependencies: Record<string, string>;
  exports: Record<string, unknown>;
};

const ENTRY_POINTS: Record<string, string[]> = {
  '@latchkey/verifier': [
    'VerifierConfigError',
    'VerifierError',
    'authenticateRequest',
    'createVerifier',
  ],
  '@latchkey/verifier/node': ['createNodeAuthenticator'],
  '@latchkey/verifier/express': ['createExpressMiddleware'],
  '@latchkey/verifier/fastify': ['createFastifyHook'],
  '@latchkey/verifier/hono': ['createHonoMiddleware'],
};

function importsOf(file: URL): string[] {
  const source = readFileSync(file, 'utf8');
  return [...source.matchAll(/^\s*(?:import|export)\b[^'"]*?from\s+['"]([^'"]+)['"]/gm)].map(
    (match) => match[1]!,
  );
}

describe('package', () => {
  it('depends on jose only', () => {
    assert.equal(manifest.name, '@latchkey/verifier');
    assert.deepEqual(Object.keys(manifest.dependencies), ['jose']);
  });

  it('lists every entry point in exports, and each exports exactly its public names', async () => {
    assert.deepEqual(Object.keys(manifest.exports).sort(), [
      '.',
      './express',
      './fastify',
      './hono',
      './node',
      './package.json',
    ]);
    for (const [specifier, names] of Object.entries(ENTRY_POINTS)) {
      const module = (await import(specifier)) as Record<string, unknown>;
      assert.deepEqual(Object.keys(module).sort(), names, specifier);
    }
  });

  it('keeps internals unpublished', async () => {
    const internal: string = '@latchkey/verifier/dist/src/jwks.js';
    await assert.rejects(import(internal), {
      code: 'ERR_PACKAGE_PATH_NOT_EXPORTED',
    });
  });

  it('has a core that imports nothing but jose: no Node built-ins, no server code', () => {
    const src = new URL('dist/src/', root);
    for (const name of readdirSync(src).filter((n) => n.endsWith('.js'))) {
      for (const specifier of importsOf(new URL(name, src))) {
        assert.ok(
          specifier === 'jose' || specifier.startsWith('./'),
          `${name} imports ${specifier}`,
        );
      }
      const source = readFileSync(new URL(name, src), 'utf8');
      assert.doesNotMatch(source, /\b(Buffer|process|require)\b[.(]/, `${name} uses a Node global`);
    }
  });

  it('has adapters that load without their framework (type imports only)', () => {
    const adapters = new URL('dist/src/adapters/', root);
    for (const name of readdirSync(adapters).filter((n) => n.endsWith('.js'))) {
      for (const specifier of importsOf(new URL(name, adapters))) {
        assert.ok(specifier.startsWith('../'), `${name} imports ${specifier} at run time`);
      }
    }
  });
});
