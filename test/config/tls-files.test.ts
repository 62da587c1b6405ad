// A typed trojan entry's certificate and key, read as the file is loaded: what trojan would refuse
// at its start is said by validate and refuses a reload that would start it.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { parseConfigText } from '../../src/config/load.ts';
import { selfSignedCert } from '../proxies/helpers.ts';
import { describeWith } from '../support/binaries.ts';
import { FILE, withProxies } from './helpers.ts';

const problems = (cert: string, key: string) =>
  parseConfigText(withProxies(`{ id: tj, type: trojan, local_port: 4430, password: [p], cert: "${cert}", key: "${key}" }`), FILE)
    .unexecutable;

describeWith(['/usr/bin/openssl'])('trojan cert and key', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pm-tls-'));
  const pair = selfSignedCert(dir);
  mkdirSync(join(dir, 'other'));
  const other = selfSignedCert(join(dir, 'other'));
  writeFileSync(join(dir, 'junk.pem'), 'not a certificate\n');

  it('a matching pair is fine', () => {
    expect(problems(pair.cert, pair.key)).toEqual([]);
  });

  it('names the key and what trojan would refuse: missing, not PEM, another certificate’s key', () => {
    const key = (k: 'cert' | 'key') => `proxy.proxies[0].${k}`;
    expect(problems(join(dir, 'missing.pem'), pair.key)).toEqual([
      { id: 'tj', key: key('cert'), why: `cannot read ${join(dir, 'missing.pem')}: no such file` },
    ]);
    expect(problems(join(dir, 'junk.pem'), pair.key)).toEqual([
      { id: 'tj', key: key('cert'), why: `${join(dir, 'junk.pem')}: not a PEM certificate` },
    ]);
    expect(problems(pair.cert, dir)).toEqual([{ id: 'tj', key: key('key'), why: `cannot read ${dir}: is a directory` }]);
    expect(problems(pair.cert, pair.cert)).toEqual([
      { id: 'tj', key: key('key'), why: `${pair.cert}: not a PEM private key (or one with a passphrase)` },
    ]);
    expect(problems(pair.cert, other.key)).toEqual([
      { id: 'tj', key: key('key'), why: `${other.key} is not the private key of the certificate ${pair.cert}` },
    ]);
  });
});
