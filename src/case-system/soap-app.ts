/**
 * The inbound case-system endpoint: SOAP 1.1/1.2 at /soap/v1/pickup (canonical
 * format and every vendor mapping inside the SOAP body) and plain XML over
 * HTTP POST at /xml/v1/{mapping}. Order of checks: authentication by HTTP Basic
 * and client certificate (before the body is read), body size and XML shape
 * (while the body streams in, never buffered past the limit), parse,
 * WS-Security UsernameToken (the only check that needs the parsed header),
 * operation, mapping, validation in the PickupPort. A rejection stores nothing: the port
 * is only called with a complete notice.
 *
 * The envelope is handled here rather than by node-soap's server: one request
 * may carry the canonical or a vendor format, faults must come in the SOAP
 * version of the request with a namespaced code, and hardening and
 * authentication must run before anything parses. The WSDL and XSD are read
 * at start-up (a missing file stops it) and served as they are; that node-soap
 * loads both WSDLs is checked by tests/integration/case-soap-wire.test.ts, not
 * on every start (loading node-soap and the WSDL cost a noticeable part of the
 * start-up time).
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Hono, type Context } from 'hono';
import type { Logger } from 'pino';
import { CASE_SYSTEM_WSDL_DIR } from '../../adapters/case-system/wsdl.js';
import type { Clock } from '../core/clock.js';
import { DokuboxError, RETRY_AFTER_SECONDS } from '../core/errors.js';
import { nodeIncomingOf, readIncomingLimited, type NodeIncoming } from '../http/node-body.js';
import type { ClientIdentity, PickupPort, PickupView } from '../service/types.js';
import { verifiedClientFingerprint, type CaseSystemAuthenticator } from './auth.js';
import { contentTypeFor, envelope, faultEnvelope, faultInfo, faultStatus, PICKUP_NS, retryAfter, SOAP11_NS, SOAP12_NS, toXml, type FaultInfo, type SoapVersion, type XmlValue } from './envelope.js';
import type { CaseSystemMapping } from './mapping.js';
import { allChildren, children, DEFAULT_XML_LIMITS, escapeXml, parseCheckedXml, XmlShapeScanner, type XmlElement, type XmlLimits } from './xml.js';


export interface CaseSystemAppDeps {
  port: PickupPort;
  /** Loaded mappings by name (see loadMappings); `canonical` must be among them. */
  mappings: ReadonlyMap<string, CaseSystemMapping>;
  authenticate: CaseSystemAuthenticator;
  logger: Logger;
  /** Part of the contract for time-dependent checks; the WS-Security window uses the authenticator's clock. */
  clock: Clock;
  maxBodyBytes: number;
  xmlLimits?: XmlLimits;
  /**
   * Base URL written into the served WSDL (soap:address and the schema import): CASE_SYSTEM_PUBLIC_URL,
   * else PUBLIC_URL. Without it the WSDL names the listener the request came in on (see listenerOrigin),
   * never the request's Host header.
   */
  publicBaseUrl?: string;
  /**
   * The app is mounted under the service's access log (src/http/app.ts), which writes one line per request:
   * what an accepted notice or cancellation adds goes into that line instead of a line of its own.
   */
  accessLog?: boolean;
  /** Origin for requests that reach the app without a socket (in-process, e.g. `app.request`); default `http://127.0.0.1`. */
  listenerUrl?: string;
  wsdlDir?: string;
}

/** Under @hono/node-server the Node request is `c.env.incoming` (its socket carries the TLS client certificate). */
export type CaseSystemEnv = { Bindings: { incoming?: { socket?: unknown } }; Variables: { logFields?: Record<string, string | number> | undefined } };
type Env = CaseSystemEnv;

const SOAP_PATH = '/soap/v1/pickup';

/**
 * Reads a request body, refusing anything over `max` bytes: a declared Content-Length before
 * anything is read, a streamed body as soon as it passes the limit (it is never buffered whole).
 * `inspect` sees every chunk as it arrives and may throw to refuse the body early; the rest is
 * then not read.
 */
