#!/usr/bin/env node
// Validates WebVTT files with the W3C's own parser (npm webvtt-parser): prints every error and
// exits 1 if any file has one. Usage: scripts/check-vtt.cjs FILE…
'use strict';
const { readFileSync } = require('node:fs');
const { WebVTTParser } = require('webvtt-parser');

const files = process.argv.slice(2);
let invalid = 0;
for (const file of files) {
  const tree = new WebVTTParser().parse(readFileSync(file, 'utf8'), 'subtitles');
  if (tree.errors.length > 0) {
    invalid += 1;
    for (const e of tree.errors) console.log(`${file}:${e.line}:${e.col ?? 0}: ${e.message}`);
  }
}
console.log(`${files.length - invalid} valid, ${invalid} invalid`);
process.exit(invalid > 0 || files.length === 0 ? 1 : 0);
