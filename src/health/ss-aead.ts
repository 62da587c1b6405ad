// The shadowsocks AEAD framing (SIP004), client side: a master key from the password
// (EVP_BytesToKey with MD5), a per-connection subkey (HKDF-SHA1 over a random salt, info "ss-subkey"),
// a little-endian nonce counter, and chunks [sealed 2-byte length][sealed payload], the first one
// preceded by the salt. Each direction has its own salt, subkey and counter.
import crypto from 'node:crypto';

interface Method {
  keySize: number;
  /** 12 for the IETF ciphers; XChaCha20 takes 24. */
  nonceSize: number;
  seal(key: Buffer, nonce: Buffer, plain: Buffer): Buffer;
  /** Throws when the tag does not match (wrong key). */
  open(key: Buffer, nonce: Buffer, sealed: Buffer): Buffer;
}

const TAG = 16;
const MAX_PAYLOAD = 0x3fff;

function nodeAead(algorithm: crypto.CipherGCMTypes | crypto.CipherChaCha20Poly1305Types, keySize: number): Method {
  return {
    keySize,
    nonceSize: 12,
    seal(key, nonce, plain) {
      const c = crypto.createCipheriv(algorithm as crypto.CipherGCMTypes, key, nonce, { authTagLength: TAG });
      return Buffer.concat([c.update(plain), c.final(), c.getAuthTag()]);
    },
    open(key, nonce, sealed) {
      const d = crypto.createDecipheriv(algorithm as crypto.CipherGCMTypes, key, nonce, { authTagLength: TAG });
      d.setAuthTag(sealed.subarray(sealed.length - TAG));
      return Buffer.concat([d.update(sealed.subarray(0, sealed.length - TAG)), d.final()]);
    },
  };
}

const SIGMA = Buffer.from('expand 32-byte k', 'latin1');

/**
 * HChaCha20 from Node's raw ChaCha20, which OpenSSL offers and XChaCha20 is not: a ChaCha20 block whose
 * 16-byte counter-and-nonce input is `input` equals the HChaCha20 state plus the input state. The words
 * HChaCha20 keeps (0-3: the constants, 12-15: the input) are known, so subtracting them gives its output.
 */
export function hchacha20(key: Buffer, input: Buffer): Buffer {
  const block = crypto.createCipheriv('chacha20', key, input).update(Buffer.alloc(64));
  const out = Buffer.alloc(32);
  for (let i = 0; i < 4; i++) {
    out.writeUInt32LE((block.readUInt32LE(4 * i) - SIGMA.readUInt32LE(4 * i)) >>> 0, 4 * i);
    out.writeUInt32LE((block.readUInt32LE(48 + 4 * i) - input.readUInt32LE(4 * i)) >>> 0, 16 + 4 * i);
  }
  return out;
}

/** XChaCha20-Poly1305 = ChaCha20-Poly1305 under an HChaCha20 subkey, nonce 0^4 || nonce[16..24]. */
function xchacha(): Method {
  const inner = nodeAead('chacha20-poly1305', 32);
  const split = (key: Buffer, nonce: Buffer) =>
    [hchacha20(key, nonce.subarray(0, 16)), Buffer.concat([Buffer.alloc(4), nonce.subarray(16, 24)])] as const;
  return {
    keySize: 32,
    nonceSize: 24,
    seal: (key, nonce, plain) => inner.seal(...split(key, nonce), plain),
    open: (key, nonce, sealed) => inner.open(...split(key, nonce), sealed),
  };
}

const METHODS: Record<string, Method> = {
  'aes-128-gcm': nodeAead('aes-128-gcm', 16),
  'aes-192-gcm': nodeAead('aes-192-gcm', 24),
  'aes-256-gcm': nodeAead('aes-256-gcm', 32),
  'chacha20-ietf-poly1305': nodeAead('chacha20-poly1305', 32),
  'xchacha20-ietf-poly1305': xchacha(),
};

export const AEAD_METHODS = Object.keys(METHODS);

/** OpenSSL's EVP_BytesToKey with MD5, one iteration, no salt: how shadowsocks turns a password into a key. */
export function masterKey(password: string, keySize: number): Buffer {
  const parts: Buffer[] = [];
  let prev = Buffer.alloc(0);
  for (let length = 0; length < keySize; length += prev.length) {
    prev = crypto.createHash('md5').update(prev).update(password, 'utf8').digest();
    parts.push(prev);
  }
  return Buffer.concat(parts).subarray(0, keySize);
}

const subkey = (method: Method, master: Buffer, salt: Buffer) =>
  Buffer.from(crypto.hkdfSync('sha1', master, salt, 'ss-subkey', method.keySize));

function counter(size: number) {
  const nonce = Buffer.alloc(size);
  return () => {
    const current = Buffer.from(nonce);
    for (let i = 0; i < size && ++nonce[i] === 256; i++) nonce[i] = 0; // little-endian increment
    return current;
  };
}

function methodOf(name: string): Method {
  const method = METHODS[name];
  if (!method) throw new Error(`unsupported shadowsocks method ${name}`);
  return method;
}

/** Seals the client's stream; the first call's output starts with the salt. */
export function createSealer(methodName: string, password: string) {
  const method = methodOf(methodName);
  const salt = crypto.randomBytes(method.keySize);
  const key = subkey(method, masterKey(password, method.keySize), salt);
  const nonce = counter(method.nonceSize);
  let first = true;
  return (data: Buffer): Buffer => {
    const out: Buffer[] = first ? [salt] : [];
    first = false;
    for (let at = 0; at < data.length; at += MAX_PAYLOAD) {
      const chunk = data.subarray(at, at + MAX_PAYLOAD);
      const length = Buffer.alloc(2);
      length.writeUInt16BE(chunk.length);
      out.push(method.seal(key, nonce(), length), method.seal(key, nonce(), chunk));
    }
    return Buffer.concat(out);
  };
}

/** Opens the server's stream as it arrives: returns the plaintext of every complete chunk so far. */
export function createOpener(methodName: string, password: string) {
  const method = methodOf(methodName);
  const master = masterKey(password, method.keySize);
  let key: Buffer | undefined;
  const nonce = counter(method.nonceSize);
  let pending = Buffer.alloc(0);
  let payloadLength: number | undefined;
  return (data: Buffer): Buffer => {
    pending = Buffer.concat([pending, data]);
    const out: Buffer[] = [];
    if (!key) {
      if (pending.length < method.keySize) return Buffer.alloc(0);
      key = subkey(method, master, pending.subarray(0, method.keySize));
      pending = pending.subarray(method.keySize);
    }
    for (;;) {
      if (payloadLength === undefined) {
        if (pending.length < 2 + TAG) break;
        payloadLength = method.open(key, nonce(), pending.subarray(0, 2 + TAG)).readUInt16BE(0) & MAX_PAYLOAD;
        pending = pending.subarray(2 + TAG);
      }
      if (pending.length < payloadLength + TAG) break;
      out.push(method.open(key, nonce(), pending.subarray(0, payloadLength + TAG)));
      pending = pending.subarray(payloadLength + TAG);
      payloadLength = undefined;
    }
    return Buffer.concat(out);
  };
}
