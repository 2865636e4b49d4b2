// A listening Latchkey server: services, HTTP app, background tasks, and an orderly close.
import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import type { LatchkeyConfig } from './config/types.js';
import { startBackgroundTasks } from './background.js';
import { REDACTED_PATHS, buildHttpApp, type HttpAppOptions } from './http/app.js';
import { createServices, type CreateServicesOptions, type LatchkeyServices } from './latchkey.js';

export interface RunningServer {
  readonly app: FastifyInstance;
  readonly services: LatchkeyServices;
  /** `http://host:port` actually bound (the port may have been 0). */
  readonly url: string;
  close(): Promise<void>;
}

export function createLogger(
  config: Pick<LatchkeyConfig, 'logLevel'>,
  destination?: NodeJS.WritableStream,
) {
  return pino(
    {
      level: config.logLevel,
      redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
      serializers: {
        // Query strings can carry personal data or a token (`?access_token=`, RFC 6750 2.3):
        // log the path only.
        req: (request: { method?: string; url?: string; id?: unknown }) => ({
          id: request.id,
          method: request.method,
          path: request.url?.split('?')[0],
        }),
      },
    },
    destination ?? process.stdout,
  );
}

export async function startServer(
  config: LatchkeyConfig,
  options: CreateServicesOptions & {
    logDestination?: NodeJS.WritableStream;
    http?: Pick<HttpAppOptions, 'streamHeartbeatMs'>;
  } = {},
): Promise<RunningServer> {
  const logger = createLogger(config, options.logDestination);
  const services = await createServices(config, options);
  const app = buildHttpApp(services, { logger, ...options.http });
  const tasks = startBackgroundTasks(services, logger);
  const address = await app.listen({ port: config.port, host: config.host });
  return {
    app,
    services,
    url: address,
    async close() {
      tasks.stop();
      await app.close();
      await services.close();
    },
  };
}
