/**
 * The esbuild plugin: `import "./model.kernels.generated.js"` in bundled code compiles
 * `./model.ts` while bundling (as `typetorch compile` does, writing the same file), so the bundle
 * always carries kernels that match the model.
 *
 * @example
 * import { build } from "esbuild";
 * import { typetorch } from "typetorch/esbuild";
 * await build({ entryPoints: ["src/main.ts"], bundle: true, plugins: [typetorch()] });
 */
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import type { Plugin } from "esbuild";
import type { Project } from "ts-morph";
import { formatDiagnostic } from "./diagnostics.js";
import { createProject } from "./extract.js";
import { compileFiles } from "./write.js";

/** Options of the {@link typetorch} plugin. */
export interface TypetorchPluginOptions {
  /** Kernel targets (default `["js"]`). */
  readonly targets?: readonly ("js" | "wgsl")[];
  /** The runtime import in generated modules (default `"typetorch"`). */
  readonly runtimeImport?: string;
}

const GENERATED = /\.kernels\.generated(\.js|\.ts)?$/;

/** An esbuild plugin that (re)generates `*.kernels.generated.ts` modules as they are imported. */
export function typetorch(opts: TypetorchPluginOptions = {}): Plugin {
  return {
    name: "typetorch",
    setup(build) {
      let project: Project | undefined;
      build.onResolve({ filter: GENERATED }, (args) => {
        const base = resolve(args.resolveDir, args.path.replace(/\.(js|ts)$/, "")).replace(/\.kernels\.generated$/, "");
        const src = [".ts", ".mts", ".tsx"].map((e) => base + e).find((f) => existsSync(f));
        if (!src) return undefined;
        if (!project) project = createProject([src]);
        else {
          const sf = project.getSourceFile(src);
          if (sf) sf.refreshFromFileSystemSync();
          else project.addSourceFileAtPath(src);
        }
        const [r] = compileFiles([src], { project, ...(opts.targets ? { targets: opts.targets } : {}), ...(opts.runtimeImport ? { runtimeImport: opts.runtimeImport } : {}) });
        const warnings = r!.diagnostics.map((d) => ({ text: formatDiagnostic(d), location: { file: d.loc.file, line: d.loc.line, column: d.loc.column - 1 } }));
        return { path: r!.outFile, watchFiles: [src], warnings };
      });
    },
  };
}
