// Bundles flowdesk's browser entry points (api/static/src/*.js: ES modules importing
// npm packages) with their CSS and fonts into api/static/dist/ — `npm run build`,
// run by the Makefile's set-up. Deterministic: the same sources give the same files.
import { readFile } from "node:fs/promises";
import * as esbuild from "esbuild";

// The pages' Content-Security-Policy refuses style attributes in markup (style-src
// 'self'); the properties panel's two containers are the only such attributes of the
// modeler. api/static/designer.css gives them the same styles.
const INLINE_STYLES = ['style="height: 100%" ', 'style="flex: none; height: auto" '];
const noInlineStyle = {
  name: "no-inline-style",
  setup(build) {
    build.onLoad({ filter: /bpmn-js-properties-panel[\\/]dist[\\/]index\.esm\.js$/ }, async (args) => {
      const source = await readFile(args.path, "utf8");
      const contents = INLINE_STYLES.reduce((text, style) => text.replace(`<div ${style}`, "<div "), source);
      return { contents, loader: "js" };
    });
  },
};

await esbuild.build({
  entryPoints: ["api/static/src/designer.js"],
  outdir: "api/static/dist",
  bundle: true,
  minify: true,
  format: "iife",
  target: "es2020",
  loader: { ".woff": "file", ".woff2": "file", ".ttf": "file", ".eot": "file", ".svg": "file" },
  assetNames: "[name]-[hash]",
  legalComments: "external",
  logLevel: "warning",
  plugins: [noInlineStyle],
});
