/**
 * openapi.yaml against what the service does: every route is driven with good
 * and bad input (no key, every role, malformed and oversized bodies, unknown
 * ids and boxes, bad XML, unsigned webhooks ...) and every status code it
 * answers must be listed for that route; every enum of the contract must list
 * exactly the values of the source's own list.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import SwaggerParser from '@apidevtools/swagger-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signWebhook as signSmartEvent } from '../../adapters/locker/smart/protocol.js';
import { signSevenWebhook } from '../../adapters/sms/seven/webhook.js';
import { ERROR_CODES } from '../../src/core/errors.js';
import { AUDIT_ACTIONS } from '../../src/core/events.js';
import { PICKUP_STATES } from '../../src/core/pickup.js';
import { ALARM_KINDS } from '../../src/store/alarms.js';
import { COMPARTMENT_STATES } from '../../src/store/pickup-store.js';
import { canonicalNotice, soapEnvelope } from '../fixtures/case-system/helpers.js';
import { AUTHORITY, BOX, createWorld, KEYS, notice, type TestWorld } from '../support/harness.js';
import { lazyBody, streamingRequest } from '../support/lazy-body.js';

interface Parameter {
  name: string;
  in: 'path' | 'query' | 'header' | 'cookie';
  required?: boolean;
  schema?: { enum?: string[] };
}
interface Operation {
  parameters?: Parameter[];
  requestBody?: { content: Record<string, unknown> };
  responses: Record<string, unknown>;
}
type Api = { paths: Record<string, Record<string, Operation>>; components: { schemas: Record<string, unknown> } };

const SEVEN_SECRET = 'contract-seven-secret-01';
const SMART_SECRET = 'smart-webhook-secret-0001';
const CASE_USER = 'advis-contract';
const CASE_PASSWORD = 'correct horse battery';
const BASIC = `Basic ${Buffer.from(`${CASE_USER}:${CASE_PASSWORD}`).toString('base64')}`;

/** Statuses only a failing dependency or a bug produces (tests/integration/redis-outage.test.ts, tests/unit/case-receiver-faults.test.ts). */
const FAILURE_ONLY = new Set([500, 503]);
/** Documented error statuses that need more than bad input (a connected locker), and the tests that show them. */
const REACHED_ELSEWHERE: Record<string, number[]> = {
  // A connected locker: unknown compartment (tests/integration/locker-http.test.ts).
  'POST /v1/boxes/{boxId}/compartments/{compartment}/open': [404],
  // Bad query parameters and another authority's box (tests/integration/find-and-audit.test.ts).
  'GET /v1/audit': [400, 422],
};

let world: TestWorld;
let smartWorld: TestWorld;
let api: Api;
/** "METHOD /template" -> statuses seen. */
const seen = new Map<string, Set<number>>();

beforeAll(async () => {
  world = await createWorld({
    env: {
      SEVEN_WEBHOOK_SECRET: SEVEN_SECRET,
      CASE_SYSTEM_CLIENTS: JSON.stringify([{ id: 'contract', authority: AUTHORITY, basic: { username: CASE_USER, passwordSha256: createHash('sha256').update(CASE_PASSWORD).digest('hex') } }]),
    },
  });
  smartWorld = await createWorld({ env: { BOXES_DIR: 'tests/fixtures/boxes-smart', LOCKERS_ENABLED: 'true' } });
  api = (await SwaggerParser.dereference('openapi.yaml')) as unknown as Api;
}, 60_000);
afterAll(async () => {
  await world?.close();
  await smartWorld?.close();
});

async function send(target: TestWorld, method: string, template: string, path: string, init: { headers?: Record<string, string>; body?: string | ReadableStream<Uint8Array> } = {}): Promise<number> {
  const url = `http://localhost${path}`;
  const request = init.body === undefined ? new Request(url, { method, headers: init.headers ?? {} }) : streamingRequest(url, init.headers ?? {}, init.body);
  const res = await target.dokubox.app.request(new Request(request, { method }));
  await res.arrayBuffer();
  const key = `${method} ${template}`;
  if (!seen.has(key)) seen.set(key, new Set());
  seen.get(key)?.add(res.status);
  return res.status;
}

