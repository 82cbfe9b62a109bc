/**
 * The page-world wrapper of desktop notifications (lib/main-world/notification-labels.ts): a title
 * or body holding envelopes shows the label instead; everything else, and the constructor's
 * behaviour the page relies on (permission, `new` required, subclassing), is unchanged.
 */
import { describe, expect, it } from 'vitest';
import { installNotificationLabels, withLabels } from '../../lib/main-world/notification-labels';

const ENV = 'VEIL11FdRQFAhRXZZPnQi6nE1NMQeGubLsDAqj9FaTjFYfCCP646JqGBhPxT1NB431ZkcS4LQ3HDSBp0';

class FakeNative {
  static permission = 'granted';
  static requestPermission = () => Promise.resolve('granted');
  constructor(
    public title: string,
    public options?: NotificationOptions,
  ) {}
  get body() {
    return this.options?.body ?? '';
  }
}

function fakeWindow(language = 'en-US') {
  const shown: { title: string; body: string }[] = [];
  class Registration {
    showNotification(title: string, options?: NotificationOptions) {
      shown.push({ title, body: options?.body ?? '' });
      return Promise.resolve();
    }
  }
  const win = { Notification: FakeNative, ServiceWorkerRegistration: Registration, navigator: { language } };
  return { win: win as unknown as Window & typeof globalThis, shown, Registration };
}

describe('desktop notification labels (page world)', () => {
  it('replaces envelopes, and a run of them, by one label; leaves other text alone', () => {
    expect(withLabels(ENV, 'L')).toBe('L');
    expect(withLabels(`${ENV} ${ENV}\n${ENV}`, '🔒 Encrypted message')).toBe('🔒 Encrypted message');
    expect(withLabels(`re: ${ENV}`, 'L')).toBe('re: L');
    expect(withLabels('VEIL is a word, VEILED too', 'L')).toBe('VEIL is a word, VEILED too');
    expect(withLabels(42, 'L')).toBe(42);
  });

  it('new Notification(title, { body: envelope }) shows the label; plain text passes unchanged', () => {
    const { win } = fakeWindow();
    installNotificationLabels(win);
    const n = new win.Notification('alice', { body: ENV, tag: 'm1' }) as unknown as FakeNative;
    expect(n).toBeInstanceOf(FakeNative);
    expect([n.title, n.body, n.options?.tag]).toEqual(['alice', '🔒 Encrypted message', 'm1']);
    const plain = new win.Notification('bob', { body: 'lunch?' }) as unknown as FakeNative;
    expect(plain.body).toBe('lunch?');
    expect(win.Notification.permission).toBe('granted');
    expect(() => (win.Notification as unknown as (t: string) => void)('no new')).toThrow();
  });

  it('a page subclass of Notification still gets labels and stays its own class', () => {
    const { win } = fakeWindow();
    installNotificationLabels(win);
    class Mine extends win.Notification {}
    const n = new Mine(ENV) as unknown as FakeNative;
    expect(n).toBeInstanceOf(Mine);
    expect(n.title).toBe('🔒 Encrypted message');
  });

  it('registration.showNotification is labelled too, in Chinese for a Chinese browser', async () => {
    const { win, shown, Registration } = fakeWindow('zh-CN');
    installNotificationLabels(win);
    installNotificationLabels(win); // injected twice: wrapped once
    await new Registration().showNotification('#general', { body: `${ENV}${ENV}` });
    expect(shown).toEqual([{ title: '#general', body: '🔒 加密消息' }]);
  });
});
