/**
 * Delivers status reports to a case system's PickupStatusCallback service
 * with a node-soap client (SOAP 1.1 port of callback.wsdl, endpoint from the
 * target). A SOAP fault or HTTP error rejects; the report queue decides
 * whether to retry. node-soap is loaded with the first report, not at
 * start-up.
 */
import type * as SoapNamespace from 'soap';
import type { Client } from 'soap';

type SoapModule = typeof SoapNamespace;
import type { CallbackTarget, CaseSystemReport, ReportDeliverer } from '../../src/case-system/reports.js';
import { CALLBACK_WSDL } from './wsdl.js';

type Invoke = (args: unknown, callback: (err: unknown, result: unknown) => void, options?: Record<string, unknown>) => void;

/** An error the receiving case system reported itself (a SOAP client fault): retrying the same report cannot help. */
export class CallbackRejectedError extends Error {
  readonly permanent = true;
}

async function createSoapClient(wsdlPath: string, target: CallbackTarget): Promise<Client> {
  // CommonJS package: Node gives its exports as `default`, some loaders (tsx) as the namespace itself.
  const loaded = (await import('soap')) as SoapModule & { default?: SoapModule };
  const soap = loaded.default ?? loaded;
  const client = await soap.createClientAsync(wsdlPath, { endpoint: target.url });
  if (target.wsse) client.setSecurity(new soap.WSSecurity(target.wsse.username, target.wsse.password, { passwordType: 'PasswordDigest', hasTimeStamp: true, hasNonce: true }));
  else if (target.basic) client.setSecurity(new soap.BasicAuthSecurity(target.basic.username, target.basic.password));
  return client;
}

export class SoapCallbackClient implements ReportDeliverer {
  private readonly clients = new Map<string, Promise<Client>>();

  constructor(private readonly options: { wsdlPath?: string; defaultTimeoutMs?: number } = {}) {}

  private client(target: CallbackTarget): Promise<Client> {
    const key = `${target.url}|${target.wsse?.username ?? ''}|${target.basic?.username ?? ''}`;
    let client = this.clients.get(key);
    if (client === undefined) {
      client = createSoapClient(this.options.wsdlPath ?? CALLBACK_WSDL, target);
      client.catch(() => this.clients.delete(key));
      this.clients.set(key, client);
    }
    return client;
  }

  async deliver(target: CallbackTarget, report: CaseSystemReport): Promise<void> {
    const client = await this.client(target);
    const port = (client as unknown as Record<string, Record<string, Record<string, Invoke>>>).PickupStatusCallback?.PickupStatusCallbackSoap11Port;
    const invoke = port?.ReportPickupEvent;
    if (invoke === undefined) throw new Error('callback.wsdl has no ReportPickupEvent on its SOAP 1.1 port');
    await new Promise<void>((resolve, reject) => {
      invoke(
        report,
        (err) => {
          if (err === null || err === undefined) return resolve();
          const fault = (err as { root?: { Envelope?: { Body?: { Fault?: { faultcode?: string } } } } }).root?.Envelope?.Body?.Fault;
          // A client fault says this report is wrong: retrying cannot help. Anything else (5xx, timeouts) may.
          if (typeof fault?.faultcode === 'string' && /Client$/.test(fault.faultcode)) reject(new CallbackRejectedError('the case system rejected the report'));
          else reject(new Error(err instanceof Error ? err.message : 'callback failed'));
        },
        { timeout: target.timeoutMs ?? this.options.defaultTimeoutMs ?? 10_000 },
      );
    });
  }
}
