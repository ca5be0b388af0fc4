// Where a command writes. Tests pass a capturing Io; the real one writes to the process.

export interface Io {
  out(text: string): void;
  err(text: string): void;
  /** True when stderr is a terminal (progress lines are shown only then). */
  readonly interactive: boolean;
  /** Current directory for relative paths. */
  readonly cwd: string;
}

export const processIo: Io = {
  out: (t) => void process.stdout.write(t),
  err: (t) => void process.stderr.write(t),
  interactive: Boolean(process.stderr.isTTY),
  cwd: process.cwd(),
};

/** An Io that keeps what was written, for tests. */
export function captureIo(cwd = process.cwd()): Io & { stdout: string; stderr: string } {
  const io = {
    stdout: '',
    stderr: '',
    interactive: false,
    cwd,
    out(t: string) { io.stdout += t; },
    err(t: string) { io.stderr += t; },
  };
  return io;
}

/** A one-line progress indicator on a terminal; silent otherwise. */
export function progress(io: Io, label: string): { update(done: number, total: number): void; done(): void } {
  let last = 0;
  return {
    update(done, total) {
      if (!io.interactive) return;
      const now = Date.now();
      if (now - last < 100 && done !== total) return;
      last = now;
      io.err(`\r${label} ${done}/${total}`);
    },
    done() {
      if (io.interactive) io.err('\r\x1b[K');
    },
  };
}
