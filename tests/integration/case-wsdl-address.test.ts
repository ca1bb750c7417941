/**
 * The address the served WSDL publishes (soap:address and the schema
 * import): CASE_SYSTEM_PUBLIC_URL, then PUBLIC_URL, then the listener the
 * request came in on. The request's Host header is never used.
 */
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { describe, expect, it } from 'vitest';
import { AUTHORITY, createWorld } from '../support/harness.js';
import { mutualTlsEnv, tlsFile } from '../fixtures/case-system/helpers.js';

/** GET ?wsdl with a forged Host header, over HTTP or (with the test client certificate) HTTPS. */
function getWsdl(url: string): Promise<string> {
  const target = new URL('/soap/v1/pickup?wsdl', url);
  const options = { host: target.hostname, port: target.port, path: `${target.pathname}${target.search}`, headers: { host: 'evil.example' } };
  return new Promise((resolve, reject) => {
    const onResponse = (res: IncomingMessage): void => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => (res.statusCode === 200 ? resolve(text) : reject(new Error(`status ${res.statusCode}`))));
    };
    const req =
      target.protocol === 'https:'
        ? httpsRequest({ ...options, servername: 'localhost', ca: tlsFile('ca.crt'), key: tlsFile('client.key'), cert: tlsFile('client.crt') }, onResponse)
        : httpRequest(options, onResponse);
    req.on('error', reject);
    req.end();
  });
}

const addresses = (wsdl: string): string[] => [...wsdl.matchAll(/(?:location|schemaLocation)="([^"]+)"/g)].map((m) => m[1] ?? '');

describe('the served WSDL names the service', () => {
  it('by the listener\'s own address when no public URL is configured, whatever the Host header says', async () => {
    const world = await createWorld({ env: { PORT: '0' } });
    try {
      const { url } = await world.dokubox.listen();
      const wsdl = await getWsdl(url);
      expect(wsdl).not.toContain('evil.example');
      expect(addresses(wsdl)).toEqual([`${url}/soap/v1/pickup?xsd=pickup.xsd`, `${url}/soap/v1/pickup`, `${url}/soap/v1/pickup`]);
    } finally {
      await world.close();
    }
  });

  it('on the mutual-TLS listener by its https address', async () => {
    const world = await createWorld({ env: mutualTlsEnv(AUTHORITY) });
    try {
      const { tlsUrl } = await world.dokubox.listen();
      expect(tlsUrl).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
      const wsdl = await getWsdl(tlsUrl ?? '');
      expect(addresses(wsdl)).toEqual([`${tlsUrl}/soap/v1/pickup?xsd=pickup.xsd`, `${tlsUrl}/soap/v1/pickup`, `${tlsUrl}/soap/v1/pickup`]);
    } finally {
      await world.close();
    }
  });

  it('by PUBLIC_URL when set, and by CASE_SYSTEM_PUBLIC_URL before it', async () => {
    const general = await createWorld({ env: { PORT: '0', PUBLIC_URL: 'https://dokubox.abh.example' } });
    try {
      const wsdl = await getWsdl((await general.dokubox.listen()).url);
      expect(addresses(wsdl)).toEqual(['https://dokubox.abh.example/soap/v1/pickup?xsd=pickup.xsd', 'https://dokubox.abh.example/soap/v1/pickup', 'https://dokubox.abh.example/soap/v1/pickup']);
    } finally {
      await general.close();
    }
    const specific = await createWorld({ env: { PORT: '0', PUBLIC_URL: 'https://dokubox.abh.example', CASE_SYSTEM_PUBLIC_URL: 'https://soap.abh.example/box/' } });
    try {
      const wsdl = await getWsdl((await specific.dokubox.listen()).url);
      expect(addresses(wsdl)).toEqual(['https://soap.abh.example/box/soap/v1/pickup?xsd=pickup.xsd', 'https://soap.abh.example/box/soap/v1/pickup', 'https://soap.abh.example/box/soap/v1/pickup']);
    } finally {
      await specific.close();
    }
  });
});
