// What an upload became: the thumbnail, a player per rendition and one per HLS ladder (hls.js,
// vendor/hls.min.js, where the browser has no HLS of its own), with the WebVTT captions of the
// same stem as tracks and, when the upload has a storyboard, a scrub bar previewing its tiles
// (storyboard.js), the MP3, the metadata document and a link to every public file.
"use strict";

const fileUrl = (key) => `/files/${key.split("/").map(encodeURIComponent).join("/")}`;

MF.views.outputs = function (main, key) {
  const body = MF.el("div", { id: "outputs" }, MF.el("p", { class: "muted" }, "Looking…"));
  main.append(MF.el("div", { class: "bar" }, MF.el("h1", {}, key), MF.el("span", { class: "muted" }, "outputs")), body);
  let shown = "";
  const tick = async () => {
    let answer;
    try {
      answer = await MF.get(`/api/outputs?key=${encodeURIComponent(key)}`);
    } catch (e) {
      body.replaceChildren(MF.el("p", { class: "error" }, e.message));
      return;
    }
    // Draw once per published set: players keep playing while the page looks for changes.
    const seen = JSON.stringify([answer.document && answer.document.executionId, answer.files.map((f) => f.key)]);
    if (seen === shown) return;
    shown = seen;
    const { document: doc, files, storyboard } = answer;
    const of = (folder, ext) => files.filter((f) => f.key.startsWith(folder) && f.key.toLowerCase().endsWith(ext));
    // Uploaded captions first, the first of them the default track; a machine caption
    // (`<stem>.<lang>.auto.vtt`) beside them, the default only where nothing was uploaded.
    const machine = (f) => /\.auto\.vtt$/i.test(f.key);
    const all = of("closed-caption/", ".vtt");
    const captions = [...all.filter((f) => !machine(f)), ...all.filter(machine)];
    const track = (f, i) => {
      const auto = machine(f);
      const tag = f.key.replace(/(\.auto)?\.vtt$/i, "").split(".").slice(1).pop();
      const language = tag && /^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$/.test(tag) ? tag : undefined;
      const label = `${language || "captions"}${auto ? " (machine)" : ""}`;
      return MF.el("track", { kind: "captions", src: fileUrl(f.key), srclang: language || "und", label, default: i === 0 });
    };
    const parts = [];
    if (!doc) parts.push(MF.el("p", { class: "muted" }, "Nothing published yet: the execution may still run, or it failed."));
    if (doc && doc.cost) {
      parts.push(MF.el("p", { id: "cost" }, `MediaConvert on AWS: about $${doc.cost.total.toFixed(4)} at the ${doc.cost.tier} tier `,
        MF.el("span", { class: "muted" }, `(an estimate with ${doc.cost.region} prices of ${doc.cost.pricesAsOf})`)));
    }
    if (doc && doc.transcriptionCost) {
      const t = doc.transcriptionCost;
      parts.push(MF.el("p", { id: "transcription-cost" }, `Transcribe on AWS: about $${t.cost.toFixed(4)} for ${t.billedSeconds} s `,
        MF.el("span", { class: "muted" }, `(an estimate with ${t.region} prices of ${t.pricesAsOf})`)));
    }
    for (const c of (doc && doc.captions) || []) {
      if (c.skipped) parts.push(MF.el("p", { class: "muted caption-skipped" }, `No machine caption: ${c.skipped.reason} (${c.skipped.detail})`));
    }
    // One map per drawing, shared by the players; the sprite is no thumbnail.
    const cues = storyboard ? MF.storyboard.load(fileUrl(storyboard.map)) : null;
    const player = (video) => (cues ? MF.storyboard.player(video, cues) : video);
    const thumbnails = of("thumbnail/", ".jpg").filter((f) => !storyboard || f.key !== storyboard.image);
    for (const f of thumbnails) parts.push(MF.el("figure", {}, MF.el("img", { class: "thumbnail", src: fileUrl(f.key), alt: "thumbnail" }), MF.el("figcaption", {}, f.key)));
    for (const old of body.querySelectorAll("video.hls")) if (old.hlsPlayer) old.hlsPlayer.destroy();
    for (const f of of("audiovideo/", ".mp4")) {
      const rendition = ((doc && doc.outputs) || []).find((o) => o.key === f.key);
      parts.push(MF.el("figure", {},
        player(MF.el("video", { controls: true, preload: "metadata", src: fileUrl(f.key), dataset: { key: f.key } }, captions.map(track))),
        MF.el("figcaption", {}, f.key, rendition && rendition.width ? ` · ${rendition.width}×${rendition.height}` : "")));
    }
    for (const stream of (doc && doc.streaming) || []) {
      const video = MF.el("video", { controls: true, class: "hls", dataset: { master: stream.master.key } }, captions.map(track));
      const url = fileUrl(stream.master.key);
      if (window.Hls && Hls.isSupported()) {
        // No worker: the page's policy allows scripts from the console only, not blob: workers.
        const player = new Hls({ enableWorker: false });
        player.loadSource(url);
        player.attachMedia(video);
        video.hlsPlayer = player;
      } else {
        video.src = url;
      }
      const rungs = stream.variants.map((v) => v.playlist.label || `${v.playlist.width}×${v.playlist.height}`).join(", ");
      parts.push(MF.el("figure", {}, player(video), MF.el("figcaption", {}, `${stream.master.key} · HLS ${rungs}`)));
    }
    for (const f of of("audiovideo/", ".mp3")) parts.push(MF.el("figure", {}, MF.el("audio", { controls: true, preload: "metadata", src: fileUrl(f.key), dataset: { key: f.key } }), MF.el("figcaption", {}, f.key)));
    parts.push(MF.el("h2", {}, "Files"), MF.el("ul", { class: "files" }, files.map((f) => MF.el("li", {}, MF.el("a", { href: fileUrl(f.key), target: "_blank" }, f.key), MF.el("span", { class: "muted" }, ` ${MF.bytes(f.size)}`)))));
    if (doc) {
      parts.push(MF.el("h2", {}, "Metadata document"),
        MF.el("p", {}, MF.el("a", { href: `#/execution/${encodeURIComponent(doc.executionId)}` }, "the execution that made it")),
        MF.el("pre", { id: "document" }, JSON.stringify(doc, null, 2)));
    }
    body.replaceChildren(...parts);
  };
  // Publish is done before an execution's status changes: every other change (a state of a
  // running execution) leaves the public files as they were, and S3 is not listed for it.
  MF.live(tick, "status");
};
