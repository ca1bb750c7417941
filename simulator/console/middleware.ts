/**
 * How dokubox reacts, as the console shows it: the middleware's alarms, its
 * compartment states, the status-report queue and its dead letters, and the
 * SMS and reports of the pickups the console sent. Read server-side over the
 * middleware's REST API and /metrics with the development API keys the
 * simulator was given (`Simulator.ready`), so that no key reaches the page.
 * One summary at a time: calls in the same moment share it, and a world
 * change makes the next call read afresh.
 */
import type { SimulatedWorld } from '../world.js';

export interface ApiKeyAccess {
  apiKeys: { role: string; authority: string; key: string }[];
}

export interface AlarmView {
  kind: string;
  compartment?: string;
  gateway?: string;
  board?: number;
  detail?: string;
  at: string;
}

export interface DeadLetterView {
  pickupId: string;
  seq: number | null;
  status: string | null;
  error: string;
  attempts: number;
  failedAt: string;
  waiting: number;
}

export interface PickupView {
  state: string;
  compartment: string | null;
  sms: { kind: string; status: string; at: string }[];
  reports: { seq: number; status: string; delivery: string; error?: string }[];
}

export interface MiddlewareSummary {
  reachable: boolean;
  /** Why parts are missing (no keys, the middleware did not answer); `detail` never holds personal data. */
  problems: { code: 'notListening' | 'noKeys' | 'http' | 'unreachable'; detail?: string }[];
  readAt: number;
  /** Per box: the middleware's compartment states (`free` left out) and its recent alarms, newest first. */
  boxes: Record<string, { compartments: Record<string, string>; alarms: AlarmView[] }>;
  deadLetters: DeadLetterView[];
  /** From /metrics: the report queue and pickups by state (null: not readable). */
  reportQueue: { pending: number | null; deadLetters: number | null; delivered: number | null; deadLettered: number | null };
  pickupStates: Record<string, number>;
  /** The pickups of the latest notices the console sent (by pickup id). */
  pickups: Record<string, PickupView>;
}

export interface MiddlewareSummarySource {
  read(): Promise<MiddlewareSummary>;
}

/** How many of the latest pickups get their SMS and report states read (one request each). */
const PICKUPS_FOLLOWED = 12;
const TIMEOUT_MS = 3000;

