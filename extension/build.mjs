// Build the spinscope extension into dist/extension/ (load it unpacked from there), and with
// --zip also dist/spinscope-extension-<version>.zip for the browser stores.
//
// Nothing is fetched: Mozilla's Readability comes from node_modules (`npm ci`, pinned in
// package-lock.json) and is bundled into content.js together with the panel's stylesheet, so
// the extension never loads code at run time. The zip is written here (deflate from node's
// zlib) with a fixed date, so the same sources give the same bytes.
import { createRequire } from "node:module";
import { copyFileSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { deflateRawSync } from "node:zlib";

const here = dirname(fileURLToPath(import.meta.url));
const out = join(here, "dist", "extension");
const require = createRequire(import.meta.url);

function readability() {
  let main;
  try {
    main = require.resolve("@mozilla/readability/Readability.js");
  } catch {
    console.error("build: @mozilla/readability is missing: run `npm ci` in extension/ first");
    process.exit(2);
  }
  const folder = dirname(main);
  const { version } = JSON.parse(readFileSync(join(folder, "package.json"), "utf8"));
  const code = readFileSync(join(folder, "Readability.js"), "utf8");
  return { version, code, license: readFileSync(join(folder, "LICENSE.md"), "utf8") };
}

function contentScript() {
  const { version, code, license } = readability();
  const panelCss = readFileSync(join(here, "src", "panel.css"), "utf8");
  const content = readFileSync(join(here, "src", "content.js"), "utf8");
  writeFileSync(join(out, "LICENSE-readability.md"), license);
  // One function scope: Readability's globals stay out of the page's (isolated) world.
  return [
    `// Built by build.mjs: @mozilla/readability ${version} (Apache-2.0, LICENSE-readability.md) and spinscope's content script.`,
    "(() => {",
    code.replace(/^if \(typeof module === "object"\) \{[\s\S]*?\n\}\s*$/gm, ""),
    `const PANEL_CSS = ${JSON.stringify(panelCss)};`,
    content,
    "})();",
    "",
  ].join("\n");
}

function build() {
  rmSync(out, { recursive: true, force: true });
  mkdirSync(join(out, "icons"), { recursive: true });
  copyFileSync(join(here, "manifest.json"), join(out, "manifest.json"));
  for (const name of readdirSync(join(here, "icons"))) copyFileSync(join(here, "icons", name), join(out, "icons", name));
  for (const name of ["background.js", "page.css", "options.html", "options.css", "options.js"]) {
    copyFileSync(join(here, "src", name), join(out, name));
  }
  writeFileSync(join(out, "content.js"), contentScript());
}

// --- a minimal, reproducible zip (deflate, no extra fields) ----------------------------------

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k += 1) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(bytes) {
  let c = 0xffffffff;
  for (const b of bytes) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function files(folder) {
  return readdirSync(folder)
    .sort()
    .flatMap((name) => {
      const path = join(folder, name);
      return statSync(path).isDirectory() ? files(path) : [path];
    });
}

function zip(folder, target) {
  const DOS_TIME = 0; // 00:00:00
  const DOS_DATE = (2024 - 1980) << 9 | 1 << 5 | 1; // 2024-01-01
  const locals = [];
  const centrals = [];
  let offset = 0;
  for (const path of files(folder)) {
    const name = Buffer.from(relative(folder, path).split("\\").join("/"));
    const data = readFileSync(path);
    const packed = deflateRawSync(data, { level: 9 });
    const head = Buffer.alloc(30);
    head.writeUInt32LE(0x04034b50, 0);
    head.writeUInt16LE(20, 4);
    head.writeUInt16LE(0x0800, 6); // names in UTF-8
    head.writeUInt16LE(8, 8);
    head.writeUInt16LE(DOS_TIME, 10);
    head.writeUInt16LE(DOS_DATE, 12);
    head.writeUInt32LE(crc32(data), 14);
    head.writeUInt32LE(packed.length, 18);
    head.writeUInt32LE(data.length, 22);
    head.writeUInt16LE(name.length, 26);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(20, 4);
    head.copy(central, 6, 4, 30); // version needed .. name length
    central.writeUInt32LE((0o100644 << 16) >>> 0, 38);
    central.writeUInt32LE(offset, 42);
    locals.push(head, name, packed);
    centrals.push(central, name);
    offset += head.length + name.length + packed.length;
  }
  const directory = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(centrals.length / 2, 8);
  end.writeUInt16LE(centrals.length / 2, 10);
  end.writeUInt32LE(directory.length, 12);
  end.writeUInt32LE(offset, 16);
  writeFileSync(target, Buffer.concat([...locals, directory, end]));
}

build();
console.log(`build: ${relative(process.cwd(), out) || "."}`);
if (process.argv.includes("--zip")) {
  const { version } = JSON.parse(readFileSync(join(here, "manifest.json"), "utf8"));
  const target = join(here, "dist", `spinscope-extension-${version}.zip`);
  zip(out, target);
  console.log(`build: ${relative(process.cwd(), target)}`);
}
