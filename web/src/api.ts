// The one way the app calls the platform's API: adds the bearer token (and X-Commission-Id for staff),
// sends and reads JSON, and turns RFC 9457 problems (application/problem+json) into ApiError with the names
// of the offending fields. A 401 ends the session, so the app asks the user to log in again.

import { endSession, getSession } from "./auth";
import { config } from "./config";

export interface InvalidParam {
  name: string;
  reason: string;
}

export class ApiError extends Error {
  constructor(
    /** HTTP status; 0 when the network failed. */
    readonly status: number,
    /** The problem's `code` (e.g. "time-unavailable"), or "network" / "unauthorized" / "http-<status>". */
    readonly code: string,
    readonly detail: string,
    readonly invalidParams: InvalidParam[] = [],
    readonly retryAfter: number | null = null,
    readonly problem: Record<string, unknown> = {},
  ) {
    super(detail || code);
  }

  /** The reason given for one field (`answers.phone`, `time_id`, ...), if any. */
  reasonFor(name: string): string | undefined {
    return this.invalidParams.find((p) => p.name === name)?.reason;
  }
}

export interface RequestOptions {
  query?: Record<string, string | number | boolean | null | undefined>;
  body?: unknown;
  /** Sent as Idempotency-Key: the same key for a retried write answers what the first attempt did. */
  idempotencyKey?: string;
  /** Staff: the commission (medarbetaruppdrag) the request is made under. Overrides setCommission. */
  commissionId?: string;
  /** false for the public routes (the directory); the token is then not sent. */
  auth?: boolean;
  signal?: AbortSignal;
}

let commission: string | null = null;

/** Staff pages: the commission every following request is made under (null: none). */
export function setCommission(id: string | null): void {
  commission = id;
}

export async function api<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
  const { api_base_url: base } = await config();
  const url = new URL(base.replace(/\/$/, "") + path, location.origin);
  for (const [key, value] of Object.entries(options.query ?? {})) {
    if (value !== undefined && value !== null && value !== "") url.searchParams.set(key, String(value));
  }
  const headers: Record<string, string> = { Accept: "application/json, application/problem+json" };
  if (options.auth !== false) {
    const session = getSession();
    if (!session) throw new ApiError(401, "unauthorized", "Not logged in");
    headers.Authorization = `Bearer ${session.accessToken}`;
    const commissionId = options.commissionId ?? commission;
    if (commissionId) headers["X-Commission-Id"] = commissionId;
  }
  if (options.idempotencyKey) headers["Idempotency-Key"] = options.idempotencyKey;
  let body: string | undefined;
  if (options.body !== undefined) {
    headers["Content-Type"] = "application/json";
    body = JSON.stringify(options.body);
  }
  let response: Response;
  try {
    response = await fetch(url, {
      method,
      headers,
      body,
      signal: options.signal,
      credentials: "omit",
      cache: "no-store",
    });
  } catch (error) {
    if (error instanceof DOMException && error.name === "AbortError") throw error;
    throw new ApiError(0, "network", "The service could not be reached");
  }
  if (response.status === 401 && options.auth !== false) {
    endSession("rejected");
    throw new ApiError(401, "unauthorized", "The login is no longer valid");
  }
  if (response.status === 204) return undefined as T;
  const type = response.headers.get("Content-Type") ?? "";
  const data: unknown = type.includes("json") ? await response.json().catch(() => null) : null;
  if (!response.ok) throw problemError(response, data);
  return data as T;
}

function problemError(response: Response, data: unknown): ApiError {
  const problem = (data && typeof data === "object" ? data : {}) as Record<string, unknown>;
  const params = Array.isArray(problem.invalid_params)
    ? (problem.invalid_params as unknown[]).filter(
        (p): p is InvalidParam =>
          !!p && typeof p === "object" && typeof (p as InvalidParam).name === "string",
      )
    : [];
  const retry = Number(response.headers.get("Retry-After"));
  return new ApiError(
    response.status,
    typeof problem.code === "string" ? problem.code : `http-${response.status}`,
    typeof problem.detail === "string" ? problem.detail : response.statusText,
    params,
    Number.isFinite(retry) && retry > 0 ? retry : null,
    problem,
  );
}

/** A fresh Idempotency-Key (keep one per form until it succeeds, so a retry is not a second write). */
export function newIdempotencyKey(): string {
  return crypto.randomUUID();
}
