/**
 * Plays a scenario headless: a private redis-server, the simulated world
 * (lock boards, phones, case system), N middleware instances as child
 * processes (a balancer in front of several, kill -9 on a schedule), and the
 * runner itself as the case system's clerk (notices), the staff (loading,
 * taking documents back, repairing doors, replaying dead letters) and the
 * applicants (code from the SMS, entries at the kiosk API, take, close). It
 * records what every part saw, asks the middleware for each pickup's story at
 * the end, and checks the invariants (invariants.ts) over it.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { join } from 'node:path';
import { DateTime } from 'luxon';
import { freePort, startPrivateRedis, type PrivateRedis } from '../../src/cli/redis-server.js';
import { BoxCalendar } from '../../src/core/calendar.js';
import type { BoxDefinition } from '../../src/core/box.js';
import { loadBoxes } from '../../src/mappings/loaders.js';
import { projectPath } from '../../src/project-root.js';
import { startBalancer, type Balancer } from '../balancer.js';
import type { FaultKind, FaultTarget } from '../faults.js';
import type { EmulatorUnlock } from '../locker/cu16-emulator.js';
import { startServiceProcess, type ServiceProcess } from '../processes.js';
import { RedisWorldTime } from '../world-time.js';
import { SimulatedWorld, WALL_TIME, type SentNotice, type WorldChange, type WorldTime } from '../world.js';
import { dateOfBirthForms, enteredDateOfBirth, makeApplicant, mobileForms, seededRandom, type Applicant } from './applicants.js';
import { scriptClock, Timetable, worldClock, type ScenarioClock } from './clock.js';
import { resolveAt, ScenarioError, startInstant, type Scenario, type ScenarioStep } from './format.js';
import { checkInvariants, FINAL_STATES, type DoorRequest, type NoticeRecord, type PickupRecord, type Recording, type TimelineEvent } from './invariants.js';
import { percentiles, type ScenarioReport } from './report.js';

export interface RunOptions {
  /** The scenario file, for the report. */
  file?: string;
  /** Progress lines for people (default: none). */
  progress?: (line: string) => void;
  /** Keep every instance's log lines in this directory. */
  logDir?: string;
}

export interface ScenarioResult {
  report: ScenarioReport;
  ok: boolean;
}

/** One pickup as the runner follows it. */
interface Track {
  index: number;
  messageId: string;
  pickupId?: string;
  box: string;
  applicant: Applicant;
  serialNumber: string;
  compartment?: string;
  loading: boolean;
  loaded: boolean;
  code?: string;
  visitPlanned: boolean;
  /** A visit is in the timetable and has not happened yet. */
  visitPending?: boolean;
  /** Staff gave it a new code after the SMS with its code failed. */
  newCodeIssued?: boolean;
  visits: number;
  handedOver: boolean;
  leftover: boolean;
  state?: string;
  /** When the applicant comes next (scenario time). */
  visitAt?: number;
  /** Settles once the case system has its answer (after resends). */
  answered?: Promise<void>;
}

interface Api {
  status: number;
  body: Record<string, unknown>;
}

const STAFF_REASON = 'Scenario: staff take the document back';
/** Real time between looks at the middleware while the run waits for the last pickups. */
const SETTLE_LOOK_MS = 250;

const delay = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));


export async function runScenario(scenario: Scenario, options: RunOptions = {}): Promise<ScenarioResult> {
  const run = new ScenarioRun(scenario, options);
  try {
    return await run.play();
  } finally {
    await run.close();
  }
}

class ScenarioRun {
  private readonly progress: (line: string) => void;
  private readonly boxes: BoxDefinition[];
  private readonly box: BoxDefinition;
  private readonly zone: string;
  private readonly random: () => number;
  private readonly keys = new Map<string, { staff: string; kiosk: string }>();
  private redis: PrivateRedis | undefined;
  private world: SimulatedWorld | undefined;
  private readonly instances: ServiceProcess[] = [];
  private balancer: Balancer | undefined;
  private front = '';
  private clock!: ScenarioClock;
  /** The shared world clock (time: simulated or auto), paused at the start until the script begins. */
  private worldTime: RedisWorldTime | undefined;
  private timetable!: Timetable;
  private start = 0;
  private readonly realStart = performance.now();
  private readonly tracks: Track[] = [];
  private readonly byPickup = new Map<string, Track>();
  private readonly recording: Recording = { notices: [], pickups: [], reports: [], sms: [], unlocks: [], doorRequests: [], handovers: [], occupiedAtLoading: [], logs: [], secrets: { names: [], phones: [], datesOfBirth: [], codes: [] } };
  private readonly noticeRecords = new Map<string, NoticeRecord>();
  private readonly inboxSeen = new Map<string, number>();
  private readonly faultLog: ScenarioReport['faults']['switched'] = [];
  private readonly notes: string[] = [];
  private readonly problems: string[] = [];
  private scripted = 0;
  private scriptedDone: (() => void) | undefined;
  private kills = 0;
  private killing = false;
  /** With `kill.atOpenDoor`: a kill is due and waits for the next door staff open. */
  private killAtDoor: (() => void) | undefined;
  private doorKills = 0;
  private prefix = '';
  private resends = 0;
  private longestWaitingList = 0;
  private cancelledLeftovers = 0;
  /** New codes staff issued after an SMS with a code failed, and the sms_failed alarms they answered so. */
  private newCodes = 0;
  private reassigned = 0;
  private readonly answeredAlarms = new Set<string>();
  private staffChain: Promise<void> = Promise.resolve();
  private visitsAhead = 0;
  /** Compartments someone of the runner is at right now (`box/compartment`). */
  private readonly busy = new Set<string>();
  private idleWaiters: (() => void)[] = [];
  private readonly logFiles: WriteStream[] = [];
  /** Each pickup's story at the end (GET /v1/pickups/{id}/story). */
  private stories = new Map<string, { state?: string; timeline: TimelineEvent[]; pending: boolean; sms: { kind: string; status: string }[] }>();
  private closing = false;

  constructor(
    private readonly scenario: Scenario,
    private readonly options: RunOptions,
  ) {
    this.progress = options.progress ?? (() => undefined);
    this.boxes = [...loadBoxes(projectPath(scenario.boxes)).values()];
    const box = scenario.box === undefined ? this.boxes[0] : this.boxes.find((b) => b.id === scenario.box);
    if (box === undefined) throw new ScenarioError(`box '${scenario.box ?? ''}' is not in ${scenario.boxes}; the boxes there are ${this.boxes.map((b) => b.id).join(', ') || 'none'}`);
    this.box = box;
    this.zone = box.timeZone;
    this.random = seededRandom(scenario.seed);
  }

