// The child side of lib/children.mjs: answer the parent's calls and never outlive it.

/**
 * Serves `handlers` (name → async function(payload)) to the parent. A `shutdown` handler, if
 * given, runs before the process exits on request. `onParentGone` (synchronous) runs if the
 * parent disappears without asking, e.g. after SIGKILL. Returns `ready(info)`.
 */
export function serveParent(handlers, { onParentGone } = {}) {
  if (typeof process.send !== 'function') {
    throw new Error('this script is started by bench/run.mjs (it needs an IPC channel)');
  }
  // The parent is gone (crashed, killed): nobody will stop us or clean up after us.
  process.on('disconnect', () => {
    try {
      onParentGone?.();
    } finally {
      process.exit(0);
    }
  });
  process.on('message', (message) => {
    if (message?.type !== 'call') return;
    void answer(handlers, message);
  });
  return {
    ready(info) {
      process.send({ type: 'ready', info });
    },
  };
}

async function answer(handlers, { id, method, payload }) {
  let reply;
  try {
    const handler = handlers[method];
    if (!handler && method !== 'shutdown') throw new Error(`unknown method ${method}`);
    const result = handler ? await handler(payload) : undefined;
    reply = { type: 'reply', id, ok: true, result };
  } catch (error) {
    reply = { type: 'reply', id, ok: false, error: error?.stack ?? String(error) };
  }
  if (method === 'shutdown') {
    process.send(reply, () => process.exit(0));
  } else {
    process.send(reply);
  }
}
