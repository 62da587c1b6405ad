// The state directory's layout, besides state.db (src/store/sqlite.ts): the typed proxies' generated
// server configs, one file per proxy named after its id. generate.ts names them, the store tightens
// the directory, the daemon sweeps out those of proxies no longer configured.
import { join } from 'node:path';
import { PROXY_ID } from './config/proxy-id.ts';

export const generatedDir = (stateDir: string) => join(stateDir, 'generated');

export const generatedFile = (stateDir: string, id: string, ext: 'json' | 'conf') => join(generatedDir(stateDir), `${id}.${ext}`);

/** Whether `name` is one the daemon gives a generated file, or its temporary copy (files.ts's replace()). */
export function isGeneratedName(name: string): boolean {
  const match = /^(.+)\.(json|conf)(\.tmp-\d+)?$/.exec(name);
  return match !== null && PROXY_ID.test(match[1]);
}