  // --- set-up -------------------------------------------------------------------

  private async setUp(): Promise<void> {
    const s = this.scenario;
    this.start = startInstant(s, this.zone, Date.now());
    const simulated = s.time !== 'wall';
    if (!simulated) this.notes.push('time is not simulated: the middleware ran on wall time with opening hours and SMS quiet hours off; only the script followed the scenario clock');

    this.redis = await startPrivateRedis();
    const prefix = `scn-${randomBytes(4).toString('hex')}`;
    this.prefix = prefix;
    let time: WorldTime = WALL_TIME;
    if (simulated) {
      // The world clock stands still at the start while the parts come up; the script starts it.
      this.worldTime = await RedisWorldTime.connect(this.redis.url, prefix, { at: this.start, speed: 0 });
      time = this.worldTime;
    }
    const authorities = [...new Set(this.boxes.map((b) => b.authority))];
    const apiKeys: { id: string; role: string; authority: string; sha256: string }[] = [];
    for (const authority of authorities) {
      const staff = `scn_staff_${randomBytes(18).toString('base64url')}`;
      const kiosk = `scn_kiosk_${randomBytes(18).toString('base64url')}`;
      this.keys.set(authority, { staff, kiosk });
      apiKeys.push({ id: `scenario-staff-${authority}`, role: 'staff', authority, sha256: createHash('sha256').update(staff).digest('hex') });
      apiKeys.push({ id: `scenario-kiosk-${authority}`, role: 'kiosk', authority, sha256: createHash('sha256').update(kiosk).digest('hex') });
    }

    this.world = await SimulatedWorld.start({ middlewareUrl: () => this.front, boxes: this.boxes, time });
    const polled: Promise<void>[] = [];
    for (const [box, emulator] of this.world.lockers) {
      emulator.on('unlock', (u: EmulatorUnlock) => {
        if (u.compartmentId !== null) this.recording.unlocks.push({ box, compartment: u.compartmentId, at: performance.now(), opened: u.opened });
      });
      for (const gateway of emulator.wiring()) {
        polled.push(
          new Promise<void>((resolve) => {
            const onRequest = (request: { gateway: string }): void => {
              if (request.gateway !== gateway.id) return;
              emulator.off('request', onRequest);
              resolve();
            };
            emulator.on('request', onRequest);
          }),
        );
      }
    }
    this.world.on('change', (change: WorldChange) => {
      if (change.kind === 'inbox') this.onInbox(change.phone);
    });

    const env: Record<string, string> = {
      NODE_ENV: 'development',
      HOST: '127.0.0.1',
      REDIS_URL: this.redis.url,
      REDIS_KEY_PREFIX: prefix,
      SECRET_KEY: randomBytes(32).toString('base64'),
      PII_KEY: randomBytes(32).toString('base64'),
      API_KEYS: JSON.stringify(apiKeys),
      BOXES_DIR: s.boxes,
      LOG_LEVEL: 'info',
      LOG_FORMAT: 'json',
      LOCKERS_ENABLED: 'true',
      ...(simulated ? { SIMULATED_TIME: 'true', BOX_OPENING_HOURS: 'enforce' } : { BOX_OPENING_HOURS: 'ignore', SMS_QUIET_HOURS: 'off' }),
      SMS_RATE_LIMIT: '200',
      SMS_BACKOFF_BASE_MS: '200',
      SMS_BACKOFF_MAX_MS: '2000',
      CASE_SYSTEM_REPORT_BACKOFF_MS: '200',
      CASE_SYSTEM_REPORT_ATTEMPTS: '12',
      CASE_SYSTEM_REPORT_TIMEOUT_MS: '2000',
      LOCKER_LEASE_TTL_MS: '2000',
      EXPIRY_SWEEP_INTERVAL_MS: '1000',
      ...this.world.middlewareEnv(),
      ...s.env,
    };
    if (s.instances.count > 1) {
      // The balancer first: the SMS gateway's signed delivery reports name its address.
      this.balancer = await startBalancer(() => this.instances.map((i) => i.url));
      env.SEVEN_WEBHOOK_PUBLIC_URL = `${this.balancer.url}/sms/v1/seven/webhook`;
    }
    if (this.options.logDir !== undefined) mkdirSync(this.options.logDir, { recursive: true });
    for (let i = 0; i < s.instances.count; i++) {
      const source = `instance-${i + 1}`;
      const file = this.options.logDir === undefined ? undefined : createWriteStream(join(this.options.logDir, `${source}.log`));
      if (file !== undefined) this.logFiles.push(file);
      const instance: ServiceProcess = await startServiceProcess(env, {
        port: await freePort(),
        onLine: (line) => {
          this.recording.logs.push({ source, line });
          file?.write(`${line}\n`);
        },
        // A crash is a finding; like a container's restart policy, the instance comes back.
        onCrash: (code, signal) => {
          if (this.closing) return;
          this.problem(`${source} exited unexpectedly (${signal ?? `code ${code ?? '?'}`}); restarting it`);
          void instance.restart().catch((error: unknown) => this.problem(`${source} did not start again: ${error instanceof Error ? error.message : String(error)}`));
        },
      });
      this.instances.push(instance);
    }
    this.front = this.balancer?.url ?? (this.instances[0] as ServiceProcess).url;
    this.world.middlewareReady(this.front);
    await Promise.all(polled);
    this.progress(`${this.instances.length} instance(s) up${this.balancer === undefined ? '' : ` behind ${this.front}`}; the lock boards are polled`);
  }

  // --- the timeline -------------------------------------------------------------

