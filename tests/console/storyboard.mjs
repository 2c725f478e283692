// The storyboard preview on an upload's players (src/console/assets/storyboard.js), checked
// against the storyboard the pipeline published: its map is read and parsed here on its own (not
// with the page's parser), and for every player the pointer goes to the middle of two cues on the
// scrub bar; the preview must show each cue's tile, then hide when the pointer leaves.

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function check(condition, message) {
  if (!condition) throw new Error(message);
}

const fileUrl = (console, key) => new URL(`/files/${key.split("/").map(encodeURIComponent).join("/")}`, console).href;

// "00:01:02.500" as seconds.
const seconds = (stamp) => stamp.split(":").reduce((total, part) => total * 60 + Number(part), 0);

// The cues of a storyboard map, as the issue defines it: `start --> end`, then
// `<sprite>#xywh=x,y,w,h`.
export function cuesOf(text) {
  const cues = [];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const time = /^(\S+)\s+-->\s+(\S+)/.exec(lines[i]);
    if (!time) continue;
    const tile = /^(.+)#xywh=(\d+),(\d+),(\d+),(\d+)$/.exec((lines[i + 1] || "").trim());
    check(tile, `the cue at line ${i + 1} names no tile: ${lines[i + 1]}`);
    const [x, y, w, h] = tile.slice(2).map(Number);
    cues.push({ start: seconds(time[1]), end: seconds(time[2]), image: tile[1], x, y, w, h });
  }
  return cues;
}

// `key`'s outputs page: every player has a scrub bar whose preview follows the pointer.
export async function checkStoryboard(page, console, key, shot) {
  const answer = await (await page.request.get(new URL(`/api/outputs?key=${encodeURIComponent(key)}`, console).href)).json();
  const board = answer.storyboard;
  check(board, `${key} has no storyboard: ${JSON.stringify(answer.files.map((f) => f.key))}`);
  const recorded = answer.document && answer.document.storyboard;
  check(recorded && recorded.image.key === board.image && recorded.map.key === board.map,
    `the metadata document names another storyboard: ${JSON.stringify(recorded)} ≠ ${JSON.stringify(board)}`);
  const map = await page.request.get(fileUrl(console, board.map));
  check(map.ok(), `the map ${board.map} answers ${map.status()}`);
  const cues = cuesOf(await map.text());
  check(cues.length >= 3 && cues.length === recorded.grid.tiles, `${cues.length} cues for ${recorded.grid.tiles} tiles`);
  const sprite = board.image.split("/").pop();
  check(cues.every((c) => c.image === sprite), `a cue names another sprite than ${sprite}`);

  // Drawn afresh (another view first), its players paused so a seek stays where it went.
  await page.goto(`${console}#/`);
  await page.goto(`${console}#/outputs/${encodeURIComponent(key)}`);
  const players = page.locator("figure .player:has(video)");
  await players.first().waitFor();
  await page.$$eval("video", (videos) => videos.forEach((v) => v.pause()));
  const count = await players.count();
  check(count === (await page.locator("figure video").count()), "a player has no scrub bar");
  for (let n = 0; n < count; n++) {
    const player = players.nth(n);
    const [video, bar, preview, tile] = ["video", ".scrub", ".scrub-preview", ".scrub-tile"].map((s) => player.locator(s));
    const duration = await until("the player's duration", () => video.evaluate((v) => (v.duration > 0 && Number.isFinite(v.duration) ? v.duration : 0)));
    check(await bar.getAttribute("role") === "slider" && Number(await bar.getAttribute("aria-valuemax")) > 0, "the scrub bar is no slider");
    const box = await bar.boundingBox();
    const shown = [];
    // The middle of the second cue and of the last but one: clear of any edge.
    for (const cue of [cues[1], cues[cues.length - 2]]) {
      const time = Math.min((cue.start + cue.end) / 2, duration - 0.05);
      await page.mouse.move(box.x + (box.width * time) / duration, box.y + box.height / 2, { steps: 3 });
      await preview.waitFor({ state: "visible" });
      const seen = await until("the cue's tile", async () => {
        const style = await tile.evaluate((t) => {
          const s = getComputedStyle(t);
          return { position: s.backgroundPosition, image: s.backgroundImage, width: s.width, height: s.height };
        });
        return style.position === `${-cue.x}px ${-cue.y}px` ? style : null;
      }, 10);
      check(seen.width === `${cue.w}px` && seen.height === `${cue.h}px`, `the tile is ${seen.width}×${seen.height}, not ${cue.w}×${cue.h}`);
      check(seen.image.includes(encodeURI(`/files/${board.image}`)), `the tile shows ${seen.image}, not ${board.image}`);
      const text = (await preview.locator(".scrub-time").textContent()).trim();
      const clock = (t) => `${Math.floor(t / 60)}:${String(Math.floor(t % 60)).padStart(2, "0")}`;
      check([clock(time - 0.05), clock(time + 0.05)].includes(text), `the preview says ${text} at ${time} s`);
      shown.push(seen.position);
    }
    check(shown[0] !== shown[1], `the preview showed ${shown[0]} at both points`);
    if (n === 0) await shot("storyboard-preview");
    // A click seeks; then the pointer leaves and the preview goes.
    await page.mouse.down();
    await page.mouse.up();
    const wanted = Math.min((cues[cues.length - 2].start + cues[cues.length - 2].end) / 2, duration - 0.05);
    await until("the click's seek", () => video.evaluate((v, t) => Math.abs(v.currentTime - t) < 0.25, wanted), 10);
    check(Math.abs(Number(await bar.getAttribute("aria-valuenow")) - wanted) < 0.3, "aria-valuenow does not follow the seek");
    await page.mouse.move(box.x + box.width / 2, box.y - 400);
    await preview.waitFor({ state: "hidden" });
  }
  const image = await page.evaluate(async (url) => {
    const img = new Image();
    img.src = url;
    await img.decode();
    return { width: img.naturalWidth, height: img.naturalHeight };
  }, fileUrl(console, board.image));
  const last = cues[cues.length - 1];
  check(image.width >= last.x + last.w && image.height >= last.y + last.h, `the sprite (${image.width}×${image.height}) misses the last tile`);
  return { players: count, cues: cues.length };
}

