/**
 * Runs in the chat page's own JavaScript world (not Veil's isolated world), on protected sites
 * only: the page shows desktop notifications through its own `Notification` and
 * `ServiceWorkerRegistration.showNotification`, which Veil's content script cannot reach from its
 * isolated world. Wrapped here, a notification whose title or body holds Veil envelopes shows
 * "🔒 Encrypted message" in their place instead of ciphertext.
 *
 * Never plaintext: anything handed to this world is readable by the page (and a notification's
 * `body` can be read back), so this code holds no key, asks Veil for nothing and imports nothing.
 * The page can undo the wrapper; it is a courtesy for chats that mean well, not a defence against
 * one that does not (docs/security.md). Push notifications the vendor's service worker shows while
 * no tab is open are out of its reach too; they carry what the vendor's server sends: ciphertext.
 */

/** Veil's envelope text (`VEIL` + version + base58 body + `0`), as lib/crypto/codec.ts reads it. */
const ENVELOPE = /VEIL\d[1-9A-HJ-NP-Za-km-z]+0?/g;

export function labelFor(language: string): string {
  return /^zh\b/i.test(language) ? '🔒 加密消息' : '🔒 Encrypted message';
}

/** `text` with every envelope (and the run of envelopes a long message makes) replaced by `label`. */
export function withLabels(text: unknown, label: string): unknown {
  if (typeof text !== 'string' || !text.includes('VEIL')) return text;
  return text.replace(ENVELOPE, label).replace(new RegExp(`(?:${label}\\s*){2,}`, 'gu'), label);
}

function labelled(options: NotificationOptions | undefined, label: string): NotificationOptions | undefined {
  if (!options || typeof options !== 'object' || !('body' in options)) return options;
  return { ...options, body: withLabels(options.body, label) as string };
}

type PageWindow = Window & typeof globalThis;

/** Set once installed: injected again into an open tab (lib/background/registration.ts), it must not wrap twice. */
const INSTALLED = Symbol.for('veil.notification-labels');

export function installNotificationLabels(win: PageWindow): void {
  const marked = win as unknown as Record<symbol, boolean>;
  if (marked[INSTALLED]) return;
  marked[INSTALLED] = true;
  const label = labelFor(win.navigator.language);
  const Native = win.Notification;
  if (typeof Native === 'function') {
    const Wrapped: typeof Notification = function (
      this: unknown,
      title: string,
      options?: NotificationOptions,
    ): Notification {
      // Called without `new`: throws as the native one does.
      if (!new.target) return (Native as unknown as (t: string) => Notification).call(this, title);
      const target: unknown = new.target === (Wrapped as unknown) ? Native : new.target;
      return Reflect.construct(Native, [withLabels(title, label), labelled(options, label)], target as typeof Native);
    } as unknown as typeof Notification;
    Object.setPrototypeOf(Wrapped, Native); // permission, requestPermission, maxActions
    Object.defineProperty(Wrapped, 'prototype', { value: Native.prototype });
    Object.defineProperty(win, 'Notification', { value: Wrapped, writable: true, configurable: true });
  }
  const Registration = win.ServiceWorkerRegistration?.prototype;
  const show = Registration?.showNotification;
  if (Registration && typeof show === 'function') {
    Object.defineProperty(Registration, 'showNotification', {
      value: function (this: ServiceWorkerRegistration, title: string, options?: NotificationOptions) {
        return show.call(this, withLabels(title, label) as string, labelled(options, label));
      },
      writable: true,
      configurable: true,
    });
  }
}
