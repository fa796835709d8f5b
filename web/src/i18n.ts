// Swedish first (the default), English on request. Texts live in texts/sv.ts (the source of the keys) and
// texts/en.ts (loaded only when chosen). The choice of language is kept in localStorage: it is a preference,
// not a secret (tokens are never stored).

import { sv, type Key } from "./texts/sv";

export type Lang = "sv" | "en";
export type { Key };
export interface Bilingual {
  sv: string;
  en: string;
}

const STORAGE_KEY = "lang";
const TIME_ZONE = "Europe/Stockholm";
let lang: Lang = readStoredLang();
let table: Record<Key, string> = sv;
const listeners = new Set<() => void>();

function readStoredLang(): Lang {
  try {
    return localStorage.getItem(STORAGE_KEY) === "en" ? "en" : "sv";
  } catch {
    return "sv";
  }
}

export async function initI18n(): Promise<void> {
  await load(lang);
}

async function load(next: Lang): Promise<void> {
  table = next === "en" ? (await import("./texts/en")).en : sv;
  lang = next;
  document.documentElement.lang = next;
}

export async function setLang(next: Lang): Promise<void> {
  if (next === lang) return;
  await load(next);
  try {
    localStorage.setItem(STORAGE_KEY, next);
  } catch {
    // private mode: the choice lasts for this page only
  }
  for (const listener of listeners) listener();
}

export function onLangChange(listener: () => void): void {
  listeners.add(listener);
}

export function currentLang(): Lang {
  return lang;
}

/** The text of `key` with `{name}` placeholders filled in. */
export function t(key: Key, params?: Record<string, string | number>): string {
  return fillIn(table[key] ?? sv[key] ?? key, params);
}

/** `text` with its `{name}` placeholders filled in from `params` (a name not in params stays as written). */
export function fillIn(text: string, params?: Record<string, string | number>): string {
  if (!params) return text;
  return text.replace(/\{(\w+)\}/g, (whole, name: string) => (name in params ? String(params[name]) : whole));
}

/** Counted text: `key.one` when count is 1 (if the language has it), else `key`; `{count}` filled in. */
export function tc(key: Key, count: number, params?: Record<string, string | number>): string {
  const one = `${key}.one` as Key;
  return t(count === 1 && one in table ? one : key, { count, ...params });
}

/** The current language's half of a bilingual text from the API. */
export function pick(text: Bilingual | string | null | undefined): string {
  if (text === null || text === undefined) return "";
  if (typeof text === "string") return text;
  return text[lang] || text.sv;
}

function locale(): string {
  return lang === "en" ? "en-GB" : "sv-SE";
}

function format(iso: string, options: Intl.DateTimeFormatOptions): string {
  const when = new Date(iso);
  if (Number.isNaN(when.getTime())) return iso;
  return new Intl.DateTimeFormat(locale(), { timeZone: TIME_ZONE, ...options }).format(when);
}

export function formatDateTime(iso: string): string {
  return format(iso, { dateStyle: "medium", timeStyle: "short" });
}

export function formatDate(iso: string): string {
  return format(iso.length === 10 ? `${iso}T12:00:00Z` : iso, { dateStyle: "medium" });
}

export function formatDay(iso: string): string {
  return format(iso, { weekday: "long", day: "numeric", month: "long" });
}

export function formatTime(iso: string): string {
  return format(iso, { hour: "2-digit", minute: "2-digit" });
}

/** The Stockholm calendar day of an instant, as YYYY-MM-DD (for grouping times by day). */
export function stockholmDay(iso: string): string {
  const parts = new Intl.DateTimeFormat("sv-SE", {
    timeZone: TIME_ZONE,
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
  }).format(new Date(iso));
  return parts;
}

export function formatNumber(value: number, digits = 1): string {
  return new Intl.NumberFormat(locale(), { maximumFractionDigits: digits }).format(value);
}
