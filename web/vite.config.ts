import { defineConfig } from "vite";

// The local runtime (make run) serves the API, the development identity providers and /config.json on
// port 3000; `npm run dev` proxies them so the app sees one origin, as it does when the runtime serves dist/.
const runtime = process.env.RUNTIME_URL ?? "http://127.0.0.1:3000";

export default defineConfig({
  build: {
    target: "es2022",
    outDir: "dist",
    emptyOutDir: true,
    assetsInlineLimit: 0, // no data: URIs; every asset is a file the CSP allows as 'self'
    modulePreload: { polyfill: false },
    sourcemap: false,
    cssCodeSplit: true,
  },
  server: {
    host: "127.0.0.1",
    port: 5173,
    strictPort: true,
    proxy: Object.fromEntries(["/v1", "/dev", "/config.json", "/health"].map((p) => [p, runtime])),
  },
});
