/**
 * Isolated mode: the messages in view at once share one reader frame (lib/page/isolated/reader-ranges.ts).
 * Shared by isolated.test.ts (Chromium) and firefox-isolated.test.ts (Firefox ESR), as the page
 * would test it: every message at its own place, the page's own controls between them still the
 * page's, places kept when the page moves things, and nothing the page posts moves them.
 */
import { expect } from 'vitest';
import type { Frame, Page } from 'puppeteer';
import type { ChatServer } from '../../fixtures/chat/server.mjs';
import type { KeyRecord } from '../../lib/keys/model';
import { waitFor } from './browser';
import { inVeilFrame, openHostile, veilFrames } from './isolated-cases';
import { envelopeFor } from './keys';

interface Rect {
  top: number;
  left: number;
}

/** What each reader frame shows: per message, its text and its place in the frame. */
async function slotsOf(page: Page): Promise<{ frame: Frame; slots: (Rect & { text: string; status: string })[] }[]> {
  const out = [];
  for (const frame of await veilFrames(page, 'secure-reader.html')) {
    const slots = await inVeilFrame(frame, 'secure-reader.html', () =>
      [...document.querySelectorAll<HTMLElement>('.veil-reader:not([hidden])')].map((r) => {
        const b = r.getBoundingClientRect();
        return {
          top: b.top,
          left: b.left,
          text: r.querySelector('.veil-reader-text')?.textContent ?? '',
          status: r.dataset.status ?? '',
        };
      }),
    );
    if (slots?.length) out.push({ frame, slots });
  }
  return out;
}

/** Each message's placeholder in the page: its envelope and where it is. */
function placeholders(page: Page): Promise<(Rect & { envelope: string; covered: boolean })[]> {
  return page.evaluate(() =>
    [...document.querySelectorAll('#messages > li.message')].flatMap((li) => {
      const host = li.querySelector('veil-secure-frame[data-kind="reader"]');
      if (!host) return [];
      const b = host.getBoundingClientRect();
      // What the page's hit testing finds there: a Veil frame (its host, the shadow root being closed).
      const list = document.getElementById('messages')!.getBoundingClientRect();
      const inView = b.top >= list.top && b.bottom <= list.bottom;
      const hit = document.elementFromPoint(b.left + b.width / 2, b.top + Math.min(b.height / 2, 10));
      return [
        {
          top: b.top,
          left: b.left,
          envelope: li.querySelector('.text')?.textContent ?? '',
          covered: !inView || hit?.localName === 'veil-secure-frame',
        },
      ];
    }),
  );
}

/**
 * Every decrypted message is shown at its own placeholder: in the frame showing it, its place
 * relative to the frame's other messages is the placeholders' in the page, and the page's hit
 * testing finds a Veil frame there.
 */
async function placesMatch(page: Page, plainOf: Map<string, string>): Promise<string> {
  const marks = await placeholders(page);
  const where = new Map(marks.map((m) => [plainOf.get(m.envelope), m]));
  const ours = new Set(plainOf.values());
  for (const frame of await slotsOf(page)) {
    const slots = frame.slots.filter((s) => ours.has(s.text));
    if (slots.length === 0) continue;
    const first = where.get(slots[0]!.text);
    if (!first) return `no placeholder for ${slots[0]!.text}`;
    for (const s of slots) {
      const m = where.get(s.text);
      if (!m) return `no placeholder for ${s.text}`;
      if (!m.covered) return `no Veil frame over ${s.text}`;
      const dy = s.top - slots[0]!.top - (m.top - first.top);
      const dx = s.left - slots[0]!.left - (m.left - first.left);
      if (Math.abs(dy) > 1 || Math.abs(dx) > 1) return `${s.text} is ${dx},${dy} px off its place`;
    }
  }
  return '';
}

/** Waits until every one of `texts` is shown decrypted in a reader frame of `page`. */
async function allDecrypted(page: Page, texts: string[]): Promise<void> {
  await waitFor(
    async () => {
      const shown = (await slotsOf(page)).flatMap((f) => f.slots);
      return texts.every((t) => shown.some((s) => s.text === t && s.status === 'decrypted'));
    },
    'every seeded message decrypted in a reader',
    25_000,
  ).catch(async (e) => {
    const state = {
      frames: (await slotsOf(page)).map((f) => f.slots.map((s) => `${s.status}:${s.text}`)),
      page: await page.$eval('#messages', (el) => el.outerHTML.slice(-3000)),
    };
    throw new Error(`${(e as Error).message}: ${JSON.stringify(state)}`, { cause: e });
  });
}