  async play(): Promise<ScenarioResult> {
    await this.setUp();
    const s = this.scenario;
    // The scenario's clock starts once everything is up.
    if (this.worldTime !== undefined) {
      this.clock = worldClock(this.worldTime);
      await this.worldTime.set({ speed: s.speed });
    } else {
      this.clock = scriptClock(this.start, s.speed);
    }
    this.timetable = new Timetable(this.clock, (task, error) => this.problem(`${task}: ${error instanceof Error ? error.message : String(error)}`));
    const allScripted = new Promise<void>((resolve) => {
      this.scriptedDone = resolve;
    });
    for (const step of s.steps) this.schedule(step);
    if (this.scripted === 0) this.scriptedDone?.();
    if (s.staff.every !== undefined) {
      const last = Math.max(...s.steps.flatMap((step) => this.instantsOf(step)));
      for (let at = this.start + s.staff.every; at <= last + s.staff.every; at += s.staff.every) this.timetable.add(at, 'staff round', () => this.staffRound());
    }
    const stopKills = this.scheduleKills();
    this.progress(`playing '${s.name}' from ${this.iso(this.start)} at ${s.speed}x`);
    await allScripted;
    this.progress(`the script is done at ${this.iso(this.clock.now())}; waiting for every pickup to end`);
    await this.settle();
    await stopKills();
    await this.collect();
    // Their last log lines are checked too.
    this.closing = true;
    await Promise.all(this.instances.map((i) => i.stop().catch(() => undefined)));
    return this.finish();
  }

  private scripting(at: number, name: string, run: () => Promise<void> | void): void {
    this.scripted += 1;
    this.timetable.add(at, name, async () => {
      try {
        await run();
      } finally {
        this.scripted -= 1;
        if (this.scripted === 0) this.scriptedDone?.();
      }
    });
  }

  /** The instants of a step: its `at`, and its repeats (working days only when asked). */
  private instantsOf(step: ScenarioStep): number[] {
    const first = resolveAt(step.at, this.start, this.zone);
    if (step.repeat === undefined) return [first];
    const calendar = this.calendar();
    const out: number[] = [];
    for (let k = 0; k < step.repeat.times; k++) {
      const at = first + k * step.repeat.every;
      if (!step.repeat.workingDays || calendar.isWorkingDay(DateTime.fromMillis(at, { zone: this.zone }))) out.push(at);
    }
    return out;
  }

  private calendar(): BoxCalendar {
    return new BoxCalendar({ timeZone: this.box.timeZone, state: this.box.holidayState, openingHours: this.box.openingHours, closedOnHolidays: this.box.closedOnHolidays });
  }

  private schedule(step: ScenarioStep): void {
    for (const at of this.instantsOf(step)) this.scheduleAt(step, at);
  }

  private scheduleAt(step: ScenarioStep, at: number): void {
    if ('notices' in step) {
      const { count, over, format, box } = step.notices;
      for (let k = 0; k < count; k++) {
        const chosen = format === 'mixed' ? ((['soap', 'xoev', 'xoev-soap'] as const)[k % 3] ?? 'soap') : format;
        this.scripting(at + Math.floor((k * over) / count), 'notice', () => this.sendNotice(box ?? this.box.id, chosen));
      }
    } else if ('load' in step) {
      this.scripting(at, 'loading', () => this.asStaff(() => this.staffLoad(step.load === true ? undefined : step.load.box)));
    } else if ('fault' in step) {
      const { kind, target, on, for: lasting } = step.fault;
      this.scripting(at, `fault ${kind}`, async () => {
        const resolved = await this.switchFault(kind, target, on);
        // Off again where it went on (`pickup: next` would find another compartment by then).
        if (resolved !== undefined && lasting !== undefined && on) this.scripting(at + lasting, `fault ${kind} off`, async () => void (await this.switchFault(kind, resolved, false)));
      });
    } else if ('cancel' in step) {
      this.scripting(at, 'cancel', () => this.cancelSome(step.cancel.count));
    } else {
      this.scripting(at, 'staff round', () => this.staffRound());
    }
  }

  /** kill -9 one instance after the other on the schedule and start it again; the returned stop waits for a restart under way. */
  private scheduleKills(): () => Promise<void> {
    const kill = this.scenario.instances.kill;
    if (kill === undefined || this.instances.length === 0) return () => Promise.resolve();
    this.killing = true;
    let next = 0;
    let current: Promise<void> = Promise.resolve();
    const once = async (): Promise<void> => {
      if (kill.atOpenDoor) {
        // The next loading kills; the schedule waits for it so kills do not pile up.
        await new Promise<void>((resolve) => (this.killAtDoor = resolve));
        return;
      }
      if (!kill.duringDoorOperations) await this.doorsIdle();
      if (!this.killing) return;
      const instance = this.instances[next % this.instances.length] as ServiceProcess;
      next += 1;
      await instance.kill();
      this.kills += 1;
      this.progress(`killed the instance on port ${instance.port} (kill -9)`);
      if (kill.downFor > 0) await delay(kill.downFor);
      await instance.restart();
    };
    const guarded = (): Promise<void> => {
      current = once().catch((error: unknown) => this.problem(`kill and restart: ${error instanceof Error ? error.message : String(error)}`));
      return current;
    };
    let timer: NodeJS.Timeout | undefined;
    if (kill.clock === 'simulated') {
      const plan = (at: number): void =>
        this.timetable.add(at, 'kill', async () => {
          if (!this.killing) return;
          await guarded();
          if (this.killing) plan(Math.max(at + kill.every, this.clock.now()));
        });
      plan(this.clock.now() + kill.every);
    } else {
      const tick = (): void => {
        timer = setTimeout(() => void guarded().then(() => this.killing && tick()), kill.every);
      };
      tick();
    }
    return async () => {
      this.killing = false;
      if (timer !== undefined) clearTimeout(timer);
      const waiting = this.killAtDoor;
      this.killAtDoor = undefined;
      waiting?.();
      await current;
    };
  }

  private iso(at: number): string {
    return DateTime.fromMillis(at, { zone: this.zone }).toISO({ suppressMilliseconds: true }) ?? new Date(at).toISOString();
  }

  private occupy(key: string): void {
    this.busy.add(key);
  }

  private release(key: string): void {
    this.busy.delete(key);
    if (this.busy.size === 0) this.idleWaiters.splice(0).forEach((w) => w());
  }

