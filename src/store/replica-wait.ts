/**
 * Writes that must survive a failover of the primary: a Lua script followed
 * by `WAIT replicas timeout` on the same connection, sent together (one round
 * trip). WAIT blocks its connection until the replicas confirmed (or the
 * timeout), so these writes run on a small pool of their own connections and
 * never hold up the shared request connection; each write takes the pool
 * connection that is up and has the fewest writes in flight (after an
 * outage the pool's connections come back one by one).
 *
 * WAIT only covers the writes of its own connection, so a script run here
 * must write something on every path whose answer claims earlier writes are
 * safe (the ingest script counts duplicates for that reason).
 */
import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import { closeRedis } from './redis-connections.js';

export interface ReplicatedReply {
  /** The script's reply. */
  reply: unknown;
  /** Replicas that confirmed the script's writes (and everything before them on this connection). */
  acknowledged: number;
}

export class ReplicaWait {
  private readonly inFlight: number[];
  /** Lua text -> SHA-1 of the scripts run so far (or registered). */
  private readonly scripts = new Map<string, string>();

  constructor(
    private readonly connections: Redis[],
    /** Replicas that must confirm a write. */
    readonly replicas: number,
    /** How long WAIT may block. */
    readonly timeoutMs: number,
  ) {
    if (connections.length === 0) throw new Error('ReplicaWait needs at least one connection');
    this.inFlight = connections.map(() => 0);
    // A new connection may talk to a new primary (restart, failover): load the scripts there before they are needed.
    for (const connection of connections) {
      connection.on('ready', () => {
        for (const lua of this.scripts.keys()) void connection.script('LOAD', lua).catch(() => undefined);
      });
    }
  }

  /** Makes a script known ahead of its first use (loaded on every pool connection). */
  register(lua: string): string {
    let sha = this.scripts.get(lua);
    if (sha === undefined) {
      sha = createHash('sha1').update(lua).digest('hex');
      this.scripts.set(lua, sha);
      for (const connection of this.connections) if (connection.status === 'ready') void connection.script('LOAD', lua).catch(() => undefined);
    }
    return sha;
  }

  /** Runs `lua` (no keys, `args` as ARGV) and WAIT on one pool connection. */
  async evalAndWait(lua: string, args: (string | number)[]): Promise<ReplicatedReply> {
    const sha = this.register(lua);
    const index = this.pick();
    const connection = this.connections[index] as Redis;
    this.inFlight[index] = (this.inFlight[index] ?? 0) + 1;
    try {
      for (let attempt = 0; ; attempt += 1) {
        const results = (await connection.pipeline().evalsha(sha, 0, ...args).wait(this.replicas, this.timeoutMs).exec()) ?? [];
        const [scriptError, reply] = results[0] ?? [new Error('no reply to the script')];
        const [waitError, acknowledged] = results[1] ?? [new Error('no reply to WAIT')];
        // The server does not know the script (new primary, SCRIPT FLUSH): nothing ran; load it and send both again.
        if (scriptError !== null && scriptError !== undefined && /^NOSCRIPT\b/.test(scriptError.message) && attempt === 0) {
          await connection.script('LOAD', lua);
          continue;
        }
        if (scriptError) throw scriptError;
        if (waitError) throw waitError;
        return { reply, acknowledged: Number(acknowledged) };
      }
    } finally {
      this.inFlight[index] = (this.inFlight[index] ?? 1) - 1;
    }
  }

  /** The least busy connection that is up; any connection (it fails at once) when none is up. */
  private pick(): number {
    let best = -1;
    for (let i = 0; i < this.connections.length; i += 1) {
      if (this.connections[i]?.status !== 'ready') continue;
      if (best < 0 || (this.inFlight[i] ?? 0) < (this.inFlight[best] ?? 0)) best = i;
    }
    return best < 0 ? 0 : best;
  }

  async close(): Promise<void> {
    await Promise.all(this.connections.map((c) => closeRedis(c)));
  }
}
