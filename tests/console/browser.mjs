// The console in a real browser: Debian's Chromium driven by playwright-core. Run by
// tests/console.rs against a `mediaflow serve` it started; every step throws on failure, and the
// screenshots go to SCREENSHOTS (target/console-screenshots/ in CI).
//
// Environment: CONSOLE (its URL), OTHER (a page of another origin), BIG (a ~30 MB clip),
// CAPTIONS (SubRip of BIG's stem), SMALL (a short clip named redrive-me: while the file FLAG
// exists, ffprobe fails on it), SLOW (a clip ffprobe takes a minute over), SCREENSHOTS.
import { chromium } from "playwright-core";
import fs from "node:fs";
import path from "node:path";
import { checkParser, checkStoryboard } from "./storyboard.mjs";

const { CONSOLE, OTHER, BIG, CAPTIONS, SPOKEN, SPOKEN_CAPTIONS, SMALL, SLOW, FLAG, SCREENSHOTS } = process.env;
const MIB = 1024 * 1024;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
fs.mkdirSync(SCREENSHOTS, { recursive: true });

function check(condition, message) {
  if (!condition) throw new Error(message);
}

async function until(what, probe, seconds = 120) {
  const end = Date.now() + seconds * 1000;
  for (;;) {
    const found = await probe();
    if (found) return found;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(250);
  }
}