/** The concrete paths of a template: every combination of sample values of its path parameters. */
function concretePaths(template: string, operation: Operation, samples: Record<string, string[]>): string[] {
  let paths = [template];
  for (const parameter of operation.parameters ?? []) {
    if (parameter.in !== 'path') continue;
    const values = parameter.schema?.enum ?? samples[parameter.name];
    if (values === undefined) throw new Error(`no sample values for the path parameter ${parameter.name} of ${template}: add some to the contract test`);
    paths = paths.flatMap((p) => values.map((v) => p.replace(`{${parameter.name}}`, encodeURIComponent(v))));
  }
  return paths;
}

/** Query strings: required parameters from the samples, optional enum parameters absent, valid and invalid. */
function queryStrings(template: string, operation: Operation, samples: Record<string, string[]>): string[] {
  let queries = [''];
  for (const parameter of operation.parameters ?? []) {
    if (parameter.in !== 'query') continue;
    const values = parameter.required === true ? samples[parameter.name] : parameter.schema?.enum ? [undefined, parameter.schema.enum[0], 'bogus'] : [undefined];
    if (values === undefined) throw new Error(`no sample values for the query parameter ${parameter.name} of ${template}: add some to the contract test`);
    queries = queries.flatMap((q) => values.map((v) => (v === undefined ? q : `${q}${q === '' ? '?' : '&'}${parameter.name}=${encodeURIComponent(v)}`)));
  }
  return queries;
}

