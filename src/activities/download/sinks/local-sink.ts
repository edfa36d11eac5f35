import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { validRanges } from '../ranges';
import type { FileSink, ResumePoint } from '../types';

const WRITE_BUFFER = 1024 * 1024;

/** A file in a local directory: `.<name>.part` -> fsync -> rename -> fsync of the directory. */
export class LocalFileSink implements FileSink {
  private readonly finalPath: string;
  private readonly partPath: string;
  private out: fs.WriteStream | undefined;
  private fd: number | undefined;

  constructor(
    private readonly dir: string,
    fileName: string,
  ) {
    this.finalPath = path.join(dir, fileName);
    this.partPath = path.join(dir, `.${fileName}.part`);
  }

  async usableResume(resume: ResumePoint | undefined): Promise<ResumePoint | undefined> {
    await fsp.mkdir(this.dir, { recursive: true });
    if (!resume || !hasProgress(resume)) return undefined;
    try {
      const stat = await fsp.stat(this.partPath);
      if (resume.ranges !== undefined) {
        // Several ranges: each continues where its heartbeat left it; later bytes are simply written over.
        if (!validRanges(resume.ranges, resume.total)) return undefined;
        return stat.size >= Math.max(...resume.ranges.map((r) => r.at)) ? resume : undefined;
      }
      if (stat.size < resume.offset) return undefined;
      // Bytes past the last heartbeat were never acknowledged; cut them and fetch them again.
      if (stat.size > resume.offset) await fsp.truncate(this.partPath, resume.offset);
      return resume;
    } catch {
      return undefined;
    }
  }

  async *readStored(offset: number): AsyncIterable<Buffer> {
    if (offset <= 0) return;
    for await (const chunk of fs.createReadStream(this.partPath, { start: 0, end: offset - 1 })) yield chunk as Buffer;
  }

  async open(offset: number): Promise<{ stream: fs.WriteStream; written(): number }> {
    // 'w' starts a fresh file (an earlier attempt's bytes are dropped); 'r+' continues after `offset`. A 1 MiB
    // buffer lets several network chunks go to disk in one writev while the next ones arrive.
    const out = fs.createWriteStream(this.partPath, {
      flags: offset > 0 ? 'r+' : 'w',
      start: offset,
      highWaterMark: WRITE_BUFFER,
    });
    await new Promise<void>((resolve, reject) => {
      out.once('ready', resolve);
      out.once('error', reject);
    });
    this.out = out;
    return { stream: out, written: () => out.bytesWritten };
  }

  /** The `.part` file's path (the checker reads it back while it is written). */
  partFile(): string {
    return this.partPath;
  }

  /**
   * A descriptor for positioned writes (the fast path): a number starts at that offset, dropping what lies
   * beyond it (0 = a fresh file); 'keep' leaves the stored bytes (ranges continue where each one stopped).
   */
  async openFd(from: number | 'keep'): Promise<number> {
    // Plain descriptors (not FileHandles, which close themselves when collected) for fs.writev at positions.
    const fd = await new Promise<number>((resolve, reject) =>
      fs.open(this.partPath, from === 0 ? 'w' : fs.constants.O_RDWR | fs.constants.O_CREAT, (err, n) =>
        err ? reject(err) : resolve(n),
      ),
    );
    this.fd = fd;
    if (typeof from === 'number' && from > 0) {
      await new Promise<void>((resolve, reject) => fs.ftruncate(fd, from, (err) => (err ? reject(err) : resolve())));
    }
    return fd;
  }

  async commit(): Promise<string> {
    await this.closeFd();
    await fsyncFile(this.partPath);
    await fsp.rename(this.partPath, this.finalPath);
    await fsyncDir(this.dir);
    return this.finalPath;
  }

  async discard(keepForResume: boolean): Promise<void> {
    await this.closeFd();
    const out = this.out;
    if (out && !out.closed) {
      await new Promise<void>((resolve) => {
        out.once('close', () => resolve());
        out.destroy();
      });
    }
    if (!keepForResume) await fsp.rm(this.partPath, { force: true });
  }

  private async closeFd(): Promise<void> {
    const fd = this.fd;
    this.fd = undefined;
    if (fd !== undefined) await new Promise<void>((resolve) => fs.close(fd, () => resolve()));
  }
}

/** Whether a resume point has any stored bytes: ranges count even while the first one has none yet. */
export function hasProgress(point: ResumePoint): boolean {
  return point.offset > 0 || (point.ranges?.some((r) => r.at > r.start) ?? false);
}

async function fsyncFile(file: string): Promise<void> {
  const handle = await fsp.open(file, 'r+');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

async function fsyncDir(dir: string): Promise<void> {
  try {
    const handle = await fsp.open(dir, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch {
    // Some filesystems refuse fsync on directories; the rename itself is still atomic.
  }
}
