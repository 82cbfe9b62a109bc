/**
 * A virtual X display for the few tests that need a browser with a real window system (Firefox's
 * clipboard carries images only there). Started on a free display number; `stop()` ends it.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { waitFor } from './browser';

export async function startXvfb(): Promise<{ display: string; stop(): Promise<void> }> {
  let n = 90 + Math.floor(Math.random() * 100);
  while (existsSync(`/tmp/.X11-unix/X${n}`) || existsSync(`/tmp/.X${n}-lock`)) n++;
  const proc = spawn('Xvfb', [`:${n}`, '-screen', '0', '1280x1024x24', '-nolisten', 'tcp'], { stdio: 'ignore' });
  let exited = false;
  proc.on('exit', () => (exited = true));
  await waitFor(() => exited || existsSync(`/tmp/.X11-unix/X${n}`), `X display :${n}`, 10_000);
  if (exited) throw new Error(`Xvfb :${n} did not start (is the xvfb package installed? npm test installs it)`);
  return {
    display: `:${n}`,
    async stop() {
      if (exited) return;
      proc.kill();
      await waitFor(() => exited, `Xvfb :${n} to stop`, 5_000).catch(() => proc.kill('SIGKILL'));
    },
  };
}