export async function readBodyLimited(request: Request, max: number, inspect?: (chunk: Uint8Array) => void): Promise<string> {
  const declared = Number(request.headers.get('content-length') ?? NaN);
  const tooLarge = (): DokuboxError => new DokuboxError('BODY_TOO_LARGE', `The body is larger than ${max} bytes; send one notice per request.`);
  if (Number.isFinite(declared) && declared > max) throw tooLarge();
  if (request.body === null) return '';
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    try {
      if (size > max) throw tooLarge();
      inspect?.(value);
    } catch (error) {
      await reader.cancel().catch(() => undefined);
      throw error;
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * Reads an XML body within the size limit, checking its shape while it arrives (see XmlShapeScanner):
 * from the Node request when there is one, else through the web Request (in-process requests).
 */
async function readXmlBody(request: Request, incoming: NodeIncoming | undefined, max: number, limits: XmlLimits): Promise<string> {
  const scanner = new XmlShapeScanner(limits);
  const text = incoming === undefined ? await readBodyLimited(request, max, (chunk) => scanner.push(chunk)) : (await readIncomingLimited(incoming, request.headers, max, (chunk) => scanner.push(chunk))).toString('utf8');
  scanner.end();
  return text;
}

/**
 * The origin of the listener a Node request came in on: the scheme of its socket (https on the mutual-TLS
 * listener), the local address the connection reached and the listening port. Nothing of it comes from the
 * request's headers. `undefined` without a socket (in-process requests).
 */
export function listenerOrigin(incoming: { socket?: unknown } | undefined): string | undefined {
  const socket = incoming?.socket as { localAddress?: unknown; localPort?: unknown; encrypted?: unknown } | undefined;
  if (typeof socket?.localAddress !== 'string' || typeof socket.localPort !== 'number') return undefined;
  const address = socket.localAddress.replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/, '');
  return `${socket.encrypted === true ? 'https' : 'http'}://${address.includes(':') ? `[${address}]` : address}:${socket.localPort}`;
}

function soapVersionOf(contentType: string | undefined): SoapVersion {
  return contentType !== undefined && /application\/soap\+xml/i.test(contentType) ? '1.2' : '1.1';
}

function statusBody(view: PickupView): { [key: string]: XmlValue } {
  return {
    pickupId: view.id,
    messageId: view.messageId,
    caseNumber: view.caseNumber,
    boxId: view.boxId,
    state: view.state,
    compartment: view.compartment ?? undefined,
    documentType: view.documentTypes,
    createdAt: view.createdAt,
    updatedAt: view.updatedAt,
    notifiedAt: view.notifiedAt ?? undefined,
    deadline: view.deadline ?? undefined,
    history: view.history.map((h) => ({ seq: h.seq, from: h.from ?? undefined, to: h.to, reason: h.reason, at: h.at })),
  };
}

export async function createCaseSystemApp(deps: CaseSystemAppDeps): Promise<Hono<Env>> {
  const wsdlDir = deps.wsdlDir ?? CASE_SYSTEM_WSDL_DIR;
  const limits = deps.xmlLimits ?? DEFAULT_XML_LIMITS;
  const wsdlPath = join(wsdlDir, 'pickup.wsdl');
  const [wsdlText, xsdText] = await Promise.all([readFile(wsdlPath, 'utf8'), readFile(join(wsdlDir, 'pickup.xsd'), 'utf8')]);
  if (!deps.mappings.has('canonical')) throw new DokuboxError('CONFIG_INVALID', 'The canonical case-system mapping is missing.', { field: 'mappings' });
  const mappings = [...deps.mappings.values()];
  const log = deps.logger.child({ component: 'case-system' });

  /** Logs what a request did: in the access log's line when there is one (deps.accessLog), else in a line of its own. */
  function note(c: Context<Env>, fields: Record<string, string | number>, message: string): void {
    if (deps.accessLog === true) c.set('logFields', { ...c.get('logFields'), ...fields, event: message });
    else log.info(fields, message);
  }

  async function handle(c: Context<Env>, client: ClientIdentity, mapping: CaseSystemMapping, operation: 'notice' | 'cancel' | 'status', root: XmlElement): Promise<string> {
    if (operation === 'notice') {
      const input = mapping.toNotice(root, client);
      const result = await deps.port.submitNotice(client, input);
      note(c, { client: client.id, pickupId: result.pickup.id, outcome: result.outcome, format: mapping.name }, 'notice accepted');
      return toXml('NotifyDocumentsReadyResponse', { outcome: result.outcome, pickupId: result.pickup.id, messageId: result.pickup.messageId, state: result.pickup.state });
    }
    const ref = mapping.toReference(root, operation);
    if (operation === 'cancel') {
      const view = await deps.port.cancelPickup(client, ref, 'cancelled_by_case_system');
      note(c, { client: client.id, pickupId: view.id }, 'pickup cancelled');
      return toXml('CancelPickupResponse', { pickupId: view.id, messageId: view.messageId, state: view.state });
    }
    const view = await deps.port.getPickup(client, ref);
    return toXml('GetPickupStatusResponse', { pickup: statusBody(view) });
  }

  function logRejection(error: unknown, info: FaultInfo, where: string): void {
    if (error instanceof DokuboxError) log.info({ code: error.code, field: error.field, context: error.context, where }, 'case-system request rejected');
    else if (info.code === 'DEPENDENCY_UNAVAILABLE') log.warn({ code: info.code, err: error instanceof Error ? { name: error.name, message: error.message } : {}, where }, 'case-system request failed: redis unavailable');
    else log.error({ err: error instanceof Error ? { name: error.name } : {}, where }, 'case-system request failed');
  }

  function fingerprintOf(c: Context<Env>): string | undefined {
    return verifiedClientFingerprint(c.env?.incoming);
  }

  /** Where the WSDL says the service is: the configured public URL, else the listener's own address (never the Host header). */
  function wsdlAddress(c: Context<Env>): string {
    const base = deps.publicBaseUrl ?? listenerOrigin(c.env?.incoming) ?? deps.listenerUrl ?? 'http://127.0.0.1';
    return escapeXml(`${base.replace(/\/+$/, '')}${SOAP_PATH}`);
  }

  const app = new Hono<Env>();

  app.get(SOAP_PATH, (c) => {
    const address = wsdlAddress(c);
    const xsd = c.req.query('xsd');
    if (xsd !== undefined) return xsd === 'pickup.xsd' ? c.body(xsdText, 200, { 'content-type': 'text/xml; charset=utf-8' }) : c.text('No such schema.', 404);
    if (c.req.query('wsdl') === undefined) return c.text('Use POST for SOAP requests, ?wsdl for the service description.', 405);
    const wsdl = wsdlText
      .replace(/(<soap(?:12)?:address\s+)location="[^"]*"/g, `$1location="${address}"`)
      .replace('schemaLocation="pickup.xsd"', `schemaLocation="${address}?xsd=pickup.xsd"`);
    return c.body(wsdl, 200, { 'content-type': 'text/xml; charset=utf-8' });
  });

  app.post(SOAP_PATH, async (c) => {
    let version = soapVersionOf(c.req.header('content-type'));
    let mapping: CaseSystemMapping | undefined;
    let bodyRead = false;
    const incoming = nodeIncomingOf(c.env?.incoming);
    try {
      // HTTP Basic and the client certificate before anything of the body is read; only a
      // UsernameToken needs the parsed SOAP header.
      const pending = deps.authenticate.beforeBody({ headers: c.req.raw.headers, tlsClientCertFingerprint: fingerprintOf(c) });
      let client = pending.needsUsernameToken ? undefined : await pending.complete();
      const text = await readXmlBody(c.req.raw, incoming, deps.maxBodyBytes, limits);
      bodyRead = true;
      const root = await parseCheckedXml(text);
      if (root.$ns.local !== 'Envelope' || (root.$ns.uri !== SOAP11_NS && root.$ns.uri !== SOAP12_NS)) {
        throw new DokuboxError('VALIDATION_FAILED', 'The body is not a SOAP 1.1 or 1.2 envelope.', { context: { reason: 'not_an_envelope' } });
      }
      version = root.$ns.uri === SOAP12_NS ? '1.2' : '1.1';
      client ??= await pending.complete(children(root, 'Header').flatMap((h) => children(h, 'Security'))[0]);
      const body = children(root, 'Body')[0];
      const payload = body === undefined ? [] : allChildren(body);
      const request = payload[0];
      if (request === undefined || payload.length !== 1) throw new DokuboxError('VALIDATION_FAILED', 'The SOAP body must hold exactly one request element.', { context: { reason: 'body_shape' } });
      let operation: 'notice' | 'cancel' | 'status' | undefined;
      for (const candidate of mappings) {
        operation = candidate.operationFor(request);
        if (operation !== undefined) {
          mapping = candidate;
          break;
        }
      }
      if (mapping === undefined || operation === undefined) {
        const knownNamespace = mappings.some((m) => m.namespace === request.$ns.uri);
        throw knownNamespace
          ? new DokuboxError('VALIDATION_FAILED', `Unknown operation ${request.$ns.local}; this service offers NotifyDocumentsReady, CancelPickup and GetPickupStatus.`, { context: { reason: 'unknown_operation' } })
          : new DokuboxError('VALIDATION_FAILED', `The request element is in an unknown namespace; use ${PICKUP_NS} or a configured vendor format.`, { context: { reason: 'wrong_namespace' } });
      }
      const responseBody = await handle(c, client, mapping, operation, request);
      return c.body(envelope(version, responseBody), 200, { 'content-type': contentTypeFor(version) });
    } catch (error) {
      const current = mapping;
      const info = faultInfo(error, (field) => current?.sourceOf(field));
      logRejection(error, info, 'soap');
      return c.body(faultEnvelope(version, info), faultStatus(version, info), {
        'content-type': contentTypeFor(version),
        ...challenge(info.code),
        ...retryAfter(info, RETRY_AFTER_SECONDS),
        ...(bodyRead ? {} : closeUnread(c.req.raw, incoming)),
      });
    }
  });

  app.post('/xml/v1/:mapping', async (c) => {
    const mapping = deps.mappings.get(c.req.param('mapping'));
    let bodyRead = false;
    const incoming = nodeIncomingOf(c.env?.incoming);
    try {
      if (mapping === undefined) throw new DokuboxError('NOT_FOUND', 'No case-system format of this name is configured.');
      // Plain XML has no WS-Security header: authenticate before reading the body at all.
      const client = await deps.authenticate.beforeBody({ headers: c.req.raw.headers, tlsClientCertFingerprint: fingerprintOf(c) }).complete();
      const text = await readXmlBody(c.req.raw, incoming, deps.maxBodyBytes, limits);
      bodyRead = true;
      const root = await parseCheckedXml(text);
      const operation = mapping.operationFor(root);
      if (operation === undefined) {
        throw new DokuboxError('VALIDATION_FAILED', root.$ns.uri === mapping.namespace ? `Unknown message ${root.$ns.local} for the format ${mapping.name}.` : `The root element is not in the namespace ${mapping.namespace}.`, {
          context: { reason: root.$ns.uri === mapping.namespace ? 'unknown_operation' : 'wrong_namespace' },
        });
      }
      const body = await handle(c, client, mapping, operation, root);
      return c.body(`<?xml version="1.0" encoding="utf-8"?>${body.replace(/^<dokubox:(\S+?)>/, `<dokubox:$1 xmlns:dokubox="${PICKUP_NS}">`)}`, 200, { 'content-type': 'application/xml; charset=utf-8' });
    } catch (error) {
      const info = faultInfo(error, (field) => mapping?.sourceOf(field));
      logRejection(error, info, 'xml');
      return c.body(`<?xml version="1.0" encoding="utf-8"?>${faultXmlWithMessage(info)}`, info.status as 400, {
        'content-type': 'application/xml; charset=utf-8',
        ...challenge(info.code),
        ...retryAfter(info, RETRY_AFTER_SECONDS),
        ...(bodyRead ? {} : closeUnread(c.req.raw, incoming)),
      });
    }
  });

  return app;
}

/**
 * A request refused before its body was read to the end (credentials, size, shape): the rest is not
 * wanted, so the connection is closed after the answer instead of receiving and discarding it.
 */
function closeUnread(request: Request, incoming: NodeIncoming | undefined): Record<string, string> {
  if (incoming !== undefined) return incoming.complete === true ? {} : { connection: 'close' };
  return request.body === null ? {} : { connection: 'close' };
}

/** A 401 names the scheme a client can answer with. */
function challenge(code: string): Record<string, string> {
  return code === 'UNAUTHENTICATED' ? { 'www-authenticate': 'Basic realm="dokubox case systems", charset="UTF-8"' } : {};
}

function faultXmlWithMessage(info: ReturnType<typeof faultInfo>): string {
  return toXml('DokuboxFault', { code: info.code, message: info.message, field: info.field || undefined, element: info.element, retryable: info.retryable }).replace(
    '<dokubox:DokuboxFault>',
    `<dokubox:DokuboxFault xmlns:dokubox="${PICKUP_NS}">`,
  );
}
