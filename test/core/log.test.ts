import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/core/log.js';

function capture() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, cb) {
      lines.push(String(chunk));
      cb();
    },
  });
  return { lines, stream: stream as unknown as NodeJS.WritableStream & { write(s: string): boolean } };
}

describe('logger', () => {
  it('writes JSON lines when not on a TTY', () => {
    const c = capture();
    const log = createLogger({ level: 'info', format: 'auto', destination: c.stream, isTty: false });
    log.info({ event: 'DaemonStarted' }, 'started');
    log.debug('hidden at info');
    expect(c.lines).toHaveLength(1);
    const line = JSON.parse(c.lines[0]!);
    expect(line).toMatchObject({ level: 30, msg: 'started', event: 'DaemonStarted', app: 'rustro' });
  });

  it('redacts credential-shaped fields at any of the usual depths', () => {
    const c = capture();
    const log = createLogger({ level: 'info', format: 'json', destination: c.stream, isTty: false });
    const secrets = ['hunter2-pin', 'JBSWY3DPEHPK3PXP', 'key-abc-123', 'eyJhbGciOi.jwt', 'refresh-xyz', 'feed-tok'];
    log.info({ password: secrets[0], totp: secrets[1], apiKey: secrets[2] }, 'top level');
    log.info({ session: { jwtToken: secrets[3], refreshToken: secrets[4], feedToken: secrets[5] } }, 'nested');
    log.info({ req: { headers: { Authorization: `Bearer ${secrets[3]}`, 'X-PrivateKey': secrets[2] } } }, 'headers');
    const all = c.lines.join('');
    expect(c.lines).toHaveLength(3);
    for (const s of secrets) expect(all).not.toContain(s);
    expect(all).toContain('***');
  });

  it('prints readable lines in pretty mode', () => {
    const c = capture();
    const log = createLogger({ level: 'info', format: 'pretty', destination: c.stream, isTty: false });
    log.info('hello there');
    expect(c.lines.join('')).toMatch(/INFO.*hello there/);
    expect(() => JSON.parse(c.lines.join(''))).toThrow();
  });
});
