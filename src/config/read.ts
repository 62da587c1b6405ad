// Reading a config file without waiting on it: a FIFO would block the daemon's one thread until
// something writes to it, and /dev/zero would fill its memory. Only a regular file is read.
import { closeSync, constants, fstatSync, openSync, readFileSync } from 'node:fs';

/** Far above any real config (1000 proxies take ~200 KB). */
export const MAX_CONFIG_BYTES = 16 * 1024 * 1024;

const fail = (code: string, message: string) => Object.assign(new Error(message), { code });

/**
 * YAML is UTF-8: a file saved in another encoding (Latin-1, say) would otherwise load with its bytes
 * turned into U+FFFD, a state_dir or an argument other than the one written.
 */
function utf8(bytes: Buffer): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    const text = bytes.toString('utf8');
    const line = text.slice(0, text.indexOf('\uFFFD')).split('\n').length;
    throw fail('EILSEQ', `not UTF-8 text (line ${line}), expected a YAML file in UTF-8`);
  }
}

/** The file's text; throws an error with a `code`: an errno's, or ENOTREG / EFBIG / EILSEQ from here. */
export function readConfigText(file: string): string {
  // O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer.
  const fd = openSync(file, constants.O_RDONLY | constants.O_NONBLOCK);
  try {
    const stat = fstatSync(fd);
    if (stat.isDirectory()) throw fail('EISDIR', `${file} is a directory`);
    if (!stat.isFile()) throw fail('ENOTREG', `${file} is not a regular file`);
    if (stat.size > MAX_CONFIG_BYTES) throw fail('EFBIG', `${file} is larger than ${MAX_CONFIG_BYTES} bytes`);
    return utf8(readFileSync(fd));
  } finally {
    closeSync(fd);
  }
}
