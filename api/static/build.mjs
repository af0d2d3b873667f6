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

// dmn-js writes style attributes into the markup of its logo (with its notice) and of
// its drag image; api/static/dmn.css gives the same styles. CodeMirror (its expression
// editors) puts its styles in a <style> element, refused too, unless it adopts a
// constructed style sheet, which it does only in a shadow root: let it in the document
// as well. Each text must be found.
const DMN_INLINE_STYLES = [
  [/style-mod[\\/]src[\\/]style-mod\.js$/, [
    [/!root\.head && root\.adoptedStyleSheets/, "root.adoptedStyleSheets"],
  ]],
  [/dmn-js-shared[\\/]lib[\\/]util[\\/]PoweredByUtil\.js$/, [
    [/ style="vertical-align:middle"/, ""],
    [/'style="position: absolute; bottom: 15px; right: 15px; z-index: 100;">'/, "'>'"],
    [/" style="' \+ (LIGHTBOX|BACKDROP|NOTICE)_STYLES \+ '">/g, '">'],
    [/ rel="noopener" style="margin: 15px 20px 15px 10px; align-self: center;' \+ '">/, ' rel="noopener" class="bjs-powered-by-logo">'],
  ]],
  [/dmn-js-decision-table[\\/]lib[\\/]features[\\/]drag-and-drop[\\/]DragAndDrop\.js$/, [
    [/<span style="[^"]*"><\/span>/, '<span class="fd-drag-image"></span>'],
  ]],
];
const noDmnInlineStyle = {
  name: "no-dmn-inline-style",
  setup(build) {
    for (const [filter, replacements] of DMN_INLINE_STYLES) {
      build.onLoad({ filter }, async (args) => {
        let contents = await readFile(args.path, "utf8");
        for (const [pattern, by] of replacements) {
          if (!pattern.test(contents)) throw new Error(`${args.path}: ${pattern} not found`);
          pattern.lastIndex = 0;
          contents = contents.replace(pattern, by);
        }
        return { contents, loader: "js" };
      });
    }
  },
};

await esbuild.build({
  entryPoints: ["api/static/src/designer.js", "api/static/src/dmn.js"],
  outdir: "api/static/dist",
  bundle: true,
  minify: true,
  format: "iife",
  target: "es2020",
  loader: { ".woff": "file", ".woff2": "file", ".ttf": "file", ".eot": "file", ".svg": "file" },
  assetNames: "[name]-[hash]",
  legalComments: "external",
  logLevel: "warning",
  plugins: [noInlineStyle, noDmnInlineStyle],
});

// The report pages' charts: ECharts' bar chart only (api/static/src/reports.js).
await esbuild.build({
  entryPoints: ["api/static/src/reports.js"],
  outdir: "api/static/dist",
  bundle: true,
  minify: true,
  format: "iife",
  target: "es2020",
  legalComments: "external",
  logLevel: "warning",
});
