// The app's deployment configuration, read once from /config.json (served by the local runtime; written by
// the deploy step in AWS). Nothing else is configured at build time, so one build runs anywhere.

export interface IdpConfig {
  /** The OIDC issuer; its discovery document is at `${issuer}/.well-known/openid-configuration`. */
  issuer: string;
  /** The public client registered for this app at that provider (PKCE, no secret). */
  client_id: string;
  /** Scopes to ask for; "openid" when absent. */
  scope?: string;
}

export interface AppConfig {
  /** Where the API is: "" for the app's own origin, else an absolute origin such as https://api.example.se. */
  api_base_url: string;
  /** "resident" (e-ID) and "staff" (SITHS). */
  idps: Record<string, IdpConfig>;
  /** The environment's name, shown in the page footer when it is not production (e.g. "local"). */
  environment?: string;
}

let loaded: Promise<AppConfig> | null = null;

export function config(): Promise<AppConfig> {
  loaded ??= fetch("/config.json", { cache: "no-store", credentials: "same-origin" }).then(async (response) => {
    if (!response.ok) throw new Error(`/config.json answered ${response.status}`);
    const data = (await response.json()) as AppConfig;
    if (typeof data.api_base_url !== "string" || typeof data.idps !== "object" || data.idps === null) {
      throw new Error("/config.json lacks api_base_url or idps");
    }
    return data;
  });
  loaded.catch(() => {
    loaded = null; // try again on the next call
  });
  return loaded;
}
