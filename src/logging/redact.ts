// Secrets (passwords, keys, PSKs) must never reach a log line. The config loader knows which
// strings are secret; every free-form text we log (proxy output, error messages) passes through here.

export type Redactor = (text: string) => string;

export function createRedactor(secrets: Iterable<string>): Redactor {
  // Longest first, so a secret that contains another is replaced whole.
  const list = [...new Set(secrets)].filter((s) => s.length >= 3).sort((a, b) => b.length - a.length);
  if (list.length === 0) return (text) => text;
  return (text) => {
    let out = text;
    for (const secret of list) if (out.includes(secret)) out = out.split(secret).join('[REDACTED]');
    return out;
  };
}
