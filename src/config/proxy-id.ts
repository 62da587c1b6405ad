// What a proxy's id may be: the config checks it, and the CLI checks an id before it goes into an API
// path (no zod here: the CLI must start fast). Beginning with a letter or digit, "." and "..", which a
// URL resolves as path segments, are never ids.
export const PROXY_ID = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

export const PROXY_ID_EXPECTED = 'expected 1-64 letters, digits, "_", "." or "-", starting with a letter or digit';
