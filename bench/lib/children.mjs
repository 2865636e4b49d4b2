// Child processes for the servers under test and the microbenchmarks: forked with an IPC channel,
// ready when they say so, asked for measurements by message, stopped by PID. Every child is
// registered with the cleanup module, so none outlives the benchmark, even after a crash.
import { fork } from 'node:child_process';
import { clearTimeout } from 'node:timers';
import { onCleanup } from './cleanup.mjs';

const READY_TIMEOUT_MS = 30_000;
const CALL_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 5_000;

/**
 * Forks `script` (an .mjs file using lib/child-ipc.mjs) and resolves once it reports ready.
 * The child's stdout and stderr both go to our stderr, so stdout stays the report.
 */
export async function startChild(
  script,
  { name = script, args = [], env = {}, execArgv = [] } = {},
) {
  const child = fork(script, args, {
    stdio: ['ignore', 2, 2, 'ipc'],
    env: { ...process.env, ...env },
    execArgv,
    serialization: 'advanced',
  });
  const handle = new Child(name, child);
  try {
    await handle.ready();
  } catch (error) {
    handle.kill();
    throw error;
  }
  return handle;
}

class Child {
  #process;
  #pending = new Map();
  #nextId = 1;
  #exited;
  #readyInfo;
  #unregister;

  constructor(name, child) {
    this.name = name;
    this.pid = child.pid;
    this.#process = child;
    this.#unregister = onCleanup(`kill ${name} (pid ${child.pid})`, () => this.kill());
    this.#exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        for (const { reject, timer } of this.#pending.values()) {
          clearTimeout(timer);
          reject(new Error(`${name} exited (code ${code}, signal ${signal})`));
        }
        this.#pending.clear();
        resolve({ code, signal });
      });
    });
    this.#readyInfo = new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`${name} not ready within ${READY_TIMEOUT_MS / 1000} s`)),
        READY_TIMEOUT_MS,
      );
      child.on('message', (message) => {
        if (message?.type === 'ready') {
          clearTimeout(timer);
          resolve(message.info);
        } else if (message?.type === 'reply') {
          this.#settle(message);
        }
      });
      void this.#exited.then(({ code, signal }) => {
        clearTimeout(timer);
        reject(new Error(`${name} exited before it was ready (code ${code}, signal ${signal})`));
      });
    });
    // Readiness failures surface through ready(); avoid an unhandled rejection after that.
    this.#readyInfo.catch(() => {});
  }

  /** Whatever the child passed to ready(): e.g. its URL. */
  async ready() {
    this.info = await this.#readyInfo;
    return this.info;
  }

  get url() {
    return this.info?.url;
  }

  get running() {
    return this.#process.exitCode === null && this.#process.signalCode === null;
  }

  /** Calls handler `method` in the child and resolves with its result. */
  call(method, payload, timeoutMs = CALL_TIMEOUT_MS) {
    if (!this.running) return Promise.reject(new Error(`${this.name} is not running`));
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(new Error(`${this.name}: ${method} got no answer within ${timeoutMs / 1000} s`));
      }, timeoutMs);
      this.#pending.set(id, { resolve, reject, timer });
      this.#process.send({ type: 'call', id, method, payload });
    });
  }

  #settle({ id, ok, result, error }) {
    const pending = this.#pending.get(id);
    if (!pending) return;
    this.#pending.delete(id);
    clearTimeout(pending.timer);
    if (ok) pending.resolve(result);
    else pending.reject(new Error(`${this.name}: ${error}`));
  }

  /** Asks the child to shut down cleanly; kills it (SIGKILL, by PID) if it does not exit in time. */
  async stop() {
    if (this.running) {
      try {
        await this.call('shutdown', undefined, STOP_TIMEOUT_MS);
      } catch {
        // It may exit before it answers, or not answer at all: the wait below decides.
      }
      const exited = await Promise.race([
        this.#exited.then(() => true),
        new Promise((resolve) => setTimeout(resolve, STOP_TIMEOUT_MS, false)),
      ]);
      if (!exited) this.kill();
    }
    this.#unregister();
    await this.#exited;
  }

  /** Immediate SIGKILL of this child's PID, if it is still running. Synchronous. */
  kill() {
    if (this.running) this.#process.kill('SIGKILL');
  }
}