describe('the status codes of openapi.yaml', () => {
  it('list every status each route answers to good and bad input', async () => {
    const submit = async () => {
      const input = notice();
      const res = await world.request('POST', '/v1/notices', { key: KEYS.caseSystem, body: input });
      const { pickup } = (await res.json()) as { pickup: { id: string; messageId: string; compartment: string } };
      return { ...pickup, serialNumber: input.documents[0]?.serialNumber ?? '' };
    };
    // One pickup for the routes that end it (cancel), one that staff load (and whose compartment is then held).
    const pickup = await submit();
    const loadable = await submit();
    const samples: Record<string, string[]> = {
      pickupId: [pickup.id, 'p-unknown'],
      boxId: [BOX, 'no-such-box', 'dd-rathaus'],
      compartment: [...new Set(['001', loadable.compartment]), 'zzz'],
      mapping: ['xoev-vendor', 'no-such-format'],
      messageId: [pickup.messageId, 'unknown-message', ''],
      deviceId: ['kiosk-00000000', 'not a device'],
      staffNumber: ['1001', 'x'.repeat(40)],
      // GET /v1/boxes/{boxId}/statistics: a week, and a date that does not exist (400).
      from: ['2026-03-02', '2026-02-30'],
      to: ['2026-03-08'],
    };
    const duplicate = notice();
    const keys = [null, 'not-a-key', ...Object.values(KEYS)];
    const json = { 'content-type': 'application/json' };
    const oversized = JSON.stringify({ padding: 'x'.repeat(world.config.BODY_LIMIT_BYTES) });
    const badBodies: { headers: Record<string, string>; body: string }[] = [
      { headers: json, body: '{' },
      { headers: json, body: '' },
      { headers: json, body: '{}' },
      { headers: json, body: '[]' },
      { headers: json, body: '{"unexpected":true}' },
      { headers: { 'content-type': 'text/plain' }, body: 'hello' },
      { headers: json, body: oversized },
    ];
    const goodBodies: Record<string, (() => unknown)[]> = {
      'POST /v1/notices': [
        () => notice(),
        () => notice({ boxId: 'no-such-box' }),
        () => notice({ authority: 'dresden-abh' }),
        () => notice({ consent: false }),
        () => notice({ mobile: '+49 391 5400' }),
        () => notice({ documents: [{ type: 'library-card', serialNumber: 'X1' }] }),
        () => ({ ...notice(), messageId: pickup.messageId }),
        () => duplicate,
      ],
      'POST /v1/pickups/{pickupId}/cancel': [() => ({ reason: 'cancelled_by_staff' }), () => ({ reason: 'bored' })],
      'POST /v1/pickups/{pickupId}/reassign': [() => ({ reason: 'the door did not open at loading' }), () => ({ reason: 'x' })],
      'POST /v1/boxes/{boxId}/loadings': [() => ({ serialNumber: 'NOSUCHDOC1' }), () => ({ serialNumber: loadable.serialNumber })],
      'POST /v1/boxes/{boxId}/pickups': [() => ({ code: '123456', dateOfBirth: '1991-04-17' })],
      // Six failures: the client pauses (429).
      'POST /v1/boxes/{boxId}/verifications': [1, 2, 3, 4, 5, 6].map((n) => () => ({ code: `12345${n}`, dateOfBirth: '1991-04-17' })),
      'POST /v1/kiosk-enrollments': [() => ({ boxId: BOX }), () => ({ boxId: 'no-such-box' })],
      'PUT /v1/staff-accounts/{staffNumber}': [() => ({ pin: '246810', name: 'M. Schulz' }), () => ({ pin: '12' })],
      'POST /v1/boxes/{boxId}/compartments/{compartment}/open': [() => ({ reason: 'taking the expired document out' }), () => ({ reason: 'x' })],
      'POST /v1/pickups/{pickupId}/reveal': [() => ({ reason: 'applicant at the counter' }), () => ({ reason: 'x' })],
      'POST /v1/pickups/{pickupId}/deadline': [() => ({ workingDays: 3, reason: 'applicant abroad until next week' }), () => ({ workingDays: 11, reason: 'applicant abroad' })],
    };
    const special = new Set(['/soap/v1/pickup', '/xml/v1/{mapping}', '/sms/v1/seven/webhook', '/locker/v1/boxes/{boxId}/events']);

    for (const [template, operations] of Object.entries(api.paths)) {
      if (special.has(template)) continue;
      for (const [lower, operation] of Object.entries(operations)) {
        const method = lower.toUpperCase();
        const id = `${method} ${template}`;
        const bodies = operation.requestBody === undefined ? [undefined] : goodBodies[id];
        if (bodies === undefined) throw new Error(`no sample body for ${id}: add one to the contract test`);
        for (const path of concretePaths(template, operation, samples)) {
          for (const query of queryStrings(template, operation, samples)) {
            for (const key of keys) {
              for (const body of bodies) {
                const headers: Record<string, string> = key === null ? {} : { authorization: `Bearer ${key}` };
                await send(world, method, template, `${path}${query}`, body === undefined ? { headers } : { headers: { ...headers, ...json }, body: JSON.stringify(body()) });
              }
            }
            if (method !== 'POST') continue;
            for (const bad of badBodies) await send(world, method, template, `${path}${query}`, { headers: { authorization: `Bearer ${KEYS.admin}`, ...bad.headers }, body: bad.body });
          }
        }
      }
    }

    // The case-system endpoints: WSDL, SOAP in both versions, plain XML.
    for (const query of ['?wsdl', '?xsd=pickup.xsd', '?xsd=other.xsd', '']) await send(world, 'GET', '/soap/v1/pickup', `/soap/v1/pickup${query}`);
    const ours = (fields: Record<string, string | null> = {}) => canonicalNotice({ authority: AUTHORITY, boxId: BOX, messageId: `contract-${Math.random().toString(36).slice(2)}`, ...fields });
    const attributes = Array.from({ length: 100 }, (_, i) => ` a${i}="x"`).join('');
    const envelopes = (version: '1.1' | '1.2') => [
      soapEnvelope(ours(), { version }),
      soapEnvelope(ours({ mobile: '+49 391 5400' }), { version }),
      soapEnvelope(ours({ boxId: 'no-such-box' }), { version }),
      soapEnvelope(ours({ caseNumber: null }), { version }),
      soapEnvelope('<p:DeleteEverything xmlns:p="urn:dokubox:pickup:1"/>', { version }),
      soapEnvelope(ours(), { version }).replace('<soap:Body>', `<soap:Body${attributes}>`),
      '<soap:Envelope',
      '<x/>',
      '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e "e">]><x>&e;</x>',
    ];
    for (const [version, contentType] of [['1.1', 'text/xml; charset=utf-8'], ['1.2', 'application/soap+xml; charset=utf-8']] as const) {
      for (const authorization of [undefined, 'Basic bm9ib2R5Om5vdGhpbmc=', BASIC]) {
        const headers: Record<string, string> = { 'content-type': contentType, ...(authorization === undefined ? {} : { authorization }) };
        for (const envelope of envelopes(version)) await send(world, 'POST', '/soap/v1/pickup', '/soap/v1/pickup', { headers, body: envelope });
        const huge = world.config.CASE_SYSTEM_MAX_BODY_BYTES + 1;
        await send(world, 'POST', '/soap/v1/pickup', '/soap/v1/pickup', { headers: { ...headers, 'content-length': String(huge) }, body: lazyBody(huge).stream });
      }
    }
    const xoev = readFileSync('tests/fixtures/case-system/notify-xoev.request.xml', 'utf8');
    const xoevOurs = xoev.replace('<abh:kennung>mdb-foyer</abh:kennung>', `<abh:kennung>${BOX}</abh:kennung>`);
    const xmlBodies = [
      xoev,
      xoevOurs,
      xoevOurs.replace('34.2-5678/26', '34.2-9999/26'),
      xoev.replace('<code>01</code>', '<code>99</code>'),
      '<x/>',
      '<bad',
      xoev.replace('produkt=', `${attributes} produkt=`),
    ];
    for (const mapping of samples.mapping ?? []) {
      for (const authorization of [undefined, BASIC]) {
        const headers: Record<string, string> = { 'content-type': 'application/xml', ...(authorization === undefined ? {} : { authorization }) };
        for (const body of xmlBodies) await send(world, 'POST', '/xml/v1/{mapping}', `/xml/v1/${mapping}`, { headers, body });
        const huge = world.config.CASE_SYSTEM_MAX_BODY_BYTES + 1;
        await send(world, 'POST', '/xml/v1/{mapping}', `/xml/v1/${mapping}`, { headers: { ...headers, 'content-length': String(huge) }, body: lazyBody(huge).stream });
      }
    }

    // Webhooks: unsigned, signed well and badly, stale, malformed, oversized.
    const now = Math.floor(world.clock.now() / 1000);
    const seven = (body: string, timestamp = now, secret = SEVEN_SECRET): Record<string, string> => {
      const nonce = `n-${Math.random().toString(36).slice(2)}`;
      const signature = signSevenWebhook(secret, { timestamp: String(timestamp), nonce, method: 'POST', url: 'http://localhost/sms/v1/seven/webhook', body });
      return { 'content-type': 'application/json', 'x-signature': signature, 'x-timestamp': String(timestamp), 'x-nonce': nonce };
    };
    const mo = JSON.stringify({ webhook_event: 'sms_mo', data: { id: '1' } });
    const webhook = (headers: Record<string, string>, body: string | ReadableStream<Uint8Array>) => send(world, 'POST', '/sms/v1/seven/webhook', '/sms/v1/seven/webhook', { headers, body });
    await webhook(seven(mo), mo);
    await webhook({ 'content-type': 'application/json' }, mo);
    await webhook(seven(mo, now, 'wrong-secret-000000'), mo);
    await webhook(seven(mo, now - 3600), mo);
    await webhook({ ...seven(mo), 'x-timestamp': 'yesterday' }, mo);
    await webhook(seven('not json'), 'not json');
    await webhook({ ...seven(''), 'content-length': String(1024 * 1024) }, lazyBody(1024 * 1024).stream);
    await webhook(seven(''), lazyBody(1024 * 1024).stream);
    // An instance without SEVEN_WEBHOOK_SECRET takes no webhooks.
    await send(smartWorld, 'POST', '/sms/v1/seven/webhook', '/sms/v1/seven/webhook', { headers: seven(mo), body: mo });

    const smartNow = Math.floor(smartWorld.clock.now() / 1000);
    const smart = (body: string): Record<string, string> => ({ 'content-type': 'application/json', 'x-dokubox-timestamp': String(smartNow), 'x-dokubox-signature': signSmartEvent(SMART_SECRET, smartNow, body) });
    const event = JSON.stringify({ id: 'ev-contract', type: 'compartment.closed', controllerId: 'ctl-test', compartmentId: '001', occurredAt: '2026-03-02T09:00:00Z' });
    for (const target of [world, smartWorld]) {
      for (const box of ['smart-foyer', BOX]) {
        const path = `/locker/v1/boxes/${box}/events`;
        const events = (headers: Record<string, string>, body: string | ReadableStream<Uint8Array>) => send(target, 'POST', '/locker/v1/boxes/{boxId}/events', path, { headers, body });
        await events(smart(event), event);
        await events({ 'content-type': 'application/json' }, event);
        await events({ ...smart(event), 'x-dokubox-signature': 'v1=00' }, event);
        await events(smart('{"id":"x"}'), '{"id":"x"}');
        await events({ ...smart(''), 'content-length': String(1024 * 1024) }, lazyBody(1024 * 1024).stream);
      }
    }

    const undocumented: string[] = [];
    const neverSent: string[] = [];
    for (const [template, operations] of Object.entries(api.paths)) {
      for (const [lower, operation] of Object.entries(operations)) {
        const id = `${lower.toUpperCase()} ${template}`;
        const statuses = seen.get(id) ?? new Set<number>();
        expect(statuses.size, `${id} was never driven`).toBeGreaterThan(0);
        const documented = Object.keys(operation.responses);
        for (const status of statuses) if (!documented.includes(String(status)) && !documented.includes('default')) undocumented.push(`${id} answers ${status}`);
        // The other way round: an error status the contract promises must be one the route sends.
        for (const status of documented.map(Number).filter((n) => n >= 400 && !FAILURE_ONLY.has(n))) {
          if (!statuses.has(status) && !(REACHED_ELSEWHERE[id] ?? []).includes(status)) neverSent.push(`${id} documents ${status}, never sent`);
        }
      }
    }
    expect(undocumented).toEqual([]);
    expect(neverSent).toEqual([]);
  }, 120_000);
});

