import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { load } from 'js-yaml';
import { MetricsService } from '@app/metrics';
import { ROOT } from '../scripts/services';

/** The metric names the contract fixes (CONTRACT.md, Operations). */
const CONTRACT_METRICS = [
  'http_request_duration_seconds',
  'aicg_jobs_finished_total',
  'aicg_job_duration_seconds',
  'aicg_generation_duration_seconds',
  'aicg_queue_jobs',
  'aicg_llm_tokens_total',
  'aicg_llm_cost_usd_total',
  'aicg_llm_errors_total',
  'aicg_socket_connections',
];

interface ComposeService {
  image?: string;
  entrypoint?: string[];
  environment?: Record<string, string>;
  ports?: string[];
  expose?: string[];
  volumes?: string[];
}
interface Compose {
  services: Record<string, ComposeService>;
  volumes: Record<string, unknown>;
}
interface ScrapeConfig {
  job_name: string;
  metrics_path: string;
  authorization?: { type: string; credentials_file: string };
  dns_sd_configs?: { names: string[]; type: string; port: number }[];
}
interface Panel {
  type: string;
  title: string;
  datasource?: { type: string; uid: string };
  targets?: { expr: string; datasource: { uid: string } }[];
}

const readYaml = <T>(path: string): T => load(readFileSync(join(ROOT, path), 'utf8')) as T;

/** Series names a scrape of the product can hold: histograms as _bucket, _sum and _count. */
async function definedSeries(): Promise<Set<string>> {
  const { body } = await new MetricsService().render();
  const series = new Set<string>();
  for (const [, name, type] of body.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
    if (type === 'histogram') for (const suffix of ['_bucket', '_sum', '_count']) series.add(name + suffix);
    else if (type === 'summary') for (const suffix of ['', '_sum', '_count']) series.add(name + suffix);
    else series.add(name);
  }
  return series;
}

