/**
 * An in-memory gateway for tests of code that sends SMS (the pickup service,
 * HTTP routes): it accepts every message, keeps it in `sent`, and lets the
 * test play delivery reports back. No network, no timing.
 *
 * @example
 * const gateway = new MemorySmsGateway();
 * gateway.failNext(new SmsSendError('invalid_number', 'test'));
 * await gateway.report(gateway.sent[0]!.providerMessageId, 'delivered');
 */
import { DeliveryReportHub, type DeliveryReportListener, type DeliveryStatus, type SmsGateway, type SmsMessage, type SmsSendError, type SmsSendResult } from '../types.js';
import { countSegmentsForGateway } from './segments.js';

export interface SentSms extends SmsMessage, SmsSendResult {}

export class MemorySmsGateway implements SmsGateway {
  readonly name: string = 'memory';
  readonly sent: SentSms[] = [];
  private readonly failures: SmsSendError[] = [];
  private readonly hub = new DeliveryReportHub();
  private counter = 0;

  /** The next `send` throws this error instead of accepting. */
  failNext(error: SmsSendError): void {
    this.failures.push(error);
  }

  async send(message: SmsMessage): Promise<SmsSendResult> {
    const failure = this.failures.shift();
    if (failure) throw failure;
    this.counter += 1;
    const { encoding, parts } = countSegmentsForGateway(message.text);
    const result: SmsSendResult = { providerMessageId: `mem-${this.counter}`, parts, encoding };
    this.sent.push({ ...message, ...result });
    return result;
  }

  /** Plays a delivery report for a message back to the listeners. */
  async report(providerMessageId: string, status: DeliveryStatus): Promise<void> {
    await this.hub.emit({ gateway: this.name, providerMessageId, status, providerStatus: status.toUpperCase() });
  }

  onDeliveryReport(listener: DeliveryReportListener): () => void {
    return this.hub.add(listener);
  }

  async close(): Promise<void> {}
}
