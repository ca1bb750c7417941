/**
 * The case system's side of the pickup interface: a node-soap client built
 * from the middleware's own ?wsdl that sends notices (canonical over SOAP,
 * the XÖV vendor format as plain XML or inside SOAP), cancels and polls.
 */
import { randomBytes } from 'node:crypto';
import soap from 'soap';
import { sampleNotice, toXoevXml, type RenewalOptions, type SampleNotice } from './data.js';

export interface SimulatorCredentials {
  basic?: { username: string; password: string };
  wsse?: { username: string; password: string };
}

export interface NotifyOutcome {
  outcome: 'created' | 'duplicate';
  pickupId: string;
  messageId: string;
  state: string;
}

export type PickupRef = { pickupId: string } | { messageId: string };

export class CaseSystemSimulator {
  private client: soap.Client | undefined;

  /** `baseUrl` is the middleware's origin, e.g. http://localhost:8080. */
  constructor(
    private readonly baseUrl: string,
    private readonly credentials: SimulatorCredentials = {},
    private readonly soapPath = '/soap/v1/pickup',
  ) {}

  private async soapClient(): Promise<soap.Client> {
    if (this.client === undefined) {
      const wsdl = `${this.baseUrl}${this.soapPath}?wsdl`;
      const client = await soap.createClientAsync(wsdl, { endpoint: `${this.baseUrl}${this.soapPath}` });
      if (this.credentials.wsse) {
        client.setSecurity(new soap.WSSecurity(this.credentials.wsse.username, this.credentials.wsse.password, { passwordType: 'PasswordDigest', hasNonce: true, hasTimeStamp: false }));
      } else if (this.credentials.basic) {
        client.setSecurity(new soap.BasicAuthSecurity(this.credentials.basic.username, this.credentials.basic.password));
      }
      this.client = client;
    }
    return this.client;
  }

  private async call(operation: string, args: unknown): Promise<Record<string, unknown>> {
    const client = await this.soapClient();
    // The SOAP 1.1 port; its methods are on the port object.
    const port = (client as unknown as Record<string, Record<string, Record<string, (a: unknown, cb: (err: unknown, result: Record<string, unknown>) => void) => void>>>).PickupService?.PickupSoap11Port;
    const method = port?.[operation];
    if (method === undefined) throw new Error(`the WSDL has no operation ${operation}`);
    return new Promise((resolve, reject) => method(args, (err, result) => (err ? reject(err instanceof Error ? err : new Error('SOAP call failed')) : resolve(result))));
  }

  /** Sends one canonical notice over SOAP. */
  async notify(notice: SampleNotice): Promise<NotifyOutcome> {
    const { documents, ...rest } = notice;
    const result = await this.call('NotifyDocumentsReady', { ...rest, documents: { document: documents } });
    return result as unknown as NotifyOutcome;
  }

  /** Sends the notice in the XÖV vendor format as plain XML (POST /xml/v1/xoev-vendor); returns status and body. */
  async notifyXoev(notice: SampleNotice, createdAt = '2026-01-05T08:00:00+01:00'): Promise<{ status: number; body: string }> {
    const headers: Record<string, string> = { 'content-type': 'application/xml; charset=utf-8' };
    if (this.credentials.basic) headers.authorization = `Basic ${Buffer.from(`${this.credentials.basic.username}:${this.credentials.basic.password}`).toString('base64')}`;
    const res = await fetch(`${this.baseUrl}/xml/v1/xoev-vendor`, { method: 'POST', headers, body: `<?xml version="1.0" encoding="UTF-8"?>${toXoevXml(notice, createdAt)}` });
    return { status: res.status, body: await res.text() };
  }

  /** Sends the XÖV vendor message inside a SOAP 1.1 body to the SOAP endpoint. */
  async notifyXoevSoap(notice: SampleNotice, createdAt = '2026-01-05T08:00:00+01:00'): Promise<{ status: number; body: string }> {
    const headers: Record<string, string> = { 'content-type': 'text/xml; charset=utf-8' };
    if (this.credentials.basic) headers.authorization = `Basic ${Buffer.from(`${this.credentials.basic.username}:${this.credentials.basic.password}`).toString('base64')}`;
    const body = `<?xml version="1.0" encoding="UTF-8"?><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>${toXoevXml(notice, createdAt)}</soap:Body></soap:Envelope>`;
    const res = await fetch(`${this.baseUrl}${this.soapPath}`, { method: 'POST', headers, body });
    return { status: res.status, body: await res.text() };
  }

  /** Sends `count` realistic notices, `parallel` at a time; returns the outcomes in order. */
  async notifyBatch(count: number, options: { parallel?: number; runId?: string; authority?: string; boxId?: string } & RenewalOptions = {}): Promise<NotifyOutcome[]> {
    const runId = options.runId ?? randomBytes(4).toString('hex');
    const out: NotifyOutcome[] = new Array<NotifyOutcome>(count);
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < count) {
        const i = next++;
        out[i] = await this.notify(
          sampleNotice(i, {
            runId,
            ...(options.authority ? { authority: options.authority } : {}),
            ...(options.boxId ? { boxId: options.boxId } : {}),
            ...(options.renewal === undefined ? {} : { renewal: options.renewal }),
            ...(options.oldCardCan === undefined ? {} : { oldCardCan: options.oldCardCan }),
          }),
        );
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, options.parallel ?? 4) }, worker));
    return out;
  }

  async cancel(ref: PickupRef): Promise<{ pickupId: string; state: string }> {
    return (await this.call('CancelPickup', ref)) as unknown as { pickupId: string; state: string };
  }

  async status(ref: PickupRef): Promise<{ pickupId: string; state: string; [key: string]: unknown }> {
    const result = await this.call('GetPickupStatus', ref);
    return result.pickup as { pickupId: string; state: string };
  }

  /** Polls the status until it is `state` (or one of them); `wait` decides how long to pause between polls. */
  async pollUntil(ref: PickupRef, states: string | string[], options: { attempts?: number; wait?: () => Promise<void> } = {}): Promise<string> {
    const wanted = Array.isArray(states) ? states : [states];
    const wait = options.wait ?? (() => new Promise<void>((resolve) => setTimeout(resolve, 1000)));
    for (let i = 0; i < (options.attempts ?? 60); i++) {
      const { state } = await this.status(ref);
      if (wanted.includes(state)) return state;
      await wait();
    }
    throw new Error(`pickup did not reach ${wanted.join('/')}`);
  }
}
