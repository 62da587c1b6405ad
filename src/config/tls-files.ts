// A typed trojan entry's certificate and key are read by trojan at its start: one missing,
// unreadable or not PEM, or a key that is not the certificate's, makes trojan exit at once
// (`use_private_key_file: key values mismatch`) and be restarted to its hourly cap. They are read
// here as the file is loaded, so that `validate` warns of them and a reload that would start such a
// proxy is refused, as one whose program cannot be run is (executable.ts).
import { createPrivateKey, type KeyObject, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Unexecutable } from '../executable.ts';
import type { ProxyEntry } from './proxy-schema.ts';

const READ_ERRORS: Record<string, string> = { ENOENT: 'no such file', EACCES: 'permission denied', EISDIR: 'is a directory' };

/** The file's bytes, or why it cannot be read. */
function read(path: string): Buffer | string {
  try {
    return readFileSync(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? '';
    return `cannot read ${path}: ${READ_ERRORS[code] ?? (error as Error).message}`;
  }
}

/** What trojan would refuse in each typed trojan entry's `cert` and `key`, with the key that names it. */
export function tlsFileProblems(entries: ProxyEntry[]): Unexecutable[] {
  return entries.flatMap((e, index) => {
    if (e.type !== 'trojan' || 'command' in e) return [];
    const at = (key: 'cert' | 'key', why: string): Unexecutable[] => [{ id: e.id, key: `proxy.proxies[${index}].${key}`, why }];
    const certPem = read(e.cert);
    if (typeof certPem === 'string') return at('cert', certPem);
    let cert: X509Certificate;
    try {
      cert = new X509Certificate(certPem);
    } catch {
      return at('cert', `${e.cert}: not a PEM certificate`);
    }
    const keyPem = read(e.key);
    if (typeof keyPem === 'string') return at('key', keyPem);
    let key: KeyObject;
    try {
      key = createPrivateKey(keyPem);
    } catch {
      return at('key', `${e.key}: not a PEM private key (or one with a passphrase)`);
    }
    return cert.checkPrivateKey(key) ? [] : at('key', `${e.key} is not the private key of the certificate ${e.cert}`);
  });
}
