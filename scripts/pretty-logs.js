// `npm start` at a terminal: each process's JSON log lines made readable with pino-pretty. Anywhere else
// (a pipe, a file, a log collector) and in production (`npm run start:api`, `start:worker`) they stay JSON.
'use strict';

/** Readable logs only for a person at a terminal. */
function prettyLogs(stdout = process.stdout) {
  return stdout.isTTY === true;
}

/**
 * A stream that takes one process's stdout (pino's JSON lines) and writes them readable, each led by the
 * process's name and the logger's context; a line that is not JSON passes as it is. Undefined when
 * pino-pretty (a devDependency) is not installed: the logs then stay JSON.
 */
function prettyStream(name, { destination = 1, colorize } = {}) {
  let pretty;
  try {
    pretty = require('pino-pretty');
  } catch {
    return undefined;
  }
  return pretty({
    destination,
    // Synchronous, so the last lines before Ctrl-C are not lost.
    sync: true,
    colorize,
    translateTime: 'SYS:HH:MM:ss.l',
    ignore: 'pid,hostname,context,service',
    messageFormat: (log, messageKey) => `${name}${log.context ? ` [${log.context}]` : ''} ${log[messageKey] ?? ''}`,
  });
}

module.exports = { prettyLogs, prettyStream };
