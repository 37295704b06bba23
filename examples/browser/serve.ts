/**
 * `npm run demo`: builds the browser demo and serves it on http://127.0.0.1:8080 (or `PORT`)
 * with a tiny node:http static server.
 */
import { readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { extname, normalize } from "node:path";
import { fileURLToPath } from "node:url";
import { buildDemo } from "./build.js";

const TYPES: Record<string, string> = { ".html": "text/html; charset=utf-8", ".js": "text/javascript", ".bin": "application/octet-stream" };

/** Serves `dir` on 127.0.0.1:`port` (0: any free port); resolves once listening. */
export function serve(dir: string, port: number): Promise<Server> {
  const server = createServer((req, res) => {
    const path = normalize(decodeURIComponent((req.url ?? "/").split("?")[0]!)).replace(/^(\.\.[/\\])+/, "");
    const file = path === "/" ? "index.html" : path.slice(1);
    try {
      const body = readFileSync(dir + file);
      res.writeHead(200, { "content-type": TYPES[extname(file)] ?? "application/octet-stream", "cache-control": "no-store" });
      res.end(body);
    } catch {
      res.writeHead(404).end("not found");
    }
  });
  return new Promise((ok) => server.listen(port, "127.0.0.1", () => ok(server)));
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const dir = await buildDemo();
  const server = await serve(dir, Number(process.env.PORT ?? 8080));
  const a = server.address();
  console.log(`typetorch demo: http://127.0.0.1:${typeof a === "object" && a ? a.port : "?"}/  (Ctrl-C stops)`);
}