/** The metric names a PromQL expression selects: identifiers that are not functions, keywords, labels or durations. */
function metricsIn(expr: string): string[] {
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ')
    .replace(/\boffset\s+-?[\w.]+/g, ' ');
  const keywords = new Set(['and', 'or', 'unless', 'bool', 'inf', 'nan']);
  return [...stripped.matchAll(/(?<![\w.])([a-zA-Z_:][\w:]*)(\s*\()?/g)].filter(([, name, call]) => !call && !keywords.has(name.toLowerCase())).map(([, name]) => name);
}

/** `./host/path:/container/path[:ro]` bind mounts of a service. */
function bindMounts(service: ComposeService): { source: string; target: string }[] {
  return (service.volumes ?? [])
    .filter((volume) => volume.startsWith('./'))
    .map((volume) => {
      const [source, target] = volume.split(':');
      return { source, target };
    });
}

/** docker-compose.yml, deploy/prometheus and deploy/grafana agree with each other and with the metrics the product defines. */
describe('Monitoring deployment (docker-compose, Prometheus, Grafana)', () => {
  const compose = readYaml<Compose>('docker-compose.yml');
  const prometheus = readYaml<{ scrape_configs: ScrapeConfig[] }>('deploy/prometheus/prometheus.yml');
  const datasources = readYaml<{ datasources: { uid: string; type: string; url: string }[] }>('deploy/grafana/provisioning/datasources/prometheus.yml');
  const providers = readYaml<{ providers: { options: { path: string } }[] }>('deploy/grafana/provisioning/dashboards/dashboards.yml');
  const dashboardFiles = readdirSync(join(ROOT, 'deploy/grafana/dashboards')).filter((file) => file.endsWith('.json'));
  const dashboards = dashboardFiles.map((file) => JSON.parse(readFileSync(join(ROOT, 'deploy/grafana/dashboards', file), 'utf8')) as { uid: string; panels: Panel[] });
  const panels = dashboards.flatMap((dashboard) => dashboard.panels.filter((panel) => panel.type !== 'row'));
  const queries = panels.flatMap((panel) => (panel.targets ?? []).map((target) => target.expr));

  it('runs the api, worker, mongo, redis, Prometheus and Grafana services', () => {
    expect(Object.keys(compose.services)).toEqual(expect.arrayContaining(['api', 'worker', 'mongo', 'redis', 'prometheus', 'grafana']));
    for (const name of ['prometheus', 'grafana']) expect(Object.keys(compose.volumes)).toContain(`${name}-data`);
  });

  it('mounts only files that exist, where the services read them', () => {
    for (const service of Object.values(compose.services)) {
      for (const { source } of bindMounts(service)) expect(existsSync(join(ROOT, source))).toBe(true);
    }
    const prometheusMounts = bindMounts(compose.services.prometheus);
    const config = prometheusMounts.find((mount) => mount.source === './deploy/prometheus/prometheus.yml');
    expect(compose.services.prometheus.entrypoint!.join(' ')).toContain(`--config.file=${config!.target}`);
    const grafanaMounts = bindMounts(compose.services.grafana);
    expect(grafanaMounts).toContainEqual({ source: './deploy/grafana/provisioning', target: '/etc/grafana/provisioning' });
    expect(grafanaMounts).toContainEqual({ source: './deploy/grafana/dashboards', target: providers.providers[0].options.path });
  });

  it('has Prometheus scrape /metrics of the API and of the worker on their configured ports, with the token compose writes', () => {
    const jobs = Object.fromEntries(prometheus.scrape_configs.map((config) => [config.job_name, config]));
    const env = compose.services.worker.environment!;
    expect(compose.services.api.environment!).toBe(env);
    const ports = { api: Number(env.PORT), worker: Number(env.WORKER_METRICS_PORT) };
    expect(ports.worker).toBeGreaterThan(0);
    for (const service of ['api', 'worker'] as const) {
      expect(jobs[service]).toMatchObject({ metrics_path: '/metrics', dns_sd_configs: [{ names: [service], type: 'A', port: ports[service] }] });
      expect(compose.services.prometheus.entrypoint!.join(' ')).toContain(`> ${jobs[service].authorization!.credentials_file}`);
    }
    expect(env.METRICS_TOKEN).toBe('${METRICS_TOKEN:-}');
    expect(compose.services.prometheus.environment!.METRICS_TOKEN).toBe('${METRICS_TOKEN:-}');
    expect(compose.services.worker.expose).toContain(String(ports.worker));
  });

  it('points Grafana at the Prometheus service, and every panel at that datasource', () => {
    const [datasource] = datasources.datasources;
    expect(datasource).toMatchObject({ type: 'prometheus', url: 'http://prometheus:9090' });
    expect(compose.services.prometheus.ports!.some((port) => port.endsWith(':9090'))).toBe(true);
    expect(panels.length).toBeGreaterThan(0);
    for (const panel of panels) {
      expect({ panel: panel.title, uid: panel.datasource?.uid }).toEqual({ panel: panel.title, uid: datasource.uid });
      expect(panel.targets?.length).toBeGreaterThan(0);
      for (const target of panel.targets!) expect(target.datasource.uid).toBe(datasource.uid);
    }
  });

  it('queries only metrics the product defines, and every metric of the contract', async () => {
    const defined = await definedSeries();
    const queried = new Set(queries.flatMap(metricsIn));

    expect([...queried].filter((name) => !defined.has(name))).toEqual([]);
    for (const name of CONTRACT_METRICS) {
      expect({ name, queried: [...queried].some((series) => series === name || series.startsWith(`${name}_`)) }).toEqual({ name, queried: true });
    }
  });

  it('reads metric names out of PromQL (the check above relies on it)', () => {
    expect(metricsIn('histogram_quantile(0.95, sum by (le, route) (rate(http_request_duration_seconds_bucket{route!~"/x|y"}[$__rate_interval])))')).toEqual([
      'http_request_duration_seconds_bucket',
    ]);
    expect(metricsIn('sum(rate(a_total[5m])) / (sum(rate(b_total[5m])) + max by (state) (c{state="waiting"})) * 1e3')).toEqual(['a_total', 'b_total', 'c']);
    expect(metricsIn('sum by (job, instance) (process_cpu_seconds_total) and on (job) up offset 5m')).toEqual(['process_cpu_seconds_total', 'up']);
  });
});