describe('the enums of openapi.yaml', () => {
  const schema = (path: string[]): { enum?: string[] } => {
    let node: unknown = api;
    for (const step of path) node = (node as Record<string, unknown>)[step];
    return node as { enum?: string[] };
  };
  const sorted = (values: readonly string[] | undefined): string[] => [...(values ?? [])].sort();

  it('list exactly the values of the source: alarm kinds, error codes, pickup and compartment states, audit actions', () => {
    const alarms = schema(['paths', '/v1/boxes/{boxId}/alarms', 'get', 'responses', '200', 'content', 'application/json', 'schema', 'properties', 'alarms', 'items', 'properties', 'kind']);
    expect(sorted(alarms.enum)).toEqual(sorted(ALARM_KINDS));
    const errorCodes = schema(['components', 'schemas', 'Error', 'properties', 'error', 'properties', 'code']);
    expect(sorted(errorCodes.enum)).toEqual(sorted(Object.keys(ERROR_CODES)));
    expect(sorted(schema(['components', 'schemas', 'PickupState']).enum)).toEqual(sorted(PICKUP_STATES));
    expect(sorted(schema(['components', 'schemas', 'CompartmentState']).enum)).toEqual(sorted(COMPARTMENT_STATES));
    expect(sorted(schema(['components', 'schemas', 'AuditAction']).enum)).toEqual(sorted(AUDIT_ACTIONS));
  });
});