  /**
   * kill -9 the instance that drives the box (it holds the gateway's lease)
   * while a door it opened is open, and start it again. Every other time the
   * door closes while no instance watches (the next driver finds it closed),
   * else after the restart (the next driver finds it open). False when no
   * running instance holds the lease (the door is closed then, nothing killed).
   */
  private async killDriverAtOpenDoor(box: BoxDefinition, close: () => void): Promise<boolean> {
    const { Redis } = await import('ioredis');
    const redis = new Redis((this.redis as PrivateRedis).url);
    try {
      const owners = await Promise.all((await redis.keys(`${this.prefix}:locker:lease:${box.id}:*`)).map((key) => redis.get(key)));
      const pids = new Set(owners.flatMap((owner) => (owner === null ? [] : [Number(/-(\d+)-[0-9a-f]+$/.exec(owner)?.[1])])));
      const driver = this.instances.find((i) => pids.has(i.pid()));
      if (driver === undefined) {
        this.progress(`no running instance drives ${box.id} (a killed one's lease has not expired): the kill waits for the next loading`);
        close();
        return false;
      }
      await driver.kill();
      this.kills += 1;
      this.doorKills += 1;
      const closeFirst = this.doorKills % 2 === 1;
      this.progress(`killed the instance driving ${box.id} on port ${driver.port} while a door was open (kill -9); the door closes ${closeFirst ? 'before' : 'after'} it is back`);
      if (closeFirst) close();
      await driver.restart();
      if (!closeFirst) close();
      return true;
    } finally {
      redis.disconnect();
    }
  }

  /**
   * Staff answer an sms_failed alarm of an SMS with a code (the ready SMS or a new code's timed out, or the
   * instance sending it was killed: the middleware does not send it again, to avoid a duplicate) with a new
   * code, whose SMS takes its place.
   */
  private async newCodesForFailedSms(): Promise<void> {
    for (const box of this.boxes) {
      const list = await this.read(`/v1/boxes/${box.id}/alarms`, box.authority);
      for (const alarm of (list.body.alarms as { id: string; kind: string; pickupId?: string; detail?: string }[] | undefined) ?? []) {
        if (alarm.kind !== 'sms_failed' || !/^(ready|code):/.test(alarm.detail ?? '') || alarm.pickupId === undefined || this.answeredAlarms.has(alarm.id)) continue;
        const track = this.byPickup.get(alarm.pickupId);
        if (track === undefined) continue;
        this.answeredAlarms.add(alarm.id);
        const answer = await this.call('POST', `/v1/pickups/${alarm.pickupId}/code`, 'staff', undefined, box.authority);
        if (answer.status === 200) {
          track.newCodeIssued = true;
          this.newCodes += 1;
          this.progress(`staff gave pickup ${alarm.pickupId} a new code: the SMS with its code failed (${alarm.detail ?? ''})`);
        }
      }
    }
  }

