/**
 * Connects pickups to the SMS queue: state changes (from the event stream)
 * queue messages, outcomes and delivery reports come back as state changes,
 * events for the case system, and staff alarms.
 *
 *   loaded    -> "ready" SMS with the code; accepted -> notified (deadline starts)
 *   notified  -> reminder N working days before the deadline
 *   expired   -> "expired" SMS;  cancelled (after notification) -> "cancelled" SMS
 *   new code (pickup.code event) -> "code" SMS of that code generation, once per generation;
 *             accepted -> notified when the pickup was loaded (its ready SMS had failed)
 *   permanent failure / undeliverable -> event `sms_failed` / `sms_undeliverable` + alarm
 */
import type { Logger } from 'pino';
import type { SmsGateway } from '../../adapters/sms/types.js';
import { DokuboxError } from '../core/errors.js';
import type { PickupEvent } from '../core/events.js';
import type { PickupService } from '../service/pickup-service.js';
import type { EventSubscriber } from '../service/types.js';
import type { AlarmSink } from '../store/alarms.js';
import type { SmsOutcome, SmsQueue, SmsReader } from './queue.js';
import type { SmsKind } from './templates.js';

export interface SmsNotificationsOptions {
  service: PickupService;
  alarms: AlarmSink;
  logger: Logger;
  reminderWorkingDays: number;
}

export class SmsNotifications {
  private queue: SmsQueue | undefined;

  constructor(private readonly o: SmsNotificationsOptions) {}

  /** The queue's reader: personal data is decrypted only here, at send time. */
  readonly reader: SmsReader = {
    loadForSms: (pickupId, kind, generation) => this.o.service.smsRecipient(pickupId, kind, generation),
  };

  bind(queue: SmsQueue): void {
    this.queue = queue;
  }

  attach(events: EventSubscriber): void {
    events.subscribe('sms', (event) => this.onEvent(event));
  }

  /**
   * Delivery reports become events (and, when undeliverable, a staff alarm).
   * They are idempotent, also with several instances: for one gateway
   * message and kind at most one `sms_delivered` and one `sms_undeliverable`
   * event is recorded, whatever the gateway repeats (a marker field of the
   * pickup, set in the same script as the event). An undeliverable report
   * after a delivered one is not recorded (a delivered SMS cannot become
   * undelivered; the gateway contradicts itself); a delivered report after
   * an undeliverable one is (another route got it through after all: the
   * case system and staff learn that the applicant has the code).
   */
  listen(queue: SmsQueue, gateway: SmsGateway): () => void {
    return queue.listenForDeliveryReports(gateway, async (pickupId, kind, report) => {
      // A delivery report proves the gateway accepted the ready SMS (or the new code's SMS that took its place,
      // see onOutcome); it can overtake the worker's own bookkeeping of that acceptance. Record the acceptance
      // first, so that the pickup's events (and the case system's reports) keep the domain's order: notified,
      // then delivered.
      if (kind === 'ready' || kind === 'code') await this.markNotified(pickupId);
      const marker = (outcome: 'delivered' | 'undeliverable'): string => `dlr:${kind}:${report.providerMessageId}:${outcome}`;
      let recorded: boolean;
      if (report.status === 'delivered') {
        recorded = await this.o.service.recordSms(pickupId, 'sms_delivered', { smsStatus: 'delivered' }, { once: marker('delivered') }, kind);
      } else if (report.status === 'failed' || report.status === 'expired' || report.status === 'rejected') {
        recorded = await this.o.service.recordSms(pickupId, 'sms_undeliverable', { smsStatus: report.status }, { once: marker('undeliverable'), unless: marker('delivered') }, kind);
        if (recorded) {
          const boxId = (await this.o.service.boxOfPickup(pickupId)) ?? 'unknown';
          await this.o.alarms.raise({ kind: 'sms_undeliverable', boxId, pickupId, detail: `${kind}:${report.status}` });
        }
      } else {
        return;
      }
      if (!recorded) {
        this.o.logger.info({ pickupId, kind, gateway: report.gateway, providerMessageId: report.providerMessageId, status: report.status }, 'delivery report not recorded: already recorded for this message, or the pickup is gone');
      }
    });
  }

