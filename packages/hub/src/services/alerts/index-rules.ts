/**
 * Which rules apply to a device, computed once per device and rule set: a
 * telemetry message then costs one map lookup per field it carries plus the
 * rules on that metric for that device, never a scan of every rule. The cache
 * holds at most `maxDevices` devices and is cleared when full (recomputed on
 * demand) or when the rules change.
 */
import { globRegExp, type AlertRule } from './rules.js';

export interface DeviceRules {
  /** threshold and rate rules, by metric. */
  byMetric: Map<string, AlertRule[]>;
  absence: AlertRule[];
}

const NONE: DeviceRules = { byMetric: new Map(), absence: [] };

export class RuleIndex {
  private readonly patterns: { rule: AlertRule; re: RegExp[] }[];
  private readonly cache = new Map<string, DeviceRules>();
  clears = 0;

  constructor(readonly rules: readonly AlertRule[], private readonly maxDevices = 100_000) {
    this.patterns = rules.map((rule) => ({ rule, re: rule.devices.map(globRegExp) }));
  }

  forDevice(device: string): DeviceRules {
    const hit = this.cache.get(device);
    if (hit) return hit;
    let out: DeviceRules | undefined;
    for (const { rule, re } of this.patterns) {
      if (!re.some((r) => r.test(device))) continue;
      out ??= { byMetric: new Map(), absence: [] };
      if (rule.kind === 'absence') out.absence.push(rule);
      else {
        const list = out.byMetric.get(rule.metric!);
        if (list) list.push(rule);
        else out.byMetric.set(rule.metric!, [rule]);
      }
    }
    if (this.cache.size >= this.maxDevices) {
      this.cache.clear();
      this.clears++;
    }
    this.cache.set(device, out ?? NONE);
    return out ?? NONE;
  }
}