export async function screenfulInOneFrame(
  server: ChatServer,
  bob: { name: string; newPage(): Promise<Page> },
  key: KeyRecord,
) {
  const plainOf = new Map<string, string>();
  const start = Date.now() - 3_600_000;
  const seed = [];
  for (let i = 0; i < 7; i++) {
    const from = i % 3 === 0 ? 'bob' : 'alice';
    const text = `Range ${i} zumbrex ${'wiqo '.repeat(i)}`.trim();
    const envelope = envelopeFor(key, text, { conversationId: 'dm-alice-bob', senderId: from });
    plainOf.set(envelope, text);
    seed.push({ from, to: from === 'bob' ? 'alice' : 'bob', text: envelope, ts: start + i * 60_000 });
  }
  // In the middle, a text that only looks like an envelope (any participant can post one): it
  // fails alone, the others still share a frame.
  seed.splice(3, 0, { from: 'alice', to: 'bob', text: 'VEIL1abcdefghijkmnop', ts: start + 150_000 });
  server.seed(seed);
  const texts = [...plainOf.values()];

  const page = await openHostile(bob, server, 'alice', '');
  await page.bringToFront();
  // The newest messages in view, as a user opening the conversation sees it.
  await page.evaluate(() => {
    const list = document.getElementById('messages')!;
    list.scrollTop = list.scrollHeight;
  });
  await allDecrypted(page, texts);
  // One frame for the messages that came into view together, not one each.
  const frames = (await slotsOf(page)).filter((f) => f.slots.some((s) => texts.includes(s.text)));
  expect(
    frames.map((f) => f.slots.length).some((n) => n >= 3),
    JSON.stringify(frames.map((f) => f.slots)),
  ).toBe(true);
  expect(frames.length).toBeLessThan(texts.length);
  expect(
    await page.evaluate(() =>
      [...document.querySelectorAll('#messages > li.message')]
        .filter((li) => li.querySelector('.text')?.textContent === 'VEIL1abcdefghijkmnop')
        .map((li) => li.querySelector('.veil-isolated-note')?.textContent ?? ''),
    ),
  ).toEqual([expect.stringMatching(/not decrypted/i)]);
  await waitFor(async () => !(await placesMatch(page, plainOf)), 'every message at its place', 10_000).catch(
    async (e) => {
      throw new Error(`${(e as Error).message}: ${await placesMatch(page, plainOf)}`);
    },
  );

  // Between two messages of the frame, the page's own content still gets the user's click.
  await page.evaluate(() => {
    const w = window as unknown as { clicked: string[] };
    w.clicked = [];
    document.addEventListener(
      'click',
      (e) => w.clicked.push(`${(e.target as Element).localName}.${(e.target as Element).className}`),
      true,
    );
  });
  // The line over a message whose frame also shows the message before it: inside the frame's box.
  const shared = frames.find((f) => f.slots.filter((x) => texts.includes(x.text)).length >= 2)!;
  const second = shared.slots.filter((x) => texts.includes(x.text))[1]!.text;
  const envelope = [...plainOf].find(([, t]) => t === second)![0];
  const label = await page.evaluate((env) => {
    const li = [...document.querySelectorAll('#messages > li.message')].find(
      (l) => l.querySelector('.text')?.textContent === env,
    )!;
    li.scrollIntoView({ block: 'center' });
    // Its time: a chat may leave the name out of a sender's next message.
    const b = li.querySelector('time')!.getBoundingClientRect();
    return { x: b.left + b.width / 2, y: b.top + b.height / 2 };
  }, envelope);
  await page.mouse.click(label.x, label.y);
  expect(await page.evaluate(() => (window as unknown as { clicked: string[] }).clicked)).toEqual(['time.']);

  // The page moves messages (a taller name line in the middle): the frame's messages follow.
  await page.evaluate(() => {
    const lis = [...document.querySelectorAll<HTMLElement>('#messages > li.message')];
    lis[lis.length - 4]!.style.paddingTop = '37px';
    lis[lis.length - 2]!.insertAdjacentHTML('beforebegin', '<li class="day">a day divider the page adds</li>');
  });
  await waitFor(async () => !(await placesMatch(page, plainOf)), 'every message at its new place', 10_000).catch(
    async (e) => {
      throw new Error(`${(e as Error).message}: ${await placesMatch(page, plainOf)}`);
    },
  );

  // The page posts its own hand-over, with a port, and places over it: nothing moves.
  await page.evaluate(() => {
    for (let i = 0; i < window.frames.length; i++) {
      const forged = new MessageChannel();
      const place = { slots: [{ top: 300, left: 5, width: 200 }] };
      window.frames[i]!.postMessage({ veilReaderTokens: ['D'.repeat(43)], layout: place }, '*', [forged.port2]);
      forged.port1.postMessage(place);
      window.frames[i]!.postMessage({ slots: [{ top: 300, left: 5, width: 200 }] }, '*');
    }
  });
  await new Promise((r) => setTimeout(r, 500));
  expect(await placesMatch(page, plainOf)).toBe('');
  await page.close();

  // A chat whose message boxes clip what overflows them: the frame could not show over the next
  // message, so every message gets a frame of its own, and still reads.
  const clipped = await bob.newPage();
  await clipped.evaluateOnNewDocument(() =>
    document.addEventListener('DOMContentLoaded', () =>
      document.head.append(
        Object.assign(document.createElement('style'), { textContent: 'li.message { overflow: hidden; }' }),
      ),
    ),
  );
  await clipped.goto(`${server.url}/hostile.html?user=${bob.name}&conv=alice`);
  await clipped.bringToFront();
  await allDecrypted(clipped, texts);
  for (const f of await slotsOf(clipped)) expect(f.slots.length).toBe(1);
  expect((await slotsOf(clipped)).length).toBeGreaterThanOrEqual(texts.length);
  expect(await placesMatch(clipped, plainOf)).toBe('');
  await clipped.close();
}
