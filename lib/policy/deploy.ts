/**
 * Ready-to-deploy policy files for each browser and OS, from one Veil policy. Pure text building
 * (no file system), so the admin CLI writes them and tests parse them.
 *
 * Formats (docs/deploy.md says where each file goes):
 * - Chrome/Chromium/Edge on Linux: JSON in /etc/{opt/chrome,chromium,opt/edge}/policies/managed/.
 * - Windows: a .reg file (UTF-16LE, as regedit writes them). Extension policy lives under
 *   ...\3rdparty\extensions\<id>\policy; lists and objects are JSON strings, which Chrome parses
 *   for policies its schema types as array/object.
 * - macOS: a .mobileconfig (XML plist) with one payload per preference domain: com.google.Chrome
 *   and com.microsoft.Edge for installation, <domain>.extensions.<id> for Veil's own settings.
 * - Firefox (all OSes): policies.json with ExtensionSettings and 3rdparty.Extensions.<gecko id>,
 *   and the equivalent per-user managed-storage manifest.
 */
import type { ManagedPolicyJson } from './parse';

export interface DeployTargets {
  chromeId: string;
  geckoId: string;
  /** Update manifest URL of the self-hosted CRX (or the store's); omitted = no force-install. */
  chromeUpdateUrl?: string;
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

function chromeInstallPolicies(t: DeployTargets): Record<string, unknown> {
  if (!t.chromeUpdateUrl) return {};
  return {
    // ExtensionSettings supersedes the forcelist where both are understood; the forcelist alone
    // still works on old or stripped-down Chromium builds.
    ExtensionInstallForcelist: [`${t.chromeId};${t.chromeUpdateUrl}`],
    ExtensionSettings: {
      [t.chromeId]: {
        installation_mode: 'force_installed',
        update_url: t.chromeUpdateUrl,
        // Self-hosted packages keep updating from the admin's server, not the store.
        ...(t.chromeUpdateUrl !== CHROME_STORE_UPDATE_URL ? { override_update_url: true } : {}),
        toolbar_pin: 'force_pinned',
      },
    },
  };
}

/** /etc/{opt/chrome,chromium,opt/edge}/policies/managed/veil.json */
export function chromeLinuxJson(policy: ManagedPolicyJson, t: DeployTargets): string {
  return `${JSON.stringify({ ...chromeInstallPolicies(t), '3rdparty': { extensions: { [t.chromeId]: policy } } }, null, 2)}\n`;
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
  const lines = ['Windows Registry Editor Version 5.00', ''];
  for (const vendor of ['Google\\Chrome', 'Chromium', 'Microsoft\\Edge']) {
    const base = `HKEY_LOCAL_MACHINE\\SOFTWARE\\Policies\\${vendor}`;
    const install = chromeInstallPolicies(t);
    if (install.ExtensionInstallForcelist) {
      lines.push(
        ...regKey(
          `${base}\\ExtensionInstallForcelist`,
          Object.fromEntries((install.ExtensionInstallForcelist as string[]).map((v, i) => [String(i + 1), v])),
        ),
      );
      lines.push(...regKey(base, { ExtensionSettings: install.ExtensionSettings }));
    }
    lines.push(
      ...regKey(`${base}\\3rdparty\\extensions\\${t.chromeId}\\policy`, policy as unknown as Record<string, unknown>),
    );
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
  for (const domain of ['com.google.Chrome', 'com.microsoft.Edge']) {
    const install = chromeInstallPolicies(t);
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
    const extDomain = `${domain}.extensions.${t.chromeId}`;
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
  return [
    {
      path: 'chrome-linux/veil.json',
      content: chromeLinuxJson(policy, t),
      installTo:
        '/etc/opt/chrome/policies/managed/ (Chrome), /etc/chromium/policies/managed/ (Chromium), /etc/opt/edge/policies/managed/ (Edge)',
    },
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