const browser = await chromium.launch({
  executablePath: "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"],
});
const context = await browser.newContext({ viewport: { width: 1400, height: 1000 } });
const page = await context.newPage();
const errors = [];
page.on("pageerror", (e) => errors.push(`page error: ${e.message}`));
page.on("console", (m) => { if (m.type() === "error") errors.push(`console: ${m.text()}`); });
const shot = (name) => page.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`), fullPage: true });
const api = async (p) => (await page.request.get(new URL(p, CONSOLE).href)).json();

try {
  // 1. A request from another origin may not change anything.
  const s3Page = new URL(CONSOLE);
  const other = await context.newPage();
  await other.goto(OTHER);
  const refused = other.waitForResponse((r) => r.url().endsWith("/api/uploads/presign"));
  await other.evaluate((url) => fetch(url, { method: "POST", mode: "no-cors", headers: { "Content-Type": "text/plain" },
    body: JSON.stringify({ key: "inputs/evil.mp4", parts: 1 }) }).catch(() => {}), new URL("/api/uploads/presign", s3Page).href);
  check((await refused).status() === 403, "a cross-origin presign was not refused");
  const stopped = other.waitForResponse((r) => r.url().endsWith("/api/execution/stop"));
  await other.evaluate((url) => fetch(url, { method: "POST", mode: "no-cors", headers: { "Content-Type": "text/plain" },
    body: JSON.stringify({ executionArn: "x" }) }).catch(() => {}), new URL("/api/execution/stop", s3Page).href);
  check((await stopped).status() === 403, "a cross-origin stop was not refused");
  await other.close();
  console.log("ok: cross-origin calls refused");

  // 2. A 30 MB file in 5 MiB parts, slowed so that the page reloads mid-upload.
  const bigKey = `inputs/${path.basename(BIG)}`;
  await page.goto(`${CONSOLE}#/upload`);
  await page.selectOption("#part-size", "5");
  await page.route(/CHUNK\d+/, async (route) => { await sleep(1500); await route.continue(); });
  await page.setInputFiles("#file-input", BIG);
  const size = fs.statSync(BIG).size;
  const parts = Math.ceil(size / (5 * MIB));
  const before = await until("two stored parts", async () => {
    const held = await api(`/api/uploads/parts?key=${encodeURIComponent(bigKey)}`);
    return held.parts.length >= 2 && held.parts.length < parts ? held.parts : null;
  });
  await shot("upload-in-progress");
  await page.unrouteAll({ behavior: "ignoreErrors" });
  await page.reload();
  await page.waitForSelector(`#unfinished [data-key="${bigKey}"]`);
  const stored = new Set((await api(`/api/uploads/parts?key=${encodeURIComponent(bigKey)}`)).parts.map((p) => p.index));
  check(stored.size >= before.length, "parts vanished over the reload");
  const sentAfter = [];
  page.on("request", (r) => {
    const m = r.url().match(/\.CHUNK(\d+)\?/);
    if (m && r.method() === "PUT") sentAfter.push(Number(m[1]));
  });
  await page.setInputFiles("#file-input", BIG);
  await page.waitForSelector(`#uploads tr[data-key="${bigKey}"][data-status="done"]`, { timeout: 120000 });
  const note = await page.textContent(`#uploads tr[data-key="${bigKey}"] .note`);
  check(/resumed: \d+ of \d+ parts were already stored/.test(note), `no resume note: ${note}`);
  const again = sentAfter.filter((i) => stored.has(i));
  check(again.length === 0, `parts ${again} were stored before the reload and sent again`);
  check(sentAfter.length === parts - stored.size, `after the reload ${sentAfter.length} parts went, not ${parts - stored.size}`);
  await shot("upload-done");
  console.log(`ok: ${parts} parts, ${stored.size} stored before the reload and not sent again`);

  // 3. Its execution goes green in the graph.
  await page.goto(`${CONSOLE}#/`);
  const row = `#executions tr:has(a:text-is("${bigKey}"))`;
  await page.waitForSelector(`${row}[data-status="SUCCEEDED"]`, { timeout: 240000 });
  await page.click(`${row} a`);
  await page.waitForSelector('#execution-status:has-text("SUCCEEDED")');
  for (const state of ["Classify", "Probe", "BuildJob", "Transcode", "SaveFrame", "SaveMetadata", "Publish", "NotifySuccess"]) {
    await page.waitForSelector(`svg.graph .node.st-succeeded[data-state="${state}"]`);
  }
  check(await page.$('svg.graph .node.st-notrun[data-state="ConvertCaption"]'), "a state of another branch is not shown as not run");
  check(await page.$('svg.graph rect.box.st-succeeded'), "the Parallel's box is not green");
  await page.click('svg.graph .node[data-state="Probe"]');
  await page.waitForSelector('#state-detail h3:text-is("Output")');
  check((await page.textContent("#state-detail")).includes("durationSeconds"), "Probe's output is not shown");
  check((await page.textContent("#state-detail .state-log")).includes("ran tool=ffprobe"), "Probe's log is not shown");
  await page.locator("#graph").screenshot({ path: path.join(SCREENSHOTS, "graph.png") });
  await shot("execution-succeeded");
  await page.click('button.tab:text-is("Table")');
  check((await page.$$("#states tbody tr")).length >= 10, "the table lists too few states");
  await page.click('button.tab:text-is("Events")');
  check((await page.$$("#events tbody tr")).length >= 30, "the history lists too few events");
  console.log("ok: the execution is green in the graph, its table and its history");

  // 4. Its outputs play, with the captions of its stem.
  await page.goto(`${CONSOLE}#/upload`);
  await page.setInputFiles("#file-input", CAPTIONS);
  await page.goto(`${CONSOLE}#/`);
  await page.waitForSelector(`#executions tr:has(a:text-is("inputs/${path.basename(CAPTIONS)}"))[data-status="SUCCEEDED"]`);
  await page.goto(`${CONSOLE}#/outputs/${encodeURIComponent(bigKey)}`);
  await page.waitForSelector('video track[srclang="en"]', { state: "attached" });
  const played = await page.evaluate(async () => {
    const video = document.querySelector("video");
    video.muted = true;
    await video.play();
    video.currentTime = 2;
    await new Promise((r) => video.addEventListener("seeked", r, { once: true }));
    const track = video.textTracks[0];
    track.mode = "showing";
    const element = video.querySelector("track");
    if (element.readyState !== 2) await new Promise((r) => element.addEventListener("load", r, { once: true }));
    return { ready: video.readyState, time: video.currentTime, width: video.videoWidth, cues: track.cues.length, text: track.cues[0].text };
  });
  check(played.ready >= 2 && played.width === 640, `the rendition does not play: ${JSON.stringify(played)}`);
  check(played.cues === 1 && played.text === "Noise, captioned", `the captions did not load: ${JSON.stringify(played)}`);
  const streamed = await page.evaluate(async () => {
    const video = document.querySelector("video.hls");
    video.muted = true;
    await video.play();
    await new Promise((r) => (video.readyState >= 2 ? r() : video.addEventListener("canplay", r, { once: true })));
    return { ready: video.readyState, levels: video.hlsPlayer ? video.hlsPlayer.levels.length : -1, width: video.videoWidth };
  });
  check(streamed.ready >= 2 && streamed.levels === 1 && streamed.width === 640, `the HLS ladder does not play: ${JSON.stringify(streamed)}`);
  await page.waitForFunction(() => document.querySelector("img.thumbnail")?.naturalWidth > 0);
  check(/about \$0\.\d{4} at the basic tier/.test(await page.textContent("#cost")), "the outputs do not show the cost");
  const ranged = await page.request.get(new URL(`/files/audiovideo/${path.basename(BIG, ".mp4")}_360p.mp4`, CONSOLE).href, { headers: { Range: "bytes=0-99" } });
  check(ranged.status() === 206 && (await ranged.body()).length === 100, `a byte range came back ${ranged.status()}`);
  await shot("outputs");
  console.log(`ok: the rendition plays and seeks (readyState ${played.ready}) with its captions, the HLS ladder plays, the thumbnail shows`);

  // 4a. A clip that speaks, uploaded with captions of its own: they stay the default track,
  // its machine caption beside them.
  await page.goto(`${CONSOLE}#/upload`);
  await page.setInputFiles("#file-input", [SPOKEN, SPOKEN_CAPTIONS]);
  const spokenKey = `inputs/${path.basename(SPOKEN)}`;
  await page.goto(`${CONSOLE}#/`);
  for (const key of [spokenKey, `inputs/${path.basename(SPOKEN_CAPTIONS)}`]) {
    await page.waitForSelector(`#executions tr:has(a:text-is("${key}"))[data-status="SUCCEEDED"]`, { timeout: 120000 });
  }
  await page.goto(`${CONSOLE}#/outputs/${encodeURIComponent(spokenKey)}`);
  await page.waitForSelector('video track[label="en-US (machine)"]', { state: "attached" });
  const tracks = await page.evaluate(() => [...document.querySelector("video").querySelectorAll("track")]
    .map((t) => ({ label: t.label, srclang: t.srclang, isDefault: t.default })));
  check(tracks.length === 2 && tracks[0].srclang === "en" && tracks[0].isDefault
    && tracks[1].srclang === "en-US" && tracks[1].label === "en-US (machine)" && !tracks[1].isDefault,
    `the uploaded caption is not the default with the machine one beside it: ${JSON.stringify(tracks)}`);
  check(/Transcribe on AWS: about \$0\.\d{4}/.test(await page.textContent("#transcription-cost")), "the outputs do not show Transcribe's cost");
  console.log("ok: the uploaded caption is the default track, the machine caption beside it, with Transcribe's cost");

  // 4b. Scrubbing any of its players previews the storyboard the pipeline made.
  await checkParser(page);
  const scrubbed = await checkStoryboard(page, CONSOLE, bigKey, shot);
  console.log(`ok: the storyboard's tiles (${scrubbed.cues} cues) preview while scrubbing ${scrubbed.players} players`);

  // 5. A failed execution, redriven from its page once its cause is gone.
  await page.goto(`${CONSOLE}#/upload`);
  await page.setInputFiles("#file-input", SMALL);
  const smallKey = `inputs/${path.basename(SMALL)}`;
  await page.waitForSelector(`#uploads tr[data-key="${smallKey}"][data-status="done"]`);
  await page.goto(`${CONSOLE}#/`);
  const failedRow = `#executions tr:has(a:text-is("${smallKey}"))`;
  await page.waitForSelector(`${failedRow}[data-status="FAILED"]`, { timeout: 120000 });
  check((await page.textContent(failedRow)).includes("Probe"), "the list does not say where it failed");
  await page.selectOption("#status-filter", "FAILED");
  await page.waitForFunction(() => [...document.querySelectorAll("#executions tbody tr")].every((r) => r.dataset.status === "FAILED"));
  check((await page.$$("#executions tbody tr")).length === 1, "the FAILED filter does not show the one failed execution");
  await page.click(`${failedRow} a`);
  await page.waitForSelector('svg.graph .node.st-failed[data-state="Probe"]');
  await page.click('svg.graph .node[data-state="Probe"]');
  await page.waitForSelector('#state-detail h3:text-is("Cause")');
  check((await page.textContent("#state-detail")).includes("MediaFlow."), "the failed state's error is not shown");
  await shot("execution-failed");
  fs.unlinkSync(FLAG);
  await page.click("#redrive");
  await page.waitForSelector('#execution-status:has-text("SUCCEEDED")', { timeout: 120000 });
  await page.waitForSelector('svg.graph .node.st-succeeded[data-state="Probe"]');
  check((await page.textContent(".bar")).includes("redriven 1×"), "the page does not say it was redriven");
  await shot("execution-redriven");
  console.log("ok: the failed execution was redriven from its page and succeeded");

  // 6. A running execution, stopped from its page.
  await page.goto(`${CONSOLE}#/upload`);
  await page.setInputFiles("#file-input", SLOW);
  const slowKey = `inputs/${path.basename(SLOW)}`;
  await page.goto(`${CONSOLE}#/`);
  const slowRow = `#executions tr:has(a:text-is("${slowKey}"))`;
  await page.waitForSelector(`${slowRow}[data-status="RUNNING"]`);
  await page.click(`${slowRow} a`);
  await page.waitForSelector('svg.graph .node.st-running[data-state="Probe"]');
  await page.click("#stop");
  await page.waitForSelector('#execution-status:has-text("ABORTED")');
  await page.waitForSelector('svg.graph .node.st-stopped[data-state="Probe"]');
  check(await page.isEnabled("#redrive"), "a stopped execution cannot be redriven");
  console.log("ok: the running execution was stopped from its page");

  check(errors.length === 0, `the page logged errors:\n${errors.join("\n")}`);
} catch (e) {
  await shot("failure").catch(() => {});
  console.error(e.stack || String(e));
  process.exitCode = 1;
} finally {
  await browser.close();
}
