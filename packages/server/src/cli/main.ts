#!/usr/bin/env node
// The `latchkey` command: serve, migrate, keys rotate, users create.
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig } from '../config/load.js';
import type { LatchkeyConfig } from '../config/types.js';
import { runKeysRotate, runMigrate, runUsersCreate } from './commands.js';
import { startServer } from '../server.js';

const USAGE = `Usage: latchkey <command>

Commands:
  serve                                  run the server (default)
  migrate                                apply database migrations
  keys rotate                            sign with a new key from now on
  users create --email E [--role R]...   create a user; the password is read from standard input

Configuration: LATCHKEY_CONFIG names a JSON file; LATCHKEY_* variables override it.`;

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

async function serve(config: LatchkeyConfig): Promise<void> {
  const server = await startServer(config);
  server.app.log.info({ issuer: config.issuer }, `Latchkey listening on ${server.url}`);
  let closing = false;
  const shutdown = (signal: string) => {
    if (closing) return;
    closing = true;
    server.app.log.info({ signal }, 'shutting down');
    server.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
}

async function main(argv: string[]): Promise<number> {
  const [command = 'serve', ...rest] = argv;
  if (command === 'help' || command === '--help' || command === '-h') {
    console.log(USAGE);
    return 0;
  }
  const config = loadConfig({ env: process.env });
  switch (command) {
    case 'serve':
      await serve(config);
      return -1;
    case 'migrate':
      console.log(await runMigrate(config));
      return 0;
    case 'keys': {
      if (rest[0] !== 'rotate') break;
      console.log(await runKeysRotate(config));
      return 0;
    }
    case 'users': {
      if (rest[0] !== 'create') break;
      const { values } = parseArgs({
        args: rest.slice(1),
        options: { email: { type: 'string' }, role: { type: 'string', multiple: true } },
      });
      if (!values.email) {
        console.error('users create needs --email');
        return 2;
      }
      // Only the first line: `echo pw | latchkey users create` must not keep the newline.
      const password = (await readStdin()).split(/\r?\n/)[0] ?? '';
      const result = await runUsersCreate(config, values.email, password, values.role ?? []);
      if (!result.ok) {
        console.error(result.message);
        return 1;
      }
      console.log(result.message);
      return 0;
    }
  }
  console.error(USAGE);
  return 2;
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exit(code);
  },
  (error: unknown) => {
    // Config problems are the operator's to fix: say which key, no stack.
    if (error instanceof ConfigError) console.error(error.message);
    else console.error(error instanceof Error ? error.message : String(error));
    process.exit(1);
  },
);
