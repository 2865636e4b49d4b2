// The README's framework examples are complete programs: each one runs here, unchanged, in its
// own process against a fake issuer, and must answer 401 without a token and 200 with one.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { AUDIENCE, CREDENTIAL, FakeIssuer } from './support/fake-issuer.js';

const root = new URL('../../', import.meta.url); // packages/verifier/
const readme = readFileSync(new URL('README.md', root), 'utf8');
const examples = [...readme.matchAll(/<!-- runnable: (\S+) -->\s*```js\n([\s\S]*?)```/g)].map(
  (match) => ({ name: match[1]!, code: match[2]! }),
);
// Inside the package, so `@latchkey/verifier` resolves as it does for users.
const directory = new URL('dist/readme-examples/', root);

/** Starts the example; resolves with its port once it says it is listening. */
function run(
  file: URL,
  env: Record<string, string>,
): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(process.execPath, [file.pathname], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return new Promise((resolve, reject) => {
    let output = '';
    const timer = setTimeout(() => {
      child.kill();
      reject(new Error(`example did not start: ${output}`));
    }, 10_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const port = /listening on (\d+)/.exec(output)?.[1];
      if (port) {
        clearTimeout(timer);
        resolve({ child, port: Number(port) });
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`example exited with ${code}: ${output}`));
    });
  });
}

describe('README examples', () => {
  let issuer: FakeIssuer;
  before(async () => {
    issuer = await FakeIssuer.start();
    mkdirSync(directory, { recursive: true });
  });
  after(() => issuer.close());

  it('has one runnable example per framework', () => {
    assert.deepEqual(
      examples.map((e) => e.name),
      ['node-http.mjs', 'express.mjs', 'fastify.mjs', 'hono.mjs'],
    );
  });

  for (const example of examples) {
    it(`${example.name} runs and authenticates`, async () => {
      const file = new URL(example.name, directory);
      writeFileSync(file, example.code);
      const { child, port } = await run(file, {
        LATCHKEY_ISSUER: issuer.url,
        LATCHKEY_AUDIENCE: AUDIENCE,
        LATCHKEY_RS_ID: CREDENTIAL.id,
        LATCHKEY_RS_SECRET: CREDENTIAL.secret,
        PORT: '0',
      });
      try {
        const url = `http://127.0.0.1:${port}/me`;
        const anonymous = await fetch(url);
        assert.equal(anonymous.status, 401);
        assert.equal(anonymous.headers.get('www-authenticate'), 'Bearer');
        const token = await issuer.sign(Date.now(), { sub: 'user-9', roles: ['reader'] });
        const authenticated = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
        assert.equal(authenticated.status, 200);
        assert.deepEqual(await authenticated.json(), { user: 'user-9', roles: ['reader'] });
        const forged = await fetch(url, { headers: { authorization: `Bearer ${token}x` } });
        assert.equal(forged.status, 401);
        assert.equal(forged.headers.get('www-authenticate'), 'Bearer error="invalid_token"');
      } finally {
        const exited = once(child, 'exit');
        child.kill();
        await exited;
      }
    });
  }
});
