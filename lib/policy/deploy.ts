/**
 * Ready-to-deploy policy files for each browser and OS, from one Veil policy. Pure text building
 * (no file system), so the admin CLI writes them and tests parse them.
 *
 * Formats (docs/deploy.md says where each file goes):
 * - Chrome/Chromium/Edge on Linux: JSON in /etc/{opt/chrome,chromium,opt/edge}/policies/managed/.
 * - Windows: a .reg file (UTF-16LE, as regedit writes them). Extension policy lives under
 *   ...\3rdparty\extensions\<id>\policy; lists and objects are JSON strings, which Chrome parses
 *   for policies its schema types as array/object. The file only adds: Veil's own forcelist slot and
 *   Veil's own policy key, never an enterprise's other forcelist entries or its ExtensionSettings.
 * - macOS: a .mobileconfig (XML plist) with one payload per preference domain: com.google.Chrome
 *   and com.microsoft.Edge for installation, <domain>.extensions.<id> for Veil's own settings.
 * - Firefox (all OSes): policies.json with ExtensionSettings and 3rdparty.Extensions.<gecko id>,
 *   and the equivalent per-user managed-storage manifest.
 */
import type { ManagedPolicyJson } from './parse';

export interface DeployTargets {
  /** Chrome and Chromium. */
  chromeId: string;
  /** Edge: the Chrome id for a self-hosted CRX, Edge Add-ons' own id for a store build. */
  edgeId: string;
  geckoId: string;
  /** Update manifest URL of the self-hosted CRX (or the store's); omitted = no force-install. */
  chromeUpdateUrl?: string;
  /** Edge's update URL (Edge Add-ons or self-hosted); omitted = no force-install in Edge. */
  edgeUpdateUrl?: string;
  /** URL of the signed XPI; omitted = no force-install in Firefox. */
  firefoxInstallUrl?: string;
}

export interface DeployFile {
  /** Relative path in the output folder. */
  path: string;
  content: string | Uint8Array;
  /** Where the admin puts it. */
  installTo: string;
}

const CHROME_STORE_UPDATE_URL = 'https://clients2.google.com/service/update2/crx';
const EDGE_STORE_UPDATE_URL = 'https://edge.microsoft.com/extensionwebstorebase/v1/crx';

/**
 * Veil's value name in a Windows ExtensionInstallForcelist ("VEIL" on a phone keypad). Chrome reads
 * every numbered value of that key, so a slot of its own adds Veil without overwriting slot 1, which
 * an enterprise most likely already uses.
 */
export const REG_FORCELIST_SLOT = '8345';

interface ChromiumBrowser {
  name: string;
  id: string;
  updateUrl?: string;
}

function chromiumBrowsers(t: DeployTargets): { chrome: ChromiumBrowser; edge: ChromiumBrowser } {
  return {
    chrome: { name: 'Chrome', id: t.chromeId, updateUrl: t.chromeUpdateUrl },
    edge: { name: 'Edge', id: t.edgeId, updateUrl: t.edgeUpdateUrl },
  };
}

/** The ExtensionSettings entry that force-installs Veil in one browser. */
export function extensionSettingsEntry(b: ChromiumBrowser): Record<string, unknown> {
  const store = b.updateUrl === CHROME_STORE_UPDATE_URL || b.updateUrl === EDGE_STORE_UPDATE_URL;
  return {
    installation_mode: 'force_installed',
    update_url: b.updateUrl,
    // Self-hosted packages keep updating from the admin's server, not the store.
    ...(store ? {} : { override_update_url: true }),
    toolbar_pin: 'force_pinned',
  };
}

function chromeInstallPolicies(b: ChromiumBrowser): Record<string, unknown> {
  if (!b.updateUrl) return {};
  return {
    // ExtensionSettings supersedes the forcelist where both are understood; the forcelist alone
    // still works on old or stripped-down Chromium builds.
    ExtensionInstallForcelist: [`${b.id};${b.updateUrl}`],
    ExtensionSettings: { [b.id]: extensionSettingsEntry(b) },
  };
}

function chromeJson(policy: ManagedPolicyJson, b: ChromiumBrowser): string {
  return `${JSON.stringify({ ...chromeInstallPolicies(b), '3rdparty': { extensions: { [b.id]: policy } } }, null, 2)}\n`;
}

