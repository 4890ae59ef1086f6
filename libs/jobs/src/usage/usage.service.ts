import { Injectable } from '@nestjs/common';
import { invalidArgument } from '@app/common';
import { DAY_MS, utcDay } from '../limits/user-job-limits';
import { UsageRepository, UsageRow } from './usage.repository';

/** Days GET /usage covers without `from`. */
const DEFAULT_DAYS = 30;
/** Days one GET /usage may cover. */
export const MAX_USAGE_DAYS = 366;
const DAY = /^\d{4}-\d{2}-\d{2}$/;

export interface UsageSums {
  jobs: number;
  promptTokens: number;
  completionTokens: number;
  totalTokens: number;
  cost: number;
}

export interface ModelUsage extends UsageSums {
  model: string;
}

export interface DayUsage extends UsageSums {
  day: string;
  models: ModelUsage[];
}

export interface UsageReport {
  from: string;
  to: string;
  /** Days with at least one finished job, oldest first. */
  days: DayUsage[];
  total: UsageSums;
}

export interface UsageQuery {
  from?: string;
  to?: string;
}

/** Query: what the user's finished jobs used, per UTC day and model, from the usage records. */
@Injectable()
export class UsageService {
  constructor(private readonly records: UsageRepository) {}

  /** `from`/`to` are UTC days (`YYYY-MM-DD`, inclusive); by default the last 30 days up to today. */
  async report(userId: string, query: UsageQuery = {}, now = Date.now()): Promise<UsageReport> {
    const { from, to } = rangeOf(query, now);
    return summarize(from, to, await this.records.sums(userId, from, to));
  }
}

/** The asked range, checked: real days, from <= to, at most 366 days. */
export function rangeOf(query: UsageQuery, now = Date.now()): { from: string; to: string } {
  const toTime = query.to === undefined ? Date.parse(utcDay(now)) : parseDay('to', query.to);
  const fromTime = query.from === undefined ? toTime - (DEFAULT_DAYS - 1) * DAY_MS : parseDay('from', query.from);
  if (fromTime > toTime) throw invalidArgument('from', 'from must not be after to');
  if ((toTime - fromTime) / DAY_MS + 1 > MAX_USAGE_DAYS) throw invalidArgument('from', `from and to may span at most ${MAX_USAGE_DAYS} days`);
  return { from: utcDay(fromTime), to: utcDay(toTime) };
}

function parseDay(field: 'from' | 'to', value: unknown): number {
  const time = typeof value === 'string' && DAY.test(value) ? Date.parse(`${value}T00:00:00Z`) : NaN;
  // Date.parse rolls 2026-02-31 over to March: a real day reads back the same.
  if (Number.isNaN(time) || utcDay(time) !== value) throw invalidArgument(field, `${field} must be a day as YYYY-MM-DD`);
  return time;
}

/** Rows per day and model into days (oldest first, models by name) with their sums, and the total. */
export function summarize(from: string, to: string, rows: UsageRow[]): UsageReport {
  const days = new Map<string, DayUsage>();
  const total = emptySums();
  for (const row of [...rows].sort((a, b) => a.day.localeCompare(b.day) || a.model.localeCompare(b.model))) {
    let day = days.get(row.day);
    if (!day) days.set(row.day, (day = { day: row.day, ...emptySums(), models: [] }));
    const { day: _day, model, ...sums } = row;
    day.models.push({ model, ...rounded(sums) });
    add(day, sums);
    add(total, sums);
  }
  return { from, to, days: [...days.values()].map((day) => ({ ...day, cost: roundCost(day.cost) })), total: rounded(total) };
}

function emptySums(): UsageSums {
  return { jobs: 0, promptTokens: 0, completionTokens: 0, totalTokens: 0, cost: 0 };
}

function add(into: UsageSums, sums: UsageSums): void {
  into.jobs += sums.jobs;
  into.promptTokens += sums.promptTokens;
  into.completionTokens += sums.completionTokens;
  into.totalTokens += sums.totalTokens;
  into.cost += sums.cost;
}

function rounded(sums: UsageSums): UsageSums {
  return { jobs: sums.jobs, promptTokens: sums.promptTokens, completionTokens: sums.completionTokens, totalTokens: sums.totalTokens, cost: roundCost(sums.cost) };
}

/** Sums of floating-point costs, without their binary noise (0.1 + 0.2). */
function roundCost(cost: number): number {
  return Math.round(cost * 1e10) / 1e10;
}
