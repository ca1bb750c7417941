/**
 * The faults a tester can switch on and off in the simulated world (from the
 * console or a scenario). Each names the part it breaks and what a tester
 * should expect dokubox to do about it.
 */
export type FaultKind =
  | 'jammed-lock'
  | 'broken-sensor'
  | 'silent-board'
  | 'dropped-gateway'
  | 'garbage-replies'
  | 'split-replies'
  | 'sms-down'
  | 'sms-slow'
  | 'sms-rejecting'
  | 'sms-reports-lost'
  | 'sms-undelivered'
  | 'callback-down'
  | 'callback-slow'
  /** For proving the scenario runner's checks only: no real case system does this. */
  | 'callback-forgets';

/** Where a fault sits: a compartment, a gateway (and board) of a box, or nothing (the SMS gateway, the case system). */
export interface FaultTarget {
  box?: string;
  compartment?: string;
  gateway?: string;
  board?: number;
  /** For `sms-slow`: how long each answer takes. */
  ms?: number;
}

export interface FaultSpec {
  part: 'locker' | 'sms' | 'case-system';
  /** What the target must name. */
  target: 'compartment' | 'gateway' | 'board' | 'none';
  /** Faults of one group replace each other (the SMS gateway has one standing behaviour). */
  exclusive?: string;
  description: string;
  /** What dokubox should do about it. */
  expect: string;
}

export const FAULT_KINDS: Record<FaultKind, FaultSpec> = {
  'jammed-lock': { part: 'locker', target: 'compartment', description: 'The lock does not open when pulsed.', expect: 'door_failed alarm; the compartment is marked defective; the pickup is reassigned or staff are asked.' },
  'broken-sensor': { part: 'locker', target: 'compartment', description: 'The item sensor always reads empty.', expect: 'a loaded compartment looks empty: alarm on load or pickup; staff check it.' },
  'silent-board': { part: 'locker', target: 'board', description: 'A lock board stops answering (power loss, cut RS485 line).', expect: 'board offline alarm; its compartments are not opened; the kiosk says out of order when no board answers.' },
  'dropped-gateway': { part: 'locker', target: 'gateway', description: 'The TCP gateway drops off the network.', expect: 'reconnects with backoff; box offline alarm; nothing is opened twice after it returns.' },
  'garbage-replies': { part: 'locker', target: 'gateway', description: 'Line noise before every reply.', expect: 'the frame parser skips it; nothing changes for applicants.' },
  'split-replies': { part: 'locker', target: 'gateway', description: 'Replies arrive in two TCP segments.', expect: 'frames are reassembled; nothing changes for applicants.' },
  'sms-down': { part: 'sms', target: 'none', exclusive: 'sms', description: 'The SMS gateway answers HTTP 503.', expect: 'SMS are retried with backoff; after the last attempt an smsFailed report and an alarm.' },
  'sms-slow': { part: 'sms', target: 'none', exclusive: 'sms', description: 'The SMS gateway answers after several seconds.', expect: 'timeouts make the outcome uncertain: no second SMS, an alarm for staff.' },
  'sms-rejecting': { part: 'sms', target: 'none', exclusive: 'sms', description: 'The SMS gateway refuses the numbers (code 202).', expect: 'no retry; smsFailed report to the case system and an alarm.' },
  'sms-reports-lost': { part: 'sms', target: 'none', description: 'Delivery reports never come.', expect: 'the SMS stays accepted (not delivered); nothing is sent twice.' },
  'sms-undelivered': { part: 'sms', target: 'none', description: 'Messages do not reach the phones (delivery report NOTDELIVERED).', expect: 'smsFailed report to the case system and an alarm.' },
  'callback-down': { part: 'case-system', target: 'none', exclusive: 'callback', description: "The case system's callback endpoint answers HTTP 500.", expect: 'status reports are retried in order; after the last attempt they are dead letters with an alarm.' },
  'callback-slow': { part: 'case-system', target: 'none', exclusive: 'callback', description: "The case system's callback endpoint does not answer in time.", expect: 'reports time out and are retried in order.' },
  'callback-forgets': {
    part: 'case-system',
    target: 'none',
    description: 'Test only, to prove the scenario checks: the case system acknowledges status reports and then forgets them.',
    expect: 'nothing dokubox can notice; a scenario run fails its invariant "reported to the case system, complete and in order" naming the pickups.',
  },
};

export function faultId(kind: FaultKind, target: FaultTarget): string {
  const parts = [kind, target.box, target.gateway, target.board === undefined ? undefined : String(target.board), target.compartment].filter((p): p is string => p !== undefined && p !== '');
  return parts.join(':');
}

export function parseFaultId(id: string): { kind: FaultKind; target: FaultTarget } | undefined {
  const [kind, ...rest] = id.split(':');
  const spec = FAULT_KINDS[kind as FaultKind] as FaultSpec | undefined;
  if (spec === undefined) return undefined;
  const [box, a, b] = rest;
  switch (spec.target) {
    case 'none':
      return { kind: kind as FaultKind, target: {} };
    case 'compartment':
      return box === undefined || a === undefined ? undefined : { kind: kind as FaultKind, target: { box, compartment: a } };
    case 'gateway':
      return box === undefined || a === undefined ? undefined : { kind: kind as FaultKind, target: { box, gateway: a } };
    case 'board':
      return box === undefined || a === undefined || b === undefined ? undefined : { kind: kind as FaultKind, target: { box, gateway: a, board: Number(b) } };
  }
}
