import { Transform } from 'node:stream';

export function prettyLogs(stdout?: { isTTY?: boolean }): boolean;
export function prettyStream(name: string, options?: { destination?: number | NodeJS.WritableStream; colorize?: boolean }): Transform | undefined;