// The page's parser on what a map may also hold: CRLF, a header and a NOTE, hours, cue
// settings, a `pixel:` fragment, a cue with no tile and cues out of order.
export async function checkParser(page) {
  const cues = await page.evaluate(() => MF.storyboard.parse(
    "WEBVTT - tiles\r\n\r\nNOTE made by hand\r\n\r\n2\r\n00:00:05.000 --> 00:00:10.000 align:start\r\n" +
    "s.jpg#xywh=pixel:160,0,160,90\r\n\r\n00:00.000 --> 00:05.000\r\nsub/s.jpg#xywh=0,0,160,90\r\n\r\n" +
    "01:00:00.000 --> 01:00:05.000\r\nno-tile.jpg\r\n", "http://console.test/files/thumbnail/a/s.storyboard.vtt"));
  const want = [
    { start: 0, end: 5, image: "http://console.test/files/thumbnail/a/sub/s.jpg", x: 0, y: 0, w: 160, h: 90 },
    { start: 5, end: 10, image: "http://console.test/files/thumbnail/a/s.jpg", x: 160, y: 0, w: 160, h: 90 },
  ];
  check(JSON.stringify(cues) === JSON.stringify(want), `the page parsed ${JSON.stringify(cues)}`);
  const at = await page.evaluate((c) => [-1, 0, 4.99, 5, 9.99, 30].map((t) => MF.storyboard.cueAt(c, t).start), cues);
  check(JSON.stringify(at) === "[0,0,0,5,5,5]", `the cues found for times: ${at}`);
}

async function until(what, probe, seconds = 60) {
  const end = Date.now() + seconds * 1000;
  for (;;) {
    const found = await probe();
    if (found) return found;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}