/** /etc/{opt/chrome,chromium}/policies/managed/veil.json (and Edge's, when Edge has the same id and URL). */
export function chromeLinuxJson(policy: ManagedPolicyJson, t: DeployTargets): string {
  return chromeJson(policy, chromiumBrowsers(t).chrome);
}

/** /etc/opt/edge/policies/managed/veil.json */
export function edgeLinuxJson(policy: ManagedPolicyJson, t: DeployTargets): string {
  return chromeJson(policy, chromiumBrowsers(t).edge);
}

function regString(s: string): string {
  return `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

function regValue(v: unknown): string {
  if (typeof v === 'boolean') return `dword:${v ? '00000001' : '00000000'}`;
  if (typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 0xffffffff)
    return `dword:${v.toString(16).padStart(8, '0')}`;
  if (typeof v === 'string') return regString(v);
  return regString(JSON.stringify(v));
}

function regKey(path: string, values: Record<string, unknown>): string[] {
  return [`[${path}]`, ...Object.entries(values).map(([k, v]) => `${regString(k)}=${regValue(v)}`), ''];
}

/** Windows: Chrome, Chromium and Edge in one .reg, UTF-16LE with BOM and CRLF like regedit's own. */
export function windowsReg(policy: ManagedPolicyJson, t: DeployTargets): Uint8Array {
  const { chrome, edge } = chromiumBrowsers(t);
  const lines = ['Windows Registry Editor Version 5.00', ''];
  for (const [vendor, b] of [
    ['Google\\Chrome', chrome],
    ['Chromium', { ...chrome, name: 'Chromium' }],
    ['Microsoft\\Edge', edge],
  ] as const) {
    const base = `HKEY_LOCAL_MACHINE\\SOFTWARE\\Policies\\${vendor}`;
    if (b.updateUrl) {
      lines.push(...regKey(`${base}\\ExtensionInstallForcelist`, { [REG_FORCELIST_SLOT]: `${b.id};${b.updateUrl}` }));
      // ExtensionSettings is one JSON string for all extensions: writing it would replace the
      // enterprise's own. Admins who use it add Veil's entry to it themselves.
      lines.push(
        `; If you set ExtensionSettings for ${b.name}, add this entry to it (it also pins Veil's toolbar button):`,
        `; "${b.id}": ${JSON.stringify(extensionSettingsEntry(b))}`,
        '',
      );
    }
    const own = `${base}\\3rdparty\\extensions\\${b.id}\\policy`;
    // Veil's own policy key is replaced as a whole, so a setting dropped since the last rollout goes too.
    lines.push(`[-${own}]`, '', ...regKey(own, policy as unknown as Record<string, unknown>));
  }
  const text = lines.join('\r\n');
  const out = new Uint8Array(2 + text.length * 2);
  out[0] = 0xff;
  out[1] = 0xfe;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    out[2 + i * 2] = c & 0xff;
    out[3 + i * 2] = c >> 8;
  }
  return out;
}

