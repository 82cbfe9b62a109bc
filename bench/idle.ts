/**
 * Idle benchmark: an open chat that nobody uses must cost no CPU (no polling, no timers). Over a
 * quiet window we read, side by side for Chromium with and without Veil:
 * - the page's main-thread task and script time (CDP Performance.getMetrics deltas),
 * - JavaScript run in the extension's service worker (CDP Profiler samples that are not idle),
 * - CPU time of the whole browser process tree (/proc), which catches anything else.
 */
import type { CDPSession, Page, Target } from 'puppeteer';
import { processTreeCpuSeconds, sleep } from './common';

export interface IdleSample {
  pageTaskMs: number;
  pageScriptMs: number;
  /** undefined without the extension, or when the worker was not profiled */
  workerScriptMs?: number;
  processTreeCpuMs: number;
}

async function metrics(cdp: CDPSession): Promise<{ task: number; script: number }> {
  const { metrics: m } = await cdp.send('Performance.getMetrics');
  const get = (name: string) => m.find((x) => x.name === name)?.value ?? 0;
  return { task: get('TaskDuration') * 1000, script: get('ScriptDuration') * 1000 };
}

interface Subject {
  page: Page;
  browserPid: number;
  worker?: Target;
}

/**
 * Measures all subjects over the same quiet window (they run in separate browsers). The worker's
 * sampling profiler costs CPU itself (a 1 ms timer), so `profileWorker` windows are separate from
 * the ones whose process CPU we report.
 */
export async function idleWindow(subjects: Subject[], windowMs: number, profileWorker: boolean): Promise<IdleSample[]> {
  const sessions = await Promise.all(
    subjects.map(async (s) => {
      const cdp = await s.page.createCDPSession();
      await cdp.send('Performance.enable');
      let sw: CDPSession | undefined;
      if (s.worker && profileWorker) {
        sw = await s.worker.createCDPSession();
        await sw.send('Profiler.enable');
        await sw.send('Profiler.setSamplingInterval', { interval: 1000 });
        await sw.send('Profiler.start');
      }
      return { cdp, sw, before: await metrics(cdp), cpu: processTreeCpuSeconds(s.browserPid) };
    }),
  );
  await sleep(windowMs);
  return Promise.all(
    subjects.map(async (s, i) => {
      const { cdp, sw, before, cpu } = sessions[i]!;
      const after = await metrics(cdp);
      const cpuAfter = processTreeCpuSeconds(s.browserPid);
      let workerScriptMs: number | undefined;
      if (sw) {
        const { profile } = await sw.send('Profiler.stop');
        const idle = new Set(
          profile.nodes
            .filter((n) => ['(idle)', '(program)', '(root)'].includes(n.callFrame.functionName))
            .map((n) => n.id),
        );
        workerScriptMs = 0;
        const deltas = profile.timeDeltas ?? [];
        (profile.samples ?? []).forEach((id, k) => {
          if (!idle.has(id)) workerScriptMs! += (deltas[k + 1] ?? 0) / 1000;
        });
        await sw.detach();
      }
      await cdp.detach();
      return {
        pageTaskMs: after.task - before.task,
        pageScriptMs: after.script - before.script,
        workerScriptMs,
        processTreeCpuMs: (cpuAfter - cpu) * 1000,
      };
    }),
  );
}
