/**
 * The simulated phones: every message a simulated gateway delivers lands in
 * the inbox of its number, where testers (GET /inbox/:number) and tests
 * (`waitFor`) read it.
 */
export interface InboxMessage {
  /** The gateway's message id. */
  id: string;
  /** E.164. */
  to: string;
  from: string;
  text: string;
  encoding: 'gsm' | 'ucs2';
  parts: number;
  via: 'http' | 'smpp';
  foreignId?: string;
  receivedAt: string;
}

export class PhoneInbox {
  private readonly messages = new Map<string, InboxMessage[]>();
  private waiters: { to: string; count: number; resolve: (messages: InboxMessage[]) => void }[] = [];

  static normalise(number: string): string {
    const digits = number.replace(/[^\d+]/g, '');
    if (digits.startsWith('+')) return digits;
    if (digits.startsWith('00')) return `+${digits.slice(2)}`;
    return `+${digits}`;
  }

  receive(message: InboxMessage): void {
    const to = PhoneInbox.normalise(message.to);
    const list = this.messages.get(to) ?? [];
    list.push({ ...message, to });
    this.messages.set(to, list);
    this.waiters = this.waiters.filter((w) => {
      if (w.to !== to || list.length < w.count) return true;
      w.resolve([...list]);
      return false;
    });
  }

  list(number: string): InboxMessage[] {
    return [...(this.messages.get(PhoneInbox.normalise(number)) ?? [])];
  }

  all(): Record<string, InboxMessage[]> {
    return Object.fromEntries([...this.messages].map(([to, list]) => [to, [...list]]));
  }

  count(): number {
    let total = 0;
    for (const list of this.messages.values()) total += list.length;
    return total;
  }

  clear(): void {
    this.messages.clear();
  }

  /** Resolves once the number has received at least `count` messages. */
  waitFor(number: string, count = 1): Promise<InboxMessage[]> {
    const to = PhoneInbox.normalise(number);
    const list = this.messages.get(to) ?? [];
    if (list.length >= count) return Promise.resolve([...list]);
    return new Promise((resolve) => this.waiters.push({ to, count, resolve }));
  }
}
