/**
 * What the kiosk routes need of the stores in src/kiosk/ (enrolled devices,
 * staff accounts): small interfaces, so the routes do not depend on Redis.
 */
export interface KioskDevice {
  id: string;
  boxId: string;
  authority: string;
  enrolledAt: string;
  enrolledBy: string;
}

export interface KioskDeviceStore {
  /** Consumes a one-time enrollment code (src/kiosk/devices.ts). */
  redeem(
    code: string,
    now: number,
    client: string,
  ): Promise<{ outcome: 'enrolled'; token: string; device: KioskDevice } | { outcome: 'invalid' } | { outcome: 'too_many_attempts'; retryAfterMs: number }>;
  identify(token: string): Promise<KioskDevice | undefined>;
}

export interface StaffIdentity {
  id: string;
  authority: string;
  name?: string | undefined;
}

export interface StaffAccountStore {
  verify(authority: string, staffNumber: string, pin: string, now: number): Promise<{ ok: true; staff: StaffIdentity } | { ok: false; locked?: { until: number } | undefined }>;
  startSession(session: { staffId: string; authority: string; deviceId: string }, now: number): Promise<string>;
  session(token: string, deviceId: string, now: number): Promise<StaffIdentity | undefined>;
  endSession(token: string): Promise<void>;
}
