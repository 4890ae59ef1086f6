import { EventEmitter } from 'node:events';
import { Logger } from '@nestjs/common';

/** Logs each distinct connection error once, and the recovery after it: ioredis reports every failed reconnect. */
export function logConnectionErrors(client: EventEmitter, logger: Logger, label: string): void {
  let lastError = '';
  client.on('error', (error: Error) => {
    if (error.message !== lastError) logger.warn(`${label}: ${error.message}`);
    lastError = error.message;
  });
  client.on('ready', () => {
    if (lastError) logger.log(`${label}: connection restored`);
    lastError = '';
  });
}