  private async onEvent(event: PickupEvent): Promise<void> {
    const queue = this.queue;
    if (queue !== undefined && event.type === 'pickup.code') return this.onNewCode(queue, event);
    if (event.type === 'pickup.audit' && event.reason === 'deadline_extended') {
      // Staff moved the deadline: the reminder moves with it (also when it was sent already: it then tells the new deadline).
      if (queue !== undefined && this.o.reminderWorkingDays > 0) await this.o.service.scheduleReminder(event.pickupId, this.o.reminderWorkingDays);
      return;
    }
    if (queue === undefined || event.type !== 'pickup.transitioned' && event.type !== 'pickup.created') return;
    switch (event.to) {
      case 'loaded':
        await queue.notify(event.pickupId, 'ready');
        return;
      case 'notified':
        if (this.o.reminderWorkingDays > 0) await this.o.service.scheduleReminder(event.pickupId, this.o.reminderWorkingDays);
        return;
      case 'expired':
        await queue.cancel(event.pickupId, 'reminder');
        await queue.notify(event.pickupId, 'expired');
        return;
      case 'cancelled':
        await queue.cancel(event.pickupId, 'reminder');
        if (event.from === 'notified' || event.from === 'expired') await queue.notify(event.pickupId, 'cancelled');
        return;
      case 'collected':
      case 'returned':
      case 'fault':
        await queue.cancel(event.pickupId, 'reminder');
        return;
      default:
        return;
    }
  }

  /**
   * Staff issued a new code: its SMS, once for this generation (a replayed
   * event queues nothing new; the job of a generation that a newer code
   * overtook sends nothing, see PickupService.smsRecipient).
   */
  private async onNewCode(queue: SmsQueue, event: PickupEvent): Promise<void> {
    const generation = event.codeGeneration;
    if (event.reason !== 'code_reissued' || generation === undefined) return;
    await queue.notify(event.pickupId, 'code', { generation });
  }

  /**
   * Queues the reminder SMS of every pickup whose reminder is due (run by the
   * maintenance sweep); returns how many. Queuing is idempotent, so a crash
   * between queuing and forgetting the due entry sends nothing twice.
   */
  async sendDueReminders(): Promise<number> {
    const queue = this.queue;
    if (queue === undefined) return 0;
    const due = await this.o.service.dueReminders();
    for (const pickupId of due) {
      await queue.notify(pickupId, 'reminder');
      await this.o.service.reminderQueued(pickupId);
    }
    return due.length;
  }

  /** The ready SMS was accepted: the pickup becomes notified, unless it is already (a repeat, or a delivery report came first) or ended. */
  private async markNotified(pickupId: string): Promise<void> {
    try {
      await this.o.service.markNotified(pickupId, 'system:sms');
    } catch (error) {
      if (!(error instanceof DokuboxError && (error.code === 'ILLEGAL_TRANSITION' || error.code === 'NOT_FOUND'))) throw error;
    }
  }

  /** Idempotent: called at least once per final outcome. */
  readonly onOutcome = async (pickupId: string, kind: SmsKind, outcome: SmsOutcome): Promise<void> => {
    if (kind === 'cancelled') await this.o.service.forgetFarewell(pickupId);
    if (outcome.status === 'skipped') return;
    if (outcome.status === 'sent') {
      if (kind === 'ready') {
        await this.markNotified(pickupId);
      } else if (kind === 'reminder') {
        await this.o.service.recordSms(pickupId, 'reminder_sent', {}, {}, kind);
      } else if (kind === 'code') {
        // A loaded pickup whose SMS with the code failed got this code instead: now the applicant has one, the pickup is notified.
        await this.markNotified(pickupId);
        // For the audit trail only: `code_sent` is no status report (the case system did not ask for the new code).
        await this.o.service.recordSms(pickupId, 'code_sent', {}, {}, kind);
      }
      return;
    }
    // failed (permanent or out of retries) or uncertain (timeout after sending).
    const detail = outcome.status === 'failed' ? `${kind}:${outcome.reason}` : `${kind}:uncertain`;
    await this.o.service.recordSms(pickupId, 'sms_failed', { smsStatus: outcome.status, smsFailure: detail }, {}, kind);
    const boxId = (await this.o.service.boxOfPickup(pickupId)) ?? 'unknown';
    await this.o.alarms.raise({ kind: 'sms_failed', boxId, pickupId, detail });
    this.o.logger.warn({ pickupId, kind, outcome: outcome.status }, 'SMS not delivered to the gateway; staff must contact the applicant another way');
  };
}
