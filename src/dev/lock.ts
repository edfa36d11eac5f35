import fs from 'node:fs';
import path from 'node:path';

/**
 * A pid file under `.data/` so a second `exportflow dev` says that one is running instead of failing on a port.
 * A stale file (its process is gone) is taken over.
 */
export function acquireDevLock(dataDir: string): { release: () => void } | { heldBy: number } {
  fs.mkdirSync(dataDir, { recursive: true });
  const file = path.join(dataDir, 'dev.pid');
  for (let tries = 0; tries < 2; tries++) {
    try {
      fs.writeFileSync(file, String(process.pid), { flag: 'wx' });
      return {
        release: () => {
          try {
            if (fs.readFileSync(file, 'utf8').trim() === String(process.pid)) fs.unlinkSync(file);
          } catch {
            // already gone
          }
        },
      };
    } catch {
      const pid = Number(fs.readFileSync(file, 'utf8').trim());
      if (Number.isInteger(pid) && pid > 0 && isAlive(pid)) return { heldBy: pid };
      fs.rmSync(file, { force: true });
    }
  }
  return { heldBy: -1 };
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
