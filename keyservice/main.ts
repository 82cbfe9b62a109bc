/**
 * `npm run keyservice`: the key service on its embedded default (SQLite, SoftHSM2, and, unless
 * VEIL_KS_ISSUER names a real IdP, the local demo IdP with alice, bob and carol). First start
 * creates the KEK in the token and demo groups sales and board with one key each.
 */
import { startInstance } from './app';
import { configFromEnv } from './config';
import { embeddedDefaults } from './embedded';
import { EXTENSION_REDIRECTS, startIdp, type Idp } from './idp/idp';

const env = process.env;
const defaults = await embeddedDefaults(env);
let idp: Idp | undefined;
if (!env.VEIL_KS_ISSUER) {
  idp = await startIdp({
    port: Number(env.VEIL_IDP_PORT || 4444),
    clientId: env.VEIL_KS_AUDIENCE?.split(',')[0] || 'veil-extension',
    redirectUris: env.VEIL_IDP_REDIRECT_URIS ? env.VEIL_IDP_REDIRECT_URIS.split(',') : EXTENSION_REDIRECTS,
  });
  defaults.issuer = idp.issuer;
  defaults.audience = [idp.clientId];
}
const config = configFromEnv(env, defaults);
const node = await startInstance(config, { createKek: !!defaults.tokenLabel });

const svc = node.service;
if ((await svc.store.scopes()).size === 0 && idp) {
  await svc.map('sales', { site: '*', conversations: ['sales*'] }, 'demo-setup');
  await svc.map('board', { site: '*', conversations: ['board*'] }, 'demo-setup');
  await svc.createGroupKey('sales', 'Sales', 'demo-setup');
  await svc.createGroupKey('board', 'Board', 'demo-setup');
}

console.log(
  `Veil key service on ${node.url} (issuer ${config.issuer}, database ${config.database.replace(/\/\/[^@]*@/, '//…@')})`,
);
if (idp)
  console.log(
    `Demo IdP on ${idp.issuer}: alice/alice-password (sales, board), bob/bob-password, carol/carol-password (sales)`,
  );
console.log(
  `Policy: ${JSON.stringify({ keyService: { url: node.url, issuer: config.issuer, clientId: config.audience[0], groupsClaim: config.groupsClaim } })}`,
);

const stop = async () => {
  await node.close();
  await idp?.close();
  process.exit(0);
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