  /** Resolves once nobody of the runner is at a door. */
  private doorsIdle(): Promise<void> {
    return this.busy.size === 0 ? Promise.resolve() : new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Waits (briefly) until the middleware has the pickup out of `state`, so a door operation is complete there too. */
  private async leaves(pickupId: string | undefined, state: string, authority: string): Promise<void> {
    if (pickupId === undefined) return;
    for (let i = 0; i < 40; i++) {
      const answer = await this.call('GET', `/v1/pickups/${pickupId}`, 'staff', undefined, authority);
      if (answer.status === 200 && answer.body.state !== state) return;
      await delay(50);
    }
  }

  private problem(text: string): void {
    this.problems.push(text);
    this.progress(`problem: ${text}`);
  }

  // --- HTTP ----------------------------------------------------------------------

  private async call(method: string, path: string, role: 'staff' | 'kiosk', body?: unknown, authority = this.box.authority): Promise<Api> {
    const key = this.keys.get(authority)?.[role] ?? '';
    try {
      const response = await fetch(`${this.front}${path}`, {
        method,
        headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(20_000),
      });
      const text = await response.text();
      let parsed: Record<string, unknown> = {};
      try {
        parsed = text === '' ? {} : (JSON.parse(text) as Record<string, unknown>);
      } catch {
        parsed = { text };
      }
      return { status: response.status, body: parsed };
    } catch {
      return { status: 0, body: {} };
    }
  }

  /** A read that survives a killed instance: resent on 0, 502 and 503. */
  private async read(path: string, authority?: string): Promise<Api> {
    let answer: Api = { status: 0, body: {} };
    for (let attempt = 0; attempt < 20; attempt++) {
      answer = await this.call('GET', path, 'staff', undefined, authority);
      if (answer.status !== 0 && answer.status !== 502 && answer.status !== 503) return answer;
      await delay(100 * Math.min(attempt + 1, 10));
    }
    return answer;
  }

  // --- the case system -----------------------------------------------------------

  private sendNotice(boxId: string, format: 'soap' | 'xoev' | 'xoev-soap'): Promise<void> {
    const index = this.tracks.length + 1;
    const applicant = makeApplicant(index, this.random, this.scenario.applicants.noShow, this.scenario.seed);
    const track: Track = { index, messageId: '', box: boxId, applicant, serialNumber: '', loading: false, loaded: false, visitPlanned: false, visits: 0, handedOver: false, leftover: false };
    this.tracks.push(track);
    track.answered = this.deliverNotice(track, format);
    return track.answered;
  }

  private async deliverNotice(track: Track, format: 'soap' | 'xoev' | 'xoev-soap'): Promise<void> {
    const world = this.world as SimulatedWorld;
    const { applicant, box: boxId } = track;
    const secrets = this.recording.secrets;
    secrets.names.push(applicant.familyName, applicant.givenNames);
    const [prefix, subscriber] = [applicant.e164.slice(3, 6), applicant.e164.slice(6)];
    secrets.phones.push(...mobileForms(prefix, subscriber), `${prefix}${subscriber}`, `49${prefix}${subscriber}`);
    secrets.datesOfBirth.push(...dateOfBirthForms(applicant.dateOfBirth));
    const [sent] = await world.sendNotices({ boxId, count: 1, format, mobile: applicant.mobile, person: { familyName: applicant.familyName, givenNames: applicant.givenNames, dateOfBirth: applicant.dateOfBirth } });
    let notice = sent as SentNotice;
    track.messageId = notice.messageId;
    track.serialNumber = notice.documents?.[0]?.serialNumber ?? '';
    const record: NoticeRecord = { messageId: notice.messageId, answers: [] };
    this.noticeRecords.set(notice.messageId, record);
    this.recording.notices.push(record);
    const answer = (n: SentNotice): void => {
      record.answers.push({ outcome: n.outcome, ...(n.pickupId === undefined ? {} : { pickupId: n.pickupId }), ...(n.detail === undefined ? {} : { detail: n.detail.slice(0, 120) }) });
    };
    answer(notice);
    // At least once: an error or a refusal that may be an instance dying is resent unchanged until it is answered.
    for (let attempt = 0; attempt < 30 && notice.pickupId === undefined; attempt++) {
      await delay(100 * Math.min(attempt + 1, 10));
      this.resends += 1;
      notice = await world.resendNotice(notice.messageId);
      answer(notice);
    }
    if (notice.pickupId !== undefined) {
      track.pickupId = notice.pickupId;
      this.byPickup.set(notice.pickupId, track);
    }
  }

  private async cancelSome(count: number): Promise<void> {
    const open = this.tracks.filter((t) => t.pickupId !== undefined && !t.handedOver && !t.leftover);
    for (const track of open.slice(-count)) {
      track.leftover = true;
      await (this.world as SimulatedWorld).cancel(track.pickupId as string).catch((error: unknown) => this.problem(`cancel ${track.pickupId ?? ''}: ${error instanceof Error ? error.message : String(error)}`));
    }
  }

  // --- faults ----------------------------------------------------------------------

  /** Switches a fault; returns the target it resolved to (undefined when it could not be switched). */
  private async switchFault(kind: FaultKind, given: FaultTarget & { pickup?: number | 'next' }, on: boolean): Promise<FaultTarget | undefined> {
    const world = this.world as SimulatedWorld;
    const { pickup, ...rest } = given;
    const target: FaultTarget = { ...rest };
    if (world.lockers.size > 0 && (kind === 'jammed-lock' || kind === 'broken-sensor' || kind === 'silent-board' || kind === 'dropped-gateway' || kind === 'garbage-replies' || kind === 'split-replies')) target.box ??= this.box.id;
    if (pickup !== undefined) {
      // The next applicant to come; before anyone has an SMS, the first loaded pickup whose applicant will come.
      const waiting = this.tracks.filter((t) => t.loaded && !t.handedOver && !t.applicant.noShow && t.compartment !== undefined);
      const coming = waiting.filter((t) => t.visitAt !== undefined && t.visitAt >= this.clock.now()).sort((a, b) => (a.visitAt as number) - (b.visitAt as number));
      const track = pickup === 'next' ? (coming[0] ?? waiting.find((t) => t.visitAt === undefined)) : this.tracks[pickup - 1];
      await track?.answered;
      const answer = track?.pickupId === undefined ? undefined : await this.read(`/v1/pickups/${track.pickupId}`);
      const compartment = track?.compartment ?? (typeof answer?.body.compartment === 'string' ? answer.body.compartment : undefined);
      if (compartment === undefined) {
        this.problem(`fault ${kind}: ${pickup === 'next' ? 'no applicant is coming' : `notice ${pickup} has no compartment (${track?.pickupId === undefined ? 'no pickup' : `HTTP ${answer?.status ?? 0}, state ${String(answer?.body.state)}`})`}; the fault was not switched`);
        return undefined;
      }
      target.compartment = compartment;
    }
    await world.setFault(kind, target, on);
    const where = [target.box, target.gateway, target.board, target.compartment].filter((x) => x !== undefined).join('/');
    this.faultLog.push({ at: this.iso(this.clock.now()), kind, target: where, on });
    this.progress(`fault ${kind}${where === '' ? '' : ` at ${where}`} ${on ? 'on' : 'off'}`);
    return target;
  }

  // --- staff ------------------------------------------------------------------------

  /** Staff load every pickup that has a compartment and is not loaded yet. */
  private async staffLoad(boxId?: string): Promise<void> {
    for (const box of boxId === undefined ? this.boxes.filter((b) => this.world?.lockers.has(b.id)) : [this.world?.box(boxId) as BoxDefinition]) {
      const list = await this.read(`/v1/boxes/${box.id}/compartments`, box.authority);
      if (list.status !== 200) continue;
      this.longestWaitingList = Math.max(this.longestWaitingList, Number(list.body.waiting ?? 0));
      const reserved = (list.body.compartments as { id: string; state: string; pickupId: string | null }[]).filter((c) => c.state === 'reserved' && c.pickupId !== null);
      const todo = reserved.flatMap((c) => {
        const track = this.byPickup.get(c.pickupId as string);
        if (track === undefined || track.loaded || track.loading) return [];
        track.loading = true;
        return [{ track, compartment: c.id }];
      });
      // A few staff members at once.
      const queue = [...todo];
      await Promise.all(
        Array.from({ length: 6 }, async () => {
          for (let next = queue.shift(); next !== undefined; next = queue.shift()) await this.load(next.track, box, next.compartment);
        }),
      );
    }
  }

  private async load(track: Track, box: BoxDefinition, compartment: string): Promise<void> {
    const world = this.world as SimulatedWorld;
    track.loading = true;
    this.occupy(`${box.id}/${compartment}`);
    try {
      if (world.compartment(box.id, compartment).item === 'present') this.recording.occupiedAtLoading.push({ pickupId: track.pickupId as string, box: box.id, compartment });
      const request: DoorRequest = { box: box.id, compartment, by: 'staff', start: performance.now(), end: 0, outcome: 'refused', ...(track.pickupId === undefined ? {} : { pickupId: track.pickupId }) };
      this.recording.doorRequests.push(request);
      const answer = await this.call('POST', `/v1/boxes/${box.id}/loadings`, 'staff', { serialNumber: track.serialNumber }, box.authority);
      request.end = performance.now();
      request.outcome = answer.status === 200 ? 'opened' : answer.status === 0 || answer.status >= 502 ? 'lost' : 'refused';
      const opened = answer.status === 200 ? String(answer.body.compartment) : compartment;
      if (world.compartment(box.id, opened).door !== 'open') {
        // The door did not open for loading (a jammed lock): staff put the documents into another compartment.
        // The pickup is reserved there (or waits for one), and a later round loads it.
        if (answer.status === 409 && track.pickupId !== undefined) {
          const moved = await this.call('POST', `/v1/pickups/${track.pickupId}/reassign`, 'staff', { reason: 'Scenario: the door did not open for loading' }, box.authority);
          if (moved.status === 200) this.reassigned += 1;
        }
        return;
      }
      track.compartment = opened;
      world.act(box.id, opened, 'insert');
      const killed = this.killAtDoor;
      if (killed !== undefined) {
        this.killAtDoor = undefined;
        const done = await this.killDriverAtOpenDoor(box, () => world.act(box.id, opened, 'close'));
        // No instance held the box's lease (a killed one's lease had not expired yet): the kill stays due for the next loading.
        if (done || !this.killing || this.killAtDoor !== undefined) killed();
        else this.killAtDoor = killed;
      } else {
        world.act(box.id, opened, 'close');
      }
      track.loaded = true;
      await this.leaves(track.pickupId, 'reserved', box.authority);
    } finally {
      track.loading = false;
      this.release(`${box.id}/${compartment}`);
    }
  }

  /** Staff open a compartment, take out what is inside and close it. */
  private async retrieve(box: BoxDefinition, compartment: string, pickupId: string | undefined): Promise<boolean> {
    this.occupy(`${box.id}/${compartment}`);
    try {
      return await this.takeOut(box, compartment, pickupId);
    } finally {
      this.release(`${box.id}/${compartment}`);
    }
  }

  private async takeOut(box: BoxDefinition, compartment: string, pickupId: string | undefined): Promise<boolean> {
    const world = this.world as SimulatedWorld;
    const request: DoorRequest = { box: box.id, compartment, by: 'staff', start: performance.now(), end: 0, outcome: 'refused', ...(pickupId === undefined ? {} : { pickupId }) };
    this.recording.doorRequests.push(request);
    const answer = await this.call('POST', `/v1/boxes/${box.id}/compartments/${compartment}/open`, 'staff', { reason: STAFF_REASON }, box.authority);
    request.end = performance.now();
    request.outcome = answer.status === 200 ? 'opened' : answer.status === 0 || answer.status >= 502 ? 'lost' : 'refused';
    if (world.compartment(box.id, compartment).door !== 'open') return false;
    if (world.compartment(box.id, compartment).item === 'present') world.act(box.id, compartment, 'take');
    world.act(box.id, compartment, 'close');
    return true;
  }

  /** Staff do one thing after the other: a round never overlaps a loading or another round. */
  private asStaff(work: () => Promise<void>): Promise<void> {
    const next = this.staffChain.then(work);
    this.staffChain = next.catch((error: unknown) => this.problem(`staff: ${error instanceof Error ? error.message : String(error)}`));
    return next;
  }

  /** One staff round: load, take back expired and cancelled documents, deal with faults, replay dead letters. */
  private staffRound(): Promise<void> {
    return this.asStaff(() => this.doStaffRound());
  }

  private async doStaffRound(): Promise<void> {
    const world = this.world as SimulatedWorld;
    await this.staffLoad();
    for (const box of this.boxes.filter((b) => world.lockers.has(b.id))) {
      // Doors somebody left open (one that opened after its command had timed out): staff close them.
      for (const view of world.compartments(box.id)) if (view.door === 'open' && !this.busy.has(`${box.id}/${view.id}`)) world.act(box.id, view.id, 'close');
      const list = await this.read(`/v1/boxes/${box.id}/compartments`, box.authority);
      if (list.status !== 200) continue;
      this.longestWaitingList = Math.max(this.longestWaitingList, Number(list.body.waiting ?? 0));
      for (const c of list.body.compartments as { id: string; state: string; pickupId: string | null }[]) {
        if (c.state === 'retrieval') {
          await this.retrieve(box, c.id, c.pickupId ?? undefined);
        } else if (c.state === 'defective') {
          const view = world.compartment(box.id, c.id);
          // A jammed lock stays defective until the fault is cleared (someone repaired it).
          if (view.jammed || view.boardSilent || !view.gatewayOnline) continue;
          // Repaired first: the lock board opens nothing for a compartment marked defective, not even to take a document out.
          await this.call('POST', `/v1/boxes/${box.id}/compartments/${c.id}/repaired`, 'staff', undefined, box.authority);
          if (view.item === 'present') await this.retrieve(box, c.id, c.pickupId ?? undefined);
        }
      }
    }
    await this.newCodesForFailedSms();
    // Pickups whose door did not open: the document is back with staff once the compartment was emptied.
    for (const track of this.tracks) {
      if (track.pickupId === undefined || track.state !== 'fault') continue;
      const compartment = track.compartment;
      if (compartment !== undefined && world.compartment(track.box, compartment).item === 'present') continue;
      const answer = await this.call('POST', `/v1/pickups/${track.pickupId}/returned`, 'staff', undefined, world.box(track.box).authority);
      if (answer.status === 200) track.state = 'returned';
    }
    for (const authority of new Set(this.boxes.map((b) => b.authority))) {
      const dead = await this.read('/v1/case-reports/dead-letters', authority);
      for (const letter of (dead.body.deadLetters as { pickupId: string }[] | undefined) ?? []) {
        await this.call('POST', `/v1/case-reports/dead-letters/${letter.pickupId}/replay`, 'staff', undefined, authority);
      }
    }
  }

  // --- applicants -------------------------------------------------------------------

  private onInbox(phone: string): void {
    const world = this.world as SimulatedWorld;
    const messages = world.sms.inbox.list(phone);
    const seen = this.inboxSeen.get(phone) ?? 0;
    this.inboxSeen.set(phone, messages.length);
    for (const message of messages.slice(seen)) {
      this.recording.sms.push({ ...(message.foreignId === undefined ? {} : { foreignId: message.foreignId }), to: message.to });
      const dot = message.foreignId?.indexOf('.') ?? -1;
      const pickupId = message.foreignId === undefined || dot < 0 ? undefined : decodeURIComponent(message.foreignId.slice(0, dot));
      const kind = message.foreignId?.slice(dot + 1).split('.')[0];
      const code = /(?<!\d)(\d{6})(?!\d)/.exec(message.text)?.[1];
      if (code !== undefined) this.recording.secrets.codes.push(code);
      const track = pickupId === undefined ? undefined : this.byPickup.get(pickupId);
      if (track === undefined || code === undefined || (kind !== 'ready' && kind !== 'code' && kind !== 'reminder')) continue;
      track.code = code;
      // A new code after the first SMS failed: the applicant comes (again) with it, however often the old one was refused.
      if (kind === 'code' && track.newCodeIssued === true && track.visitPlanned && !track.visitPending && !track.applicant.noShow) {
        track.visits = 0;
        this.planVisit(track, this.visitTime(track));
      }
      if (!track.visitPlanned && !track.applicant.noShow) {
        track.visitPlanned = true;
        this.planVisit(track, this.visitTime(track));
      }
    }
  }

  /** When the applicant comes: min..max after the SMS (from the applicant's own random stream), within the opening hours when the middleware keeps them. */
  private visitTime(track: Track, after = this.clock.now()): number {
    const { min, max } = this.scenario.applicants.delay;
    const random = seededRandom(this.scenario.seed * 100_003 + track.index * 7 + track.visits);
    const at = after + min + random() * Math.max(0, max - min);
    if (!this.clock.simulated) return at;
    return this.calendar().nextOpening(at) ?? at;
  }

  private async visit(track: Track): Promise<void> {
    const world = this.world as SimulatedWorld;
    const box = world.box(track.box);
    track.visits += 1;
    if (track.code === undefined || track.leftover) return;
    const compartment = track.compartment ?? '';
    this.occupy(`${box.id}/${compartment}`);
    try {
      await this.atTheKiosk(track, box, compartment);
    } finally {
      this.release(`${box.id}/${compartment}`);
    }
  }

  private async atTheKiosk(track: Track, box: BoxDefinition, compartment: string): Promise<void> {
    const world = this.world as SimulatedWorld;
    const request: DoorRequest = { box: box.id, compartment, by: 'code', start: performance.now(), end: 0, outcome: 'refused', ...(track.pickupId === undefined ? {} : { pickupId: track.pickupId }) };
    this.recording.doorRequests.push(request);
    const answer = await this.call('POST', `/v1/boxes/${box.id}/pickups`, 'kiosk', { code: track.code, mobile: track.applicant.mobile, dateOfBirth: enteredDateOfBirth(track.applicant.dateOfBirth) }, box.authority);
    request.end = performance.now();
    request.outcome = answer.status === 200 ? 'opened' : answer.status === 0 || answer.status >= 502 ? 'lost' : 'refused';
    const opened = answer.status === 200 ? String(answer.body.compartment) : compartment;
    if (opened !== compartment) request.compartment = opened;
    if (opened !== '' && world.compartment(box.id, opened).door === 'open') {
      if (world.compartment(box.id, opened).item === 'present') {
        world.act(box.id, opened, 'take');
        track.handedOver = true;
        if (track.pickupId !== undefined) this.recording.handovers.push({ pickupId: track.pickupId });
      }
      world.act(box.id, opened, 'close');
      await this.leaves(track.pickupId, 'notified', box.authority);
      return;
    }
    const error = String((answer.body.error as { code?: string } | undefined)?.code ?? answer.body.code ?? '');
    if (error === 'COMPARTMENT_UNAVAILABLE' && answer.status === 409) {
      // The door did not open: the pickup is a fault now; staff take the document back.
      track.state = 'fault';
      return;
    }
    if (track.visits <= this.scenario.applicants.retries) this.planVisit(track, this.visitTime(track, this.clock.now() + this.scenario.applicants.retryAfter));
  }

  private planVisit(track: Track, at: number): void {
    this.visitsAhead += 1;
    track.visitAt = at;
    track.visitPending = true;
    this.timetable.add(at, 'visit', async () => {
      track.visitPending = false;
      try {
        await this.visit(track);
      } finally {
        this.visitsAhead -= 1;
      }
    });
  }

  // --- the end ------------------------------------------------------------------------

  /** Looks at every pickup not known to be final; returns those still open. */
  private async openPickups(): Promise<Track[]> {
    const open = this.tracks.filter((t) => t.pickupId !== undefined && !FINAL_STATES.has(t.state ?? ''));
    const queue = [...open];
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        for (let t = queue.shift(); t !== undefined; t = queue.shift()) {
          const answer = await this.read(`/v1/pickups/${t.pickupId ?? ''}`, this.world?.box(t.box).authority);
          if (answer.status === 200) {
            t.state = String(answer.body.state);
            if (typeof answer.body.compartment === 'string') t.compartment = answer.body.compartment;
          }
        }
      }),
    );
    return open.filter((t) => !FINAL_STATES.has(t.state ?? ''));
  }

  private async settle(): Promise<void> {
    const limit = this.realStart + this.scenario.end.limit;
    const atLeast = this.scenario.instances.kill?.atLeast ?? 0;
    for (;;) {
      await this.staffRound();
      const open = await this.openPickups();
      if (open.length === 0) {
        // Every pickup has ended; kills the scenario asks for may still be due (kill.atLeast): the schedule goes on.
        while (this.kills < atLeast && performance.now() <= limit) await delay(SETTLE_LOOK_MS);
        if (this.kills < atLeast) this.notes.push(`gave up after ${Math.round((performance.now() - this.realStart) / 1000)} s real (end.limit) with ${this.kills} of at least ${atLeast} kills`);
        return;
      }
      if (performance.now() > limit) {
        this.notes.push(`gave up after ${Math.round((performance.now() - this.realStart) / 1000)} s real (end.limit) with ${open.length} pickup(s) still open`);
        return;
      }
      // Nobody is coming for these any more (no-shows, or applicants who gave up): they are left over.
      if (this.visitsAhead === 0) {
        const left = open.filter((t) => t.state === 'notified' && !t.leftover && (t.applicant.noShow || t.visits > this.scenario.applicants.retries));
        if (left.length > 0) await this.leftovers(left);
      }
      const next = this.timetable.next();
      await delay(next === undefined ? SETTLE_LOOK_MS : Math.max(20, Math.min(SETTLE_LOOK_MS, this.clock.realDelay(next))));
    }
  }

  /** Pickups nobody will collect: expired (simulated time: the clock jumps past their deadline) or cancelled by the case system. */
  private async leftovers(stuck: Track[]): Promise<void> {
    if (this.scenario.end.leftovers === 'expire' && !this.clock.simulated) this.notes.push(`${stuck.length} pickup(s) nobody collected were cancelled instead of expired: their deadline is working days away and time is not simulated`);
    this.progress(`${stuck.length} pickup(s) nobody collects: ${this.clock.simulated && this.scenario.end.leftovers === 'expire' ? 'jumping past their deadlines' : 'the case system cancels them'}`);
    if (this.clock.simulated && this.scenario.end.leftovers === 'expire') {
      // Past the latest deadline: the expiry sweep (it runs on every change of the world clock) expires them, staff take the documents back.
      let latest = 0;
      for (const track of stuck) {
        track.leftover = true;
        const answer = await this.read(`/v1/pickups/${track.pickupId ?? ''}`, this.world?.box(track.box).authority);
        if (typeof answer.body.deadline === 'string') latest = Math.max(latest, Date.parse(answer.body.deadline));
      }
      if (latest > this.clock.now()) await this.clock.jump(latest + 60_000);
      return;
    }
    for (const track of stuck) {
      track.leftover = true;
      const result = await (this.world as SimulatedWorld).cancel(track.pickupId as string).catch(() => undefined);
      if (result !== undefined) this.cancelledLeftovers += 1;
    }
  }

  /** Every pickup's story from the middleware, once its reports have gone out. */
  private async collect(): Promise<void> {
    const limit = performance.now() + 30_000;
    const stories = new Map<string, { state?: string; timeline: TimelineEvent[]; pending: boolean; sms: { kind: string; status: string }[] }>();
    for (;;) {
      const queue = this.tracks.filter((t) => t.pickupId !== undefined && (stories.get(t.pickupId)?.pending ?? true));
      await Promise.all(
        Array.from({ length: 8 }, async () => {
          for (let t = queue.shift(); t !== undefined; t = queue.shift()) {
            const answer = await this.read(`/v1/pickups/${t.pickupId ?? ''}/story`, this.world?.box(t.box).authority);
            if (answer.status !== 200) {
              stories.set(t.pickupId as string, { timeline: [], pending: false, sms: [] });
              continue;
            }
            const pickup = answer.body.pickup as { state: string };
            const reports = answer.body.reports as { delivery: string }[];
            stories.set(t.pickupId as string, {
              state: pickup.state,
              timeline: answer.body.timeline as TimelineEvent[],
              pending: reports.some((r) => r.delivery === 'pending'),
              sms: answer.body.sms as { kind: string; status: string }[],
            });
          }
        }),
      );
      if (![...stories.values()].some((s) => s.pending) || performance.now() > limit) break;
      await delay(SETTLE_LOOK_MS);
    }
    this.stories = stories;
    for (const track of this.tracks) {
      if (track.pickupId === undefined) continue;
      const story = stories.get(track.pickupId);
      const record: PickupRecord = { id: track.pickupId, messageId: track.messageId, boxId: track.box, timeline: story?.timeline ?? [], ...(story?.state === undefined ? {} : { state: story.state }) };
      this.recording.pickups.push(record);
    }
    this.recording.reports = (this.world as SimulatedWorld).reports().map((r) => ({ eventId: r.eventId, pickupId: r.pickupId, seq: r.seq, status: r.status }));
  }

  private finish(): ScenarioResult {
    const s = this.scenario;
    const r = this.recording;
    const violations = checkInvariants(r);
    const byState: Record<string, number> = {};
    for (const p of r.pickups) byState[p.state ?? 'unknown'] = (byState[p.state ?? 'unknown'] ?? 0) + 1;
    const inbox: Record<string, number> = {};
    for (const sms of r.sms) {
      const kind = sms.foreignId?.split('.')[1] ?? 'unknown';
      inbox[kind] = (inbox[kind] ?? 0) + 1;
    }
    const byStatus: Record<string, number> = {};
    for (const story of this.stories.values()) for (const sms of story.sms) byStatus[sms.status] = (byStatus[sms.status] ?? 0) + 1;
    const outcomes = { created: 0, duplicate: 0, refused: 0, error: 0 };
    for (const n of r.notices) {
      const last = n.answers.at(-1);
      if (last !== undefined) outcomes[last.outcome] += 1;
    }
    const sentAt = new Map((this.world as SimulatedWorld).notices.map((n) => [n.messageId, n.sentAt]));
    const first = (p: PickupRecord, to: string): number | undefined => {
      const event = p.timeline.find((e) => e.to === to && (e.type === 'pickup.created' || e.type === 'pickup.transitioned'));
      return event === undefined ? undefined : Date.parse(event.at);
    };
    const noticeToReserved = r.pickups.flatMap((p) => {
      const reserved = first(p, 'reserved');
      const sent = sentAt.get(p.messageId);
      return reserved === undefined || sent === undefined ? [] : [reserved - sent];
    });
    const loadedToSms = r.pickups.flatMap((p) => {
      const loaded = first(p, 'loaded');
      const notified = first(p, 'notified');
      return loaded === undefined || notified === undefined ? [] : [notified - loaded];
    });
    const codeToDoor = r.doorRequests
      .filter((d) => d.by === 'code' && d.outcome === 'opened')
      .flatMap((d) => {
        const unlock = r.unlocks.find((u) => u.box === d.box && u.compartment === d.compartment && u.opened && u.at >= d.start);
        return unlock === undefined ? [] : [unlock.at - d.start];
      });
    const notes = [...this.notes, ...this.problems.map((p) => `runner problem: ${p}`)];
    const report: ScenarioReport = {
      scenario: s.name,
      ...(this.options.file === undefined ? {} : { file: this.options.file }),
      time: this.clock.simulated ? 'simulated' : 'wall',
      speed: s.speed,
      seed: s.seed,
      start: this.iso(this.start),
      end: this.iso(this.clock.now()),
      realSeconds: (performance.now() - this.realStart) / 1000,
      instances: this.instances.length,
      kills: this.kills,
      notices: { sent: r.notices.length, ...outcomes, resends: this.resends },
      reservations: r.pickups.filter((p) => first(p, 'reserved') !== undefined).length,
      waiting: { pickups: r.pickups.filter((p) => first(p, 'waiting') !== undefined).length, longestList: this.longestWaitingList },
      sms: { inbox, byStatus },
      pickups: { total: r.pickups.length, byState },
      handovers: r.handovers.length,
      expiries: r.pickups.filter((p) => first(p, 'expired') !== undefined).length,
      faults: { pickups: r.pickups.filter((p) => first(p, 'fault') !== undefined).length, switched: this.faultLog },
      cancelled: this.cancelledLeftovers,
      newCodes: this.newCodes,
      reassigned: this.reassigned,
      latencies: { noticeToReserved: percentiles(noticeToReserved), loadedToSmsAccepted: percentiles(loadedToSms), codeToDoorOpen: percentiles(codeToDoor) },
      notes,
      violations,
    };
    return { report, ok: violations.length === 0 };
  }

  async close(): Promise<void> {
    this.closing = true;
    this.killing = false;
    this.timetable?.stop();
    await this.staffChain;
    await Promise.all(this.instances.map((i) => i.stop().catch(() => undefined)));
    await this.balancer?.close();
    await this.world?.close();
    if (this.world === undefined) await this.worldTime?.close();
    await this.redis?.stop();
    await Promise.all(this.logFiles.map((file) => new Promise<void>((resolve) => file.end(resolve))));
  }
}