/** Samples of one metric from the Prometheus text format: labels and value per line. */
export function metricSamples(text: string, name: string): { labels: Record<string, string>; value: number }[] {
  const out: { labels: Record<string, string>; value: number }[] = [];
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{([^}]*)\})?\s+(\S+)/.exec(line);
    if (match === null || match[1] !== name) continue;
    const labels: Record<string, string> = {};
    for (const pair of (match[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[pair[1] as string] = pair[2] as string;
    out.push({ labels, value: Number(match[3]) });
  }
  return out;
}

export function middlewareSummarySource(world: SimulatedWorld, middlewareUrl: () => string, access: () => ApiKeyAccess | undefined): MiddlewareSummarySource {
  let current: Promise<MiddlewareSummary> | undefined;
  world.on('change', () => {
    current = undefined;
  });

  const read = async (): Promise<MiddlewareSummary> => {
    const summary: MiddlewareSummary = {
      reachable: false,
      problems: [],
      readAt: world.time.now(),
      boxes: {},
      deadLetters: [],
      reportQueue: { pending: null, deadLetters: null, delivered: null, deadLettered: null },
      pickupStates: {},
      pickups: {},
    };
    const keys = access()?.apiKeys ?? [];
    const base = middlewareUrl();
    if (base === '' || keys.length === 0) {
      summary.problems.push({ code: base === '' ? 'notListening' : 'noKeys' });
      return summary;
    }
    const keyOf = (authority: string, ...roles: string[]): string | undefined => roles.map((role) => keys.find((k) => k.role === role && k.authority === authority)?.key).find((k) => k !== undefined);
    const get = async (path: string, key: string): Promise<Response | undefined> => {
      try {
        const response = await fetch(`${base}${path}`, { headers: { authorization: `Bearer ${key}` }, signal: AbortSignal.timeout(TIMEOUT_MS) });
        summary.reachable = true;
        if (!response.ok) {
          const detail = `GET ${path.replace(/\/pickups\/[^/]+/, '/pickups/…')}: HTTP ${response.status}`;
          if (!summary.problems.some((p) => p.detail === detail)) summary.problems.push({ code: 'http', detail });
          await response.body?.cancel();
          return undefined;
        }
        return response;
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        if (!summary.problems.some((p) => p.code === 'unreachable')) summary.problems.push({ code: 'unreachable', detail: message.slice(0, 120) });
        return undefined;
      }
    };
    const json = async <T>(path: string, key: string | undefined): Promise<T | undefined> => {
      if (key === undefined) return undefined;
      const response = await get(path, key);
      return response === undefined ? undefined : ((await response.json()) as T);
    };

    const authorities = [...new Set(world.boxes.map((b) => b.authority))];
    const boxReads = world.boxes.map(async (box) => {
      const key = keyOf(box.authority, 'staff', 'admin');
      const [compartments, alarms] = await Promise.all([
        json<{ compartments: { id: string; state: string }[] }>(`/v1/boxes/${encodeURIComponent(box.id)}/compartments`, key),
        json<{ alarms: AlarmView[] }>(`/v1/boxes/${encodeURIComponent(box.id)}/alarms`, keyOf(box.authority, 'monitoring', 'staff', 'admin')),
      ]);
      summary.boxes[box.id] = {
        compartments: Object.fromEntries((compartments?.compartments ?? []).filter((c) => c.state !== 'free').map((c) => [c.id, c.state])),
        alarms: (alarms?.alarms ?? []).slice(0, 20).map((a) => ({
          kind: a.kind,
          at: a.at,
          ...(a.compartment === undefined ? {} : { compartment: a.compartment }),
          ...(a.gateway === undefined ? {} : { gateway: a.gateway }),
          ...(a.board === undefined ? {} : { board: a.board }),
          ...(a.detail === undefined ? {} : { detail: a.detail }),
        })),
      };
    });
    const deadLetterReads = authorities.map(async (authority) => {
      const answer = await json<{ deadLetters: { pickupId: string; report: { seq?: number; status?: string }; error: string; attempts: number; failedAt: string; waiting: number }[] }>(
        '/v1/case-reports/dead-letters',
        keyOf(authority, 'monitoring', 'staff', 'admin'),
      );
      for (const d of answer?.deadLetters ?? []) {
        summary.deadLetters.push({ pickupId: d.pickupId, seq: d.report.seq ?? null, status: d.report.status ?? null, error: d.error.slice(0, 200), attempts: d.attempts, failedAt: d.failedAt, waiting: d.waiting });
      }
    });
    const metricsRead = (async () => {
      const key = keys.find((k) => k.role === 'monitoring')?.key ?? keys.find((k) => k.role === 'admin')?.key;
      if (key === undefined) return;
      const response = await get('/metrics', key);
      if (response === undefined) return;
      const text = await response.text();
      const queue = metricSamples(text, 'dokubox_case_report_queue');
      const totals = metricSamples(text, 'dokubox_case_reports_total');
      summary.reportQueue = {
        pending: queue.find((s) => s.labels.kind === 'pending')?.value ?? null,
        deadLetters: queue.find((s) => s.labels.kind === 'dead_letters')?.value ?? null,
        delivered: totals.find((s) => s.labels.outcome === 'delivered')?.value ?? 0,
        deadLettered: totals.find((s) => s.labels.outcome === 'dead_letter')?.value ?? 0,
      };
      for (const s of metricSamples(text, 'dokubox_pickups')) if (s.labels.state !== undefined) summary.pickupStates[s.labels.state] = s.value;
    })();
    const followed = world.notices.filter((n) => n.pickupId !== undefined).slice(-PICKUPS_FOLLOWED);
    const pickupReads = followed.map(async (notice) => {
      const authority = world.boxes.find((b) => b.id === notice.boxId)?.authority;
      if (authority === undefined || notice.pickupId === undefined) return;
      const story = await json<{ pickup: { state: string; compartment: string | null }; sms: PickupView['sms']; reports: PickupView['reports'] }>(`/v1/pickups/${encodeURIComponent(notice.pickupId)}/story`, keyOf(authority, 'staff', 'admin'));
      if (story === undefined) return;
      summary.pickups[notice.pickupId] = {
        state: story.pickup.state,
        compartment: story.pickup.compartment,
        sms: story.sms.map((s) => ({ kind: s.kind, status: s.status, at: s.at })),
        reports: story.reports.map((r) => ({ seq: r.seq, status: r.status, delivery: r.delivery, ...(r.error === undefined ? {} : { error: r.error.slice(0, 200) }) })),
      };
    });
    await Promise.all([...boxReads, ...deadLetterReads, metricsRead, ...pickupReads]);
    summary.deadLetters.sort((a, b) => a.failedAt.localeCompare(b.failedAt));
    return summary;
  };

  return {
    read: () => {
      if (current === undefined) {
        const reading = read();
        current = reading;
        // Shared by the calls of this moment only: the next one after it settles reads afresh.
        void reading.finally(() => {
          if (current === reading) setTimeout(() => (current === reading ? (current = undefined) : undefined), 500).unref();
        });
      }
      return current;
    },
  };
}
