import { IncomingMessage } from 'node:http';
import { INestApplicationContext } from '@nestjs/common';
import { IoAdapter } from '@nestjs/platform-socket.io';
import { Server, ServerOptions } from 'socket.io';

export interface SocketIoAdapterOptions {
  /** appConfig.corsOrigins: `true` allows any origin. */
  corsOrigins: boolean | string[];
  /** Largest inbound message; a bigger one closes the connection (clients only listen). */
  maxMessageBytes: number;
}

/** Socket.IO on the API's HTTP server, with the configured origins and a small inbound message cap. */
export class SocketIoAdapter extends IoAdapter {
  constructor(
    app: INestApplicationContext,
    private readonly options: SocketIoAdapterOptions,
  ) {
    super(app);
  }

  override createIOServer(port: number, options?: Partial<ServerOptions>): Server {
    const { corsOrigins, maxMessageBytes } = this.options;
    return super.createIOServer(port, {
      ...options,
      serveClient: false,
      maxHttpBufferSize: maxMessageBytes,
      cors: { origin: corsOrigins, credentials: true },
      // CORS does not cover WebSocket upgrades: a browser page from another origin is refused here.
      allowRequest: (req: IncomingMessage, callback: (error: string | null, success: boolean) => void) =>
        callback(null, isAllowedOrigin(req.headers.origin, corsOrigins)),
    });
  }
}

/** Requests without an Origin header (scripts, servers) are not from a browser page and are allowed. */
export function isAllowedOrigin(origin: string | undefined, allowed: boolean | string[]): boolean {
  return origin === undefined || allowed === true || (Array.isArray(allowed) && allowed.includes(origin));
}
