// state_dir deleted under a running daemon (rm -rf, an over-eager cleanup): history would go into
// deleted files, and a second daemon could lock the recreated path and run every proxy twice. The
// lock file's inode tells: watched with inotify (noticed at once) and polled (should an event be lost).
import { watch, type FSWatcher } from 'node:fs';

export interface StateDirWatch {
  /** Watch the directory again (after it was recreated). */
  rearm(): void;
  close(): void;
}

export function watchStateDir(dir: string, inPlace: () => boolean, onGone: () => void, pollMs = 1_000): StateDirWatch {
  let watcher: FSWatcher | undefined;
  const check = () => {
    if (!inPlace()) onGone();
  };
  const rearm = () => {
    watcher?.close();
    try {
      watcher = watch(dir, { persistent: false }, check).on('error', check);
    } catch {
      watcher = undefined; // the directory is gone already: the poll sees it
    }
  };
  rearm();
  const timer = setInterval(check, pollMs).unref();
  return {
    rearm,
    close() {
      clearInterval(timer);
      watcher?.close();
    },
  };
}
