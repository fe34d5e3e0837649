/**
 * Prometheus metrics (`GET /metrics`, text format), read from the counters the
 * doors and services already keep, when scraped: nothing on the hot path.
 */
import { Gauge, Registry, collectDefaultMetrics } from 'prom-client';

export type Sample = [labels: Record<string, string>, value: number];

/** Each entry: a metric name, its help, and a function returning its current samples. */
export type MetricSources = Record<string, { help: string; read: () => Sample[] }>;

export function createMetrics(sources: MetricSources): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'fieldlink_process_' });
  for (const [name, src] of Object.entries(sources)) {
    const labelNames = Object.keys(src.read()[0]?.[0] ?? {});
    new Gauge({
      name,
      help: src.help,
      labelNames,
      registers: [registry],
      collect() {
        this.reset();
        for (const [labels, value] of src.read()) this.set(labels, value);
      },
    });
  }
  return registry;
}
