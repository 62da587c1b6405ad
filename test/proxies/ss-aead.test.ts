// The shadowsocks AEAD framing against published values: OpenSSL's EVP_BytesToKey and the
// XChaCha20 draft's HChaCha20 vector. Interoperability with ss-server is in shadowsocks-probe.test.ts.
import { describe, expect, it } from 'vitest';
import { probeShadowsocks } from '../../src/health/shadowsocks.ts';
import { AEAD_METHODS, createOpener, createSealer, hchacha20, masterKey } from '../../src/health/ss-aead.ts';

describe('key derivation', () => {
  it('derives the master key as `openssl enc -md md5 -nosalt -k PASSWORD -P` does', () => {
    // openssl enc -aes-256-cbc -k 'pass word' -nosalt -md md5 -P
    expect(masterKey('pass word', 32).toString('hex').toUpperCase()).toBe(
      '4AC6430A17D0215B3052B15C879D48BC1A30DBEF25CE4D001A29C45C526890A5',
    );
    expect(masterKey('pass word', 16).toString('hex').toUpperCase()).toBe('4AC6430A17D0215B3052B15C879D48BC');
  });

  it('computes HChaCha20 as in draft-irtf-cfrg-xchacha-03, section 2.2.1', () => {
    const key = Buffer.from(Array.from({ length: 32 }, (_, i) => i));
    const input = Buffer.from('000000090000004a0000000031415927', 'hex');
    expect(hchacha20(key, input).toString('hex')).toBe('82413b4227b27bfed30e42508a877d73a0f9e4d58a74a853c12ec41326d3ecdc');
  });
});

describe.each(AEAD_METHODS)('%s stream', (method) => {
  it('opens what it sealed, in chunks of at most 0x3fff bytes, however the bytes arrive', () => {
    const seal = createSealer(method, 'pw');
    const open = createOpener(method, 'pw');
    const data = Buffer.alloc(40_000, 7);
    const wire = Buffer.concat([seal(data), seal(Buffer.from('tail'))]);
    // salt + 3 chunks for 40 000 bytes + 1 chunk for "tail", each chunk 2+16 and n+16 bytes
    const salt = method.startsWith('aes-128') ? 16 : method.startsWith('aes-192') ? 24 : 32;
    expect(wire.length).toBe(salt + 4 * (18 + 16) + 40_004);
    const out: Buffer[] = [];
    for (let at = 0; at < wire.length; at += 1000) out.push(open(wire.subarray(at, at + 1000)));
    expect(Buffer.concat(out).equals(Buffer.concat([data, Buffer.from('tail')]))).toBe(true);
  });

  it('refuses a stream sealed with another password', () => {
    const wire = createSealer(method, 'right')(Buffer.from('hello'));
    expect(() => createOpener(method, 'wrong')(wire)).toThrow();
  });

  it('refuses a tampered chunk', () => {
    const wire = createSealer(method, 'pw')(Buffer.from('hello'));
    wire[wire.length - 1] ^= 1;
    expect(() => createOpener(method, 'pw')(wire)).toThrow();
  });

  it('uses a fresh salt per stream', () => {
    const a = createSealer(method, 'pw')(Buffer.from('x'));
    const b = createSealer(method, 'pw')(Buffer.from('x'));
    expect(a.equals(b)).toBe(false);
  });
});

it('the probe reports a method it does not speak as a failed check, not an exception', async () => {
  const check = { kind: 'shadowsocks' as const, host: '127.0.0.1', port: 1, password: 'pw', method: 'rc4-md5' };
  expect(await probeShadowsocks(check, { timeoutMs: 1_000 })).toMatchObject({ ok: false, error: 'unsupported shadowsocks method rc4-md5' });
});