function xmlEscape(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** XML plist value; indentation for people reading the file. */
export function plistValue(v: unknown, indent = ''): string {
  const inner = `${indent}  `;
  if (v === true) return `${indent}<true/>`;
  if (v === false) return `${indent}<false/>`;
  if (typeof v === 'number')
    return Number.isInteger(v) ? `${indent}<integer>${v}</integer>` : `${indent}<real>${v}</real>`;
  if (typeof v === 'string') return `${indent}<string>${xmlEscape(v)}</string>`;
  if (Array.isArray(v)) return `${indent}<array>\n${v.map((x) => plistValue(x, inner)).join('\n')}\n${indent}</array>`;
  if (v && typeof v === 'object') {
    const entries = Object.entries(v).filter(([, x]) => x !== undefined);
    return `${indent}<dict>\n${entries.map(([k, x]) => `${inner}<key>${xmlEscape(k)}</key>\n${plistValue(x, inner)}`).join('\n')}\n${indent}</dict>`;
  }
  throw new Error(`cannot write ${typeof v} into a plist`);
}

export function plistDocument(v: unknown): string {
  return (
    '<?xml version="1.0" encoding="UTF-8"?>\n' +
    '<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">\n' +
    `<plist version="1.0">\n${plistValue(v)}\n</plist>\n`
  );
}

/** macOS configuration profile for Chrome and Edge (install via MDM, or System Settings > Profiles). */
export function macMobileconfig(policy: ManagedPolicyJson, t: DeployTargets, uuid: () => string): string {
  const payloads: Record<string, unknown>[] = [];
  const { chrome, edge } = chromiumBrowsers(t);
  for (const [domain, b] of [
    ['com.google.Chrome', chrome],
    ['com.microsoft.Edge', edge],
  ] as const) {
    const install = chromeInstallPolicies(b);
    if (Object.keys(install).length) {
      payloads.push({
        PayloadType: domain,
        PayloadIdentifier: `com.veil.policy.${domain}`,
        PayloadUUID: uuid(),
        PayloadVersion: 1,
        PayloadDisplayName: `Veil installation (${domain})`,
        ...install,
      });
    }
    const extDomain = `${domain}.extensions.${b.id}`;
    payloads.push({
      PayloadType: extDomain,
      PayloadIdentifier: `com.veil.policy.${extDomain}`,
      PayloadUUID: uuid(),
      PayloadVersion: 1,
      PayloadDisplayName: `Veil settings (${domain})`,
      ...policy,
    });
  }
  return plistDocument({
    PayloadContent: payloads,
    PayloadDisplayName: 'Veil enterprise policy',
    PayloadDescription: 'Installs Veil and sets which chats it protects, with which keys.',
    PayloadIdentifier: 'com.veil.policy',
    PayloadOrganization: 'Veil',
    PayloadScope: 'System',
    PayloadType: 'Configuration',
    PayloadUUID: uuid(),
    PayloadVersion: 1,
  });
}

/** Firefox on any OS: distribution/policies.json (or /etc/firefox/policies/policies.json on Linux). */
export function firefoxPoliciesJson(policy: ManagedPolicyJson, t: DeployTargets): string {
  const policies: Record<string, unknown> = {};
  if (t.firefoxInstallUrl) {
    policies.ExtensionSettings = {
      [t.geckoId]: { installation_mode: 'force_installed', install_url: t.firefoxInstallUrl },
    };
  }
  policies['3rdparty'] = { Extensions: { [t.geckoId]: policy } };
  return `${JSON.stringify({ policies }, null, 2)}\n`;
}

/** Firefox's per-user or per-machine managed-storage manifest (no policies.json needed). */
export function firefoxManagedStorage(policy: ManagedPolicyJson, t: DeployTargets): string {
  return `${JSON.stringify({ name: t.geckoId, description: 'Veil enterprise policy', type: 'storage', data: policy }, null, 2)}\n`;
}

export function deployFiles(policy: ManagedPolicyJson, t: DeployTargets, uuid: () => string): DeployFile[] {
  const edgeAsChrome = t.edgeId === t.chromeId && t.edgeUpdateUrl === t.chromeUpdateUrl;
  const linux: DeployFile[] = edgeAsChrome
    ? [
        {
          path: 'chrome-linux/veil.json',
          content: chromeLinuxJson(policy, t),
          installTo:
            '/etc/opt/chrome/policies/managed/ (Chrome), /etc/chromium/policies/managed/ (Chromium), /etc/opt/edge/policies/managed/ (Edge)',
        },
      ]
    : [
        {
          path: 'chrome-linux/veil.json',
          content: chromeLinuxJson(policy, t),
          installTo: '/etc/opt/chrome/policies/managed/ (Chrome), /etc/chromium/policies/managed/ (Chromium)',
        },
        {
          path: 'edge-linux/veil.json',
          content: edgeLinuxJson(policy, t),
          installTo: '/etc/opt/edge/policies/managed/ (Edge)',
        },
      ];
  return [
    ...linux,
    {
      path: 'windows/veil.reg',
      content: windowsReg(policy, t),
      installTo: 'import with regedit /s, or translate to Group Policy Preferences',
    },
    {
      path: 'macos/veil.mobileconfig',
      content: macMobileconfig(policy, t, uuid),
      installTo: 'your MDM (or System Settings > Privacy & Security > Profiles)',
    },
    {
      path: 'firefox/policies.json',
      content: firefoxPoliciesJson(policy, t),
      installTo:
        '/etc/firefox/policies/ (Linux), <Firefox>/distribution/ (Windows, macOS: Firefox.app/Contents/Resources/distribution/)',
    },
    {
      path: `firefox/managed-storage/${t.geckoId}.json`,
      content: firefoxManagedStorage(policy, t),
      installTo:
        'alternative to policies.json: ~/.mozilla/managed-storage/ (Linux per user), /usr/lib/mozilla/managed-storage/ (Linux, all users)',
    },
  ];
}
