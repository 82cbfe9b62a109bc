/**
 * The key service's HTTP API (tools contract: GET /v1/config, POST /v1/keys/release, GET /healthz).
 * node:http, JSON bodies, no framework. Stateless: anything it knows comes from the store, the HSM
 * and the caller's ID token.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Audit } from './audit';
import { AuthError, NoGroupsClaimError, StaleTokenError, type Verifier } from './auth';
import { KEMS } from './hpke';
import { deviceId, Refusal, type KeyService } from './service';

const MAX_BODY = 16 * 1024; // an X-Wing public key in base64url is ~1.6 KiB

export interface HttpOptions {
  issuer: string;
  host: string;
  port: number;
  /** Origins allowed to call from a browser (the extension's origin); '*' is not accepted. */
  corsOrigins?: string[];
}

export async function startHttp(
  service: KeyService,
  verifier: Verifier,
  audit: Audit,
  opts: HttpOptions,
): Promise<{ server: Server; url: string; close(): Promise<void> }> {
  const server = createServer((req, res) => {
    handle(req, res).catch((e) => {
      audit.write({ event: 'refusal', reason: `internal: ${(e as Error).message}` });
      if (!res.headersSent) send(res, 500, { error: 'internal', message: 'the key service failed' });
      else res.end();
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    cors(req, res, opts.corsOrigins ?? []);
    const path = (req.url ?? '/').split('?')[0];
    if (req.method === 'OPTIONS') return void res.writeHead(204).end();
    if (req.method === 'GET' && path === '/healthz')
      return void res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
    if (req.method === 'GET' && path === '/v1/config')
      return send(res, 200, {
        issuer: opts.issuer,
        kems: KEMS,
        defaultKem: service.options.defaultKem,
        refreshMinutes: service.options.refreshMinutes,
      });
    if (path === '/v1/keys/release') {
      if (req.method !== 'POST') return send(res, 405, { error: 'bad_request', message: 'use POST' });
      return release(req, res);
    }
    send(res, 404, { error: 'not_found' });
  }

  async function release(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const auth = req.headers.authorization ?? '';
    const token = /^Bearer ([A-Za-z0-9._~+/=-]+)$/.exec(auth)?.[1];
    let body: { device?: { kem?: unknown; publicKey?: unknown } } | undefined;
    try {
      body = JSON.parse(await readBody(req, MAX_BODY));
    } catch (e) {
      body = undefined;
      if ((e as Error).message === 'too large') return refuse(res, 400, 'bad_request', 'body too large');
    }
    const device = deviceId(body?.device?.publicKey);
    if (!token) return refuse(res, 401, 'invalid_token', 'no bearer token', device);
    let caller;
    try {
      caller = await verifier.verify(token);
    } catch (e) {
      if (e instanceof StaleTokenError) return refuse(res, 401, 'stale_token', e.message, device);
      if (e instanceof NoGroupsClaimError) return refuse(res, 400, 'no_groups_claim', e.message, device);
      if (e instanceof AuthError) return refuse(res, 401, 'invalid_token', e.message, device);
      throw e;
    }
    if (!body || typeof body !== 'object' || !body.device || typeof body.device !== 'object')
      return refuse(res, 400, 'bad_request', 'body must be JSON with a device', device, caller.subject);
    try {
      send(res, 200, await service.release(caller, body.device));
    } catch (e) {
      // The service audited its own refusal.
      if (e instanceof Refusal) return send(res, e.status, { error: e.code, message: e.message });
      throw e;
    }
  }

  function refuse(
    res: ServerResponse,
    status: number,
    code: string,
    message: string,
    device?: string,
    subject?: string,
  ) {
    audit.write({ event: 'refusal', subject, device, reason: `${code}: ${message}` });
    send(res, status, { error: code, message });
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, resolve);
  });
  const { port } = server.address() as AddressInfo;
  return {
    server,
    url: `http://${opts.host}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
  res.end(JSON.stringify(body));
}

function cors(req: IncomingMessage, res: ServerResponse, origins: string[]): void {
  const origin = req.headers.origin;
  if (!origin || !origins.includes(origin)) return;
  res.setHeader('access-control-allow-origin', origin);
  res.setHeader('vary', 'origin');
  res.setHeader('access-control-allow-headers', 'authorization, content-type');
  res.setHeader('access-control-allow-methods', 'GET, POST');
}

function readBody(req: IncomingMessage, max: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > max) {
        reject(new Error('too large'));
        req.destroy();
      } else chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}
