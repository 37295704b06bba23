#!/usr/bin/env node
// The `typetorch` command (package.json "bin"): the built CLI when there is one (dist/), else
// the TypeScript source through tsx (a checkout of the repository).
import { existsSync } from "node:fs";

const dist = new URL("../dist/compiler/cli.js", import.meta.url);
let cli;
if (existsSync(dist)) cli = await import(dist.href);
else {
  const { register } = await import("tsx/esm/api");
  register();
  cli = await import(new URL("./cli.ts", import.meta.url).href);
}
process.exitCode = await cli.main(process.argv.slice(2));
