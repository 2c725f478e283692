// The storyboard preview: a scrub bar under a player that, while the pointer moves over it or
// drags along it, shows the storyboard tile of the time under the pointer. The native controls'
// timeline reports no hover position, hence a bar of our own; it also seeks on click, drag and
// the arrow keys. The map is WebVTT, one cue per tile, its text the sprite's URL (relative to
// the map) with a `#xywh=x,y,w,h` media fragment.
"use strict";

MF.storyboard = {};

// "01:02:03.450", "02:03.450" or "3.5" as seconds; NaN when it is none of them.
MF.storyboard.seconds = function (stamp) {
  if (!/^(\d+:){0,2}\d+(\.\d+)?$/.test(stamp)) return NaN;
  return stamp.split(":").reduce((total, part) => total * 60 + Number(part), 0);
};

// The cues of a storyboard map: [{ start, end, image, x, y, w, h }], `image` resolved against
// `base` (the map's URL). Cues without a pixel `#xywh=` fragment are left out.
MF.storyboard.parse = function (text, base) {
  const cues = [];
  for (const block of text.replace(/\r\n?/g, "\n").split(/\n{2,}/)) {
    const lines = block.split("\n").map((l) => l.trim()).filter(Boolean);
    const at = lines.findIndex((l) => l.includes("-->"));
    if (at < 0 || /^(NOTE|STYLE|REGION)\b/.test(lines[0])) continue;
    const [from, , to] = lines[at].split(/\s+/);
    const [start, end] = [MF.storyboard.seconds(from), MF.storyboard.seconds(to || "")];
    const payload = lines[at + 1] || "";
    const hash = payload.indexOf("#");
    const fragment = hash < 0 ? null : /(?:^|&)xywh=(?:pixel:)?(\d+),(\d+),(\d+),(\d+)(?:&|$)/.exec(payload.slice(hash + 1));
    if (!fragment || !(end > start)) continue;
    const [x, y, w, h] = fragment.slice(1).map(Number);
    cues.push({ start, end, image: new URL(payload.slice(0, hash), base).href, x, y, w, h });
  }
  return cues.sort((a, b) => a.start - b.start);
};

// The cue covering `time`; past the last cue's end (a rounded duration), the last one.
MF.storyboard.cueAt = function (cues, time) {
  let found = null;
  for (const cue of cues) {
    if (cue.start > time) break;
    found = cue;
    if (time < cue.end) return cue;
  }
  return found || cues[0] || null;
};

// The map at `url`, parsed: a promise of its cues (empty when it cannot be read, so the bar
// still seeks).
MF.storyboard.load = async function (url) {
  try {
    const response = await fetch(url, { cache: "no-cache" });
    if (!response.ok) throw new Error(`${response.status} ${response.statusText}`);
    return MF.storyboard.parse(await response.text(), new URL(url, location.href).href);
  } catch (e) {
    console.warn(`the storyboard map ${url} cannot be read: ${e.message}`);
    return [];
  }
};

// 75.2 as "1:15", 3700 as "1:01:40".
MF.storyboard.clock = function (seconds) {
  const s = Math.max(0, Math.floor(seconds || 0));
  const mm = String(Math.floor(s / 60) % 60);
  const ss = String(s % 60).padStart(2, "0");
  return s >= 3600 ? `${Math.floor(s / 3600)}:${mm.padStart(2, "0")}:${ss}` : `${mm}:${ss}`;
};

// `video` in a box with a scrub bar under it whose preview shows the tiles of `cues` (a
// promise of a storyboard's cues).
MF.storyboard.player = function (video, cues) {
  const clock = MF.storyboard.clock;
  const tile = MF.el("div", { class: "scrub-tile" });
  const time = MF.el("span", { class: "scrub-time" });
  const preview = MF.el("div", { class: "scrub-preview", hidden: true, "aria-hidden": "true" }, tile, time);
  const fill = MF.el("div", { class: "scrub-fill" });
  const bar = MF.el("div", {
    class: "scrub", role: "slider", tabindex: "0", "aria-label": "Seek, with the storyboard's preview",
    "aria-valuemin": "0", "aria-valuemax": "0", "aria-valuenow": "0",
  }, fill, preview);
  let loaded = [];
  cues.then((c) => { loaded = c; });
  let dragging = false;

  const duration = () => (Number.isFinite(video.duration) ? video.duration : 0);
  const timeAt = (clientX) => {
    const box = bar.getBoundingClientRect();
    const fraction = box.width ? Math.min(1, Math.max(0, (clientX - box.left) / box.width)) : 0;
    return { at: fraction * box.width, time: fraction * duration() };
  };
  const show = (clientX) => {
    const { at, time: t } = timeAt(clientX);
    const cue = MF.storyboard.cueAt(loaded, t);
    if (!cue || !duration()) return hide();
    tile.style.backgroundImage = `url("${cue.image}")`;
    tile.style.backgroundPosition = `${-cue.x}px ${-cue.y}px`;
    tile.style.width = `${cue.w}px`;
    tile.style.height = `${cue.h}px`;
    time.textContent = clock(t);
    preview.dataset.time = t.toFixed(3);
    preview.hidden = false;
    // Centred above the pointer, kept over the bar at its ends.
    const left = Math.min(Math.max(0, at - cue.w / 2), Math.max(0, bar.clientWidth - cue.w));
    preview.style.left = `${left}px`;
  };
  const hide = () => { preview.hidden = true; };
  const seek = (t) => {
    if (duration()) video.currentTime = Math.min(Math.max(0, t), duration());
  };
  const update = () => {
    const d = duration();
    bar.setAttribute("aria-valuemax", d.toFixed(1));
    bar.setAttribute("aria-valuenow", video.currentTime.toFixed(1));
    bar.setAttribute("aria-valuetext", `${clock(video.currentTime)} of ${clock(d)}`);
    fill.style.width = d ? `${(100 * video.currentTime) / d}%` : "0";
  };

  bar.addEventListener("pointermove", (e) => {
    show(e.clientX);
    if (dragging) seek(timeAt(e.clientX).time);
  });
  bar.addEventListener("pointerleave", () => { if (!dragging) hide(); });
  bar.addEventListener("pointerdown", (e) => {
    if (e.button !== 0) return;
    dragging = true;
    bar.setPointerCapture(e.pointerId);
    bar.focus();
    seek(timeAt(e.clientX).time);
    show(e.clientX);
  });
  bar.addEventListener("lostpointercapture", () => {
    dragging = false;
    if (!bar.matches(":hover")) hide();
  });
  bar.addEventListener("keydown", (e) => {
    const step = { ArrowLeft: -5, ArrowDown: -5, ArrowRight: 5, ArrowUp: 5, PageDown: -30, PageUp: 30 }[e.key];
    if (step !== undefined) seek(video.currentTime + step);
    else if (e.key === "Home") seek(0);
    else if (e.key === "End") seek(duration());
    else return;
    e.preventDefault();
  });
  for (const event of ["timeupdate", "durationchange", "loadedmetadata", "seeking"]) video.addEventListener(event, update);
  update();
  return MF.el("div", { class: "player" }, video, bar);
};
