// `npm run docs`: rewrites the README's table of typed settings from the schema.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { withTypedSettings } from '../src/config/typed-docs.ts';

const file = join(import.meta.dirname, '..', 'README.md');
writeFileSync(file, withTypedSettings(readFileSync(file, 'utf8')));
process.stdout.write(`${file}: typed settings written\n`);
