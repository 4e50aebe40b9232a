import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { isBase32, Secret, SECRET_ENV_VARS, secretValues, type Secrets } from '../../src/core/secrets.js';

const VALUE = 'hunter2-s3cr3t';

describe('Secret', () => {
  const secret = new Secret(VALUE, 'env RUSTRO_PIN');

  it('reveal() gives the value', () => {
    expect(secret.reveal()).toBe(VALUE);
    expect(secret.source).toBe('env RUSTRO_PIN');
  });

  it('masks in String(), toString(), template strings and concatenation', () => {
    expect(String(secret)).toBe('***');
    expect(secret.toString()).toBe('***');
    expect(`pin=${secret}`).toBe('pin=***');
    expect('pin=' + secret).toBe('pin=***');
  });

  it('masks in JSON.stringify, alone and nested', () => {
    expect(JSON.stringify(secret)).toBe('"***"');
    const nested = JSON.stringify({ auth: { pin: secret }, list: [secret] });
    expect(nested).toBe('{"auth":{"pin":"***"},"list":["***"]}');
  });

  it('masks in util.inspect (console.log), alone and nested', () => {
    expect(inspect(secret)).toBe('***');
    const nested = inspect({ auth: { pin: secret } }, { depth: 10, showHidden: true });
    expect(nested).toContain('***');
    expect(nested).not.toContain(VALUE);
  });

  it('does not expose the value as an own property', () => {
    expect(Object.values(secret)).not.toContain(VALUE);
    expect(JSON.stringify({ ...secret })).not.toContain(VALUE);
  });
});

describe('helpers', () => {
  it('secretValues lists the plain values, in order', () => {
    const secrets: Secrets = {
      apiKey: new Secret('a'),
      clientCode: new Secret('b'),
      pin: new Secret('c'),
      totpSecret: new Secret('D'),
    };
    expect(secretValues(secrets)).toEqual(['a', 'b', 'c', 'D']);
  });

  it('names the environment variables', () => {
    expect(SECRET_ENV_VARS).toEqual(['RUSTRO_API_KEY', 'RUSTRO_CLIENT_CODE', 'RUSTRO_PIN', 'RUSTRO_TOTP_SECRET']);
  });

  it('isBase32 accepts base32 (any case, spaces, padding) and refuses the rest', () => {
    for (const ok of ['JBSWY3DPEHPK3PXP', 'jbswy3dpehpk3pxp', 'JBSW Y3DP EHPK 3PXP', 'MFRGG===', 'A2345672']) {
      expect(isBase32(ok), ok).toBe(true);
    }
    for (const bad of ['', '   ', 'JBSWY3DP1', 'JBSW0', 'AB=C', 'ABC-DEF', '====']) {
      expect(isBase32(bad), bad).toBe(false);
    }
  });
});
