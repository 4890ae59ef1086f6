import { Writable } from 'node:stream';
import { prettyLogs, prettyStream } from '../scripts/pretty-logs';

/** `npm start` shows readable logs at a terminal only (scripts/pretty-logs.js); no TTY is needed to check that. */
describe('npm start logs', () => {
  it('are readable at a terminal and JSON anywhere else', () => {
    expect(prettyLogs({ isTTY: true })).toBe(true);
    expect(prettyLogs({ isTTY: false })).toBe(false);
    expect(prettyLogs({})).toBe(false);
  });

  it("turn a process's JSON lines into readable ones with its name and context, and pass other lines as they are", async () => {
    let output = '';
    const destination = new Writable({
      write(chunk: Buffer, _encoding, done) {
        output += chunk.toString();
        done();
      },
    });
    const finished = new Promise((resolve) => destination.on('finish', resolve));
    const sut = prettyStream('worker', { destination, colorize: false })!;

    const line = { level: 30, time: Date.UTC(2026, 0, 2, 3, 4, 5), pid: 42, hostname: 'box', service: 'worker', context: 'JobRetention', msg: 'deleted finished jobs', records: 3 };
    sut.write(`${JSON.stringify(line)}\n`);
    sut.write('not a log line\n');
    sut.end();
    await finished;

    expect(output).toMatch(/INFO.*worker \[JobRetention\] deleted finished jobs/);
    expect(output).toContain('records: 3');
    expect(output).toContain('not a log line');
    expect(output).not.toMatch(/hostname|"level"|pid/);
  });
});
