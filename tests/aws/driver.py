"""The AWS path end to end, through the aws CLI only: uploads a sample set into a deployed
mediaflow stack, follows each upload's execution in Step Functions, prints its trace, and checks
every public key, the topic's messages, the broken upload's failure, and that an S3 event
delivered twice ends as Duplicate.

One driver, two entry points: scripts/smoke points it at a stack on AWS, scripts/test-aws at
the same template deployed on ministack (CI). Nothing here knows which one it talks to, except
through the options test-aws sets. Executions start as on AWS: S3 sends Object Created to
EventBridge, whose rule starts the state machine (ministack does both)."""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


class Failed(Exception):
    pass


class Aws:
    """The aws CLI with JSON output; the environment carries the endpoint, region, credentials."""

    def __init__(self, binary, env=None):
        self.binary = str(binary)
        self.env = dict(os.environ if env is None else env)

    def __call__(self, *args, check=True):
        cmd = [self.binary, *map(str, args), "--output", "json"]
        if self.env.get("AWS_ENDPOINT_URL"):
            # The aws CLI v1 sends some services (SQS) to their legacy host despite the variable.
            cmd += ["--endpoint-url", self.env["AWS_ENDPOINT_URL"]]
        done = subprocess.run(cmd, env=self.env, capture_output=True, text=True)
        if done.returncode != 0:
            if not check:
                return None
            # The arguments never hold secrets; the CLI's own error names the call.
            raise Failed(f"aws {' '.join(map(str, args[:3]))}: {done.stderr.strip()[-800:]}")
        return json.loads(done.stdout) if done.stdout.strip() else {}


@dataclass
class Stack:
    name: str
    watch: str
    public: str
    state_machine: str
    topic: str
    build_job: str
    # Whether the stack's AutoCaptions parameter is on.
    captions: bool = False

    @staticmethod
    def read(aws, name):
        stacks = aws("cloudformation", "describe-stacks", "--stack-name", name)["Stacks"]
        outputs = {o["OutputKey"]: o["OutputValue"] for o in stacks[0].get("Outputs", [])}
        missing = {"WatchBucket", "PublicBucket", "StateMachineArn", "NotificationTopicArn"} - outputs.keys()
        if missing:
            raise Failed(f"stack {name} lacks the outputs {sorted(missing)}")
        bucket = lambda url: url.removeprefix("s3://").split("/")[0]
        build_job = aws("cloudformation", "describe-stack-resource", "--stack-name", name,
                        "--logical-resource-id", "BuildJobFunction")["StackResourceDetail"]["PhysicalResourceId"]
        parameters = {p["ParameterKey"]: p.get("ParameterValue") for p in stacks[0].get("Parameters", [])}
        captions = parameters.get("AutoCaptions") == "true"
        return Stack(name, bucket(outputs["WatchBucket"]), bucket(outputs["PublicBucket"]),
                     outputs["StateMachineArn"], outputs["NotificationTopicArn"], build_job, captions)


@dataclass
class Upload:
    """One object put into inputs/, what its execution must end as, and the public keys it makes."""
    key: str
    path: Path
    ends: str = "SUCCEEDED"
    public: list = field(default_factory=list)
    metadata: dict = field(default_factory=dict)
    execution: dict = None


@dataclass
class Options:
    hls: bool = True
    # ministack's Step Functions drops the MessageAttributes of its sns:publish integration;
    # False tells a success by its document instead of the `status` attribute.
    message_attributes: bool = True
    timeout: float = 900.0
    keep_queue: bool = False


def ffmpeg(*args):
    subprocess.run(["ffmpeg", "-v", "error", "-y", *args], check=True)


def make_media(d: Path):
    """Small real media (1-3 s): testsrc pictures and sine sound."""
    av = lambda size, seconds, out: ffmpeg(
        "-f", "lavfi", "-i", f"testsrc=size={size}:rate=25:duration={seconds}",
        "-f", "lavfi", "-i", f"sine=frequency=440:duration={seconds}",
        "-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest", str(out))
    av("854x480", 3, d / "landscape.mp4")
    av("360x640", 2, d / "portrait.mp4")
    av("640x360", 2, d / "chunked.mp4")
    av("640x360", 2, d / "streamed.mp4")
    ffmpeg("-f", "lavfi", "-i", "sine=frequency=660:duration=2", "-c:a", "libmp3lame", "-b:a", "128k", str(d / "tone.mp3"))
    (d / "talk.en.srt").write_text("1\n00:00:00,000 --> 00:00:01,500\nHello, <i>world</i>.\n\n"
                                   "2\n00:00:01,600 --> 00:00:03,000\nSecond cue\nover two lines.\n")
    # An MP4 name over bytes no tool can read: Probe must fail it, by name.
    (d / "broken.mp4").write_bytes(b"\x00\x00\x00\x18ftypisom" + os.urandom(4096))
    data = (d / "chunked.mp4").read_bytes()
    half = len(data) // 2
    (d / "chunked.mp4.CHUNK0").write_bytes(data[:half])
    (d / "chunked.mp4.CHUNK1").write_bytes(data[half:])


def storyboarded(p, stem):
    """A video's frame, and its storyboard's sprite and map."""
    return [f"thumbnail/{p}/{stem}.jpg", f"thumbnail/{p}/{stem}.storyboard.jpg", f"thumbnail/{p}/{stem}.storyboard.vtt"]


def sample_set(d: Path, prefix: str):
    """The uploads of the first wave, with the public keys each must leave (nothing else)."""
    p = prefix
    video = lambda stem, name, rungs: [f"original/{p}/{name}", f"json/{p}/{stem}.json"] + storyboarded(p, stem) + \
        [f"audiovideo/{p}/{stem}_{r}.mp4" for r in rungs]
    chunks = {"chunks": "2"}
    return [
        Upload(f"inputs/{p}/talk.en.srt", d / "talk.en.srt", public=[f"closed-caption/{p}/talk.en.vtt"]),
        Upload(f"inputs/{p}/tone.mp3", d / "tone.mp3", public=[f"audiovideo/{p}/tone.mp3", f"json/{p}/tone.json"]),
        Upload(f"inputs/{p}/landscape.mp4", d / "landscape.mp4", public=video("landscape", "landscape.mp4", ["360p", "480p"])),
        Upload(f"inputs/{p}/portrait.mp4", d / "portrait.mp4", public=video("portrait", "portrait.mp4", ["360p"])),
        Upload(f"inputs/{p}/chunked.mp4.CHUNK0", d / "chunked.mp4.CHUNK0", metadata=chunks),
        Upload(f"inputs/{p}/chunked.mp4.CHUNK1", d / "chunked.mp4.CHUNK1", metadata=chunks),
        Upload(f"inputs/{p}/broken.mp4", d / "broken.mp4", ends="FAILED"),
    ]


def put(aws, bucket, upload):
    args = ["s3api", "put-object", "--bucket", bucket, "--key", upload.key, "--body", str(upload.path)]
    if upload.metadata:
        args += ["--metadata", ",".join(f"{k}={v}" for k, v in upload.metadata.items())]
    return aws(*args)


class Run:
    def __init__(self, aws, stack, options, region, log=print):
        self.aws, self.stack, self.options, self.region, self.log = aws, stack, options, region, log
        self.prefix = f"smoke-{time.strftime('%Y%m%d-%H%M%S')}-{uuid.uuid4().hex[:6]}"
        self.started = time.time()
        self.failures = []
        self.seen = {}  # execution ARN -> description
        self.account = aws("sts", "get-caller-identity")["Account"]

    def check(self, ok, what):
        self.log(f"  {'ok  ' if ok else 'FAIL'} {what}")
        if not ok:
            self.failures.append(what)

    # ------------------------------------------------------------ the topic, heard through SQS
    def subscribe(self):
        name = f"mediaflow-{self.prefix}"
        self.queue = self.aws("sqs", "create-queue", "--queue-name", name)["QueueUrl"]
        arn = self.aws("sqs", "get-queue-attributes", "--queue-url", self.queue,
                       "--attribute-names", "QueueArn")["Attributes"]["QueueArn"]
        policy = {"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": {"Service": "sns.amazonaws.com"}, "Action": "sqs:SendMessage",
            "Resource": arn, "Condition": {"ArnEquals": {"aws:SourceArn": self.stack.topic}}}]}
        self.aws("sqs", "set-queue-attributes", "--queue-url", self.queue,
                 "--attributes", json.dumps({"Policy": json.dumps(policy)}))
        self.subscription = self.aws("sns", "subscribe", "--topic-arn", self.stack.topic, "--protocol", "sqs",
                                     "--notification-endpoint", arn)["SubscriptionArn"]
        self.messages = []
        self.log(f"listening to the topic through SQS queue {name}")

    def drain(self):
        while True:
            got = self.aws("sqs", "receive-message", "--queue-url", self.queue, "--max-number-of-messages", "10",
                           "--wait-time-seconds", "1", "--message-attribute-names", "All")
            batch = (got or {}).get("Messages", [])
            if not batch:
                return
            for m in batch:
                body = json.loads(m["Body"])
                self.messages.append(body)
                self.aws("sqs", "delete-message", "--queue-url", self.queue, "--receipt-handle", m["ReceiptHandle"])

    def unsubscribe(self):
        if self.options.keep_queue or not hasattr(self, "subscription"):
            return
        self.aws("sns", "unsubscribe", "--subscription-arn", self.subscription, check=False)
        self.aws("sqs", "delete-queue", "--queue-url", self.queue, check=False)

    # ------------------------------------------------------------ executions
    def upload(self, uploads):
        for u in uploads:
            put(self.aws, self.stack.watch, u)
            self.log(f"uploaded s3://{self.stack.watch}/{u.key} ({u.path.stat().st_size} bytes)")

    def executions(self):
        """Every execution of this run (its uploads' keys are under this run's prefix)."""
        found, token = [], None
        while True:
            args = ["stepfunctions", "list-executions", "--state-machine-arn", self.stack.state_machine,
                    "--max-results", "100"]
            if token:
                args += ["--next-token", token]
            page = self.aws(*args)
            for e in page.get("executions", []):
                arn = e["executionArn"]
                if arn not in self.seen or self.seen[arn]["status"] == "RUNNING":
                    self.seen[arn] = self.aws("stepfunctions", "describe-execution", "--execution-arn", arn)
                d = self.seen[arn]
                try:
                    key = json.loads(d["input"])["detail"]["object"]["key"]
                except (KeyError, ValueError, TypeError):
                    continue
                if key.startswith(f"inputs/{self.prefix}/"):
                    found.append((key, d))
            token = page.get("nextToken")
            if not token:
                return found

    def wait(self, keys, what):
        """Waits until every key has an ended execution and none of this run is running."""
        deadline = time.time() + self.options.timeout
        while True:
            runs = self.executions()
            by_key = {}
            for key, d in runs:
                by_key.setdefault(key, []).append(d)
            running = [k for k, d in runs if d["status"] == "RUNNING"]
            waiting = [k for k in keys if k not in by_key]
            if not running and not waiting:
                return by_key
            if time.time() > deadline:
                for _, d in runs:
                    self.trace(d)
                raise Failed(f"{what}: after {self.options.timeout:.0f} s, still running: {sorted(set(running))}; "
                             f"no execution for: {waiting}")
            time.sleep(2)

    def trace(self, d):
        """Each state's start, duration and how it ended, from the execution's history."""
        arn = d["executionArn"]
        events, token = [], None
        while True:
            args = ["stepfunctions", "get-execution-history", "--execution-arn", arn, "--max-results", "1000"]
            if token:
                args += ["--next-token", token]
            page = self.aws(*args)
            events += page["events"]
            token = page.get("nextToken")
            if not token:
                break
        t0 = _time(d["startDate"])
        open_, lines = {}, []
        for e in events:
            kind = e["type"]
            if kind.endswith("StateEntered"):
                name = e["stateEnteredEventDetails"]["name"]
                open_[name] = _time(e["timestamp"])
            elif kind.endswith("StateExited"):
                name = e["stateExitedEventDetails"]["name"]
                start = open_.pop(name, _time(e["timestamp"]))
                lines.append((start, name, _time(e["timestamp"]) - start, "ok"))
            elif kind.endswith("Failed") and kind != "ExecutionFailed":
                details = next((v for k, v in e.items() if k.endswith("EventDetails")), {})
                lines.append((_time(e["timestamp"]), f"  {kind}", 0.0, details.get("error", "")))
        for name, start in open_.items():
            lines.append((start, name, 0.0, "did not exit"))
        end = _time(d["stopDate"]) if d.get("stopDate") else time.time()
        self.log(f"\n{d['status']:9} {arn.rsplit(':', 1)[-1]}  {end - t0:6.2f} s  {json.loads(d['input'])['detail']['object']['key']}")
        for start, name, took, how in sorted(lines, key=lambda l: l[0]):
            self.log(f"    +{start - t0:6.2f} s  {name:24} {took:6.2f} s  {how}")
        if d.get("output"):
            self.log(f"    output: {_brief(json.loads(d['output']))}")
        if d.get("error") or d.get("cause"):
            self.log(f"    error: {d.get('error')}: {(d.get('cause') or '')[:400]}")

    # ------------------------------------------------------------ what must be true
    def public_keys(self):
        keys, token = [], None
        while True:
            args = ["s3api", "list-objects-v2", "--bucket", self.stack.public, "--max-items", "1000"]
            if token:
                args += ["--starting-token", token]
            page = self.aws(*args)
            keys += [(o["Key"], o["Size"]) for o in page.get("Contents", []) or []]
            token = page.get("NextToken")
            if not token:
                return {k: s for k, s in keys if f"/{self.prefix}/" in f"/{k}"}

    def text(self, key):
        """A public object's text."""
        with tempfile.TemporaryDirectory() as d:
            out = Path(d) / "object"
            self.aws("s3api", "get-object", "--bucket", self.stack.public, "--key", key, str(out), check=False)
            return out.read_text() if out.exists() else ""

    def document(self, key):
        """A public metadata document, or {}."""
        try:
            return json.loads(self.text(key) or "{}")
        except ValueError:
            return {}

    def head(self, bucket, key):
        return self.aws("s3api", "head-object", "--bucket", bucket, "--key", key, check=False)


def _time(value):
    if isinstance(value, (int, float)):
        return float(value)
    from datetime import datetime
    return datetime.fromisoformat(str(value).replace("Z", "+00:00")).timestamp()


def _brief(doc):
    text = json.dumps(doc, separators=(",", ":"))
    return text if len(text) <= 600 else text[:600] + f"… ({len(text)} bytes)"


def run(aws, stack_name, options, region, log=print):
    """The whole smoke run; returns the list of failed checks (empty: all passed)."""
    stack = Stack.read(aws, stack_name)
    log(f"stack {stack.name}: watch s3://{stack.watch}/inputs/, public s3://{stack.public}/, "
        f"state machine {stack.state_machine.rsplit(':', 1)[-1]}")
    r = Run(aws, stack, options, region, log)
    work = Path(tempfile.mkdtemp(prefix="mediaflow-smoke-"))
    try:
        make_media(work)
        r.subscribe()
        uploads = sample_set(work, r.prefix)
        log(f"\nuploading {len(uploads)} objects under inputs/{r.prefix}/")
        r.upload(uploads)
        # AssembleCheck puts the assembled object, whose own event starts its own execution.
        assembled = f"inputs/{r.prefix}/chunked.mp4"
        keys = [u.key for u in uploads] + [assembled]
        by_key = r.wait(keys, "the first wave")

        hls = None
        if options.hls:
            hls = _hls_wave(r, work, by_key)

        # The same S3 event delivered again: a second execution with the first one's input.
        first = by_key[f"inputs/{r.prefix}/landscape.mp4"][0]
        log("\ndelivering the landscape upload's event a second time (a new execution, the same input)")
        dup_arn = aws("stepfunctions", "start-execution", "--state-machine-arn", stack.state_machine,
                      "--name", f"{first['name'][:60]}-again", "--input", first["input"])["executionArn"]
        dup = _await_end(r, dup_arn)

        time.sleep(2)
        r.drain()
        log("\ntraces")
        for key in sorted(by_key):
            for d in by_key[key]:
                r.trace(d)
        r.trace(dup)

        log("\nchecks")
        _check_all(r, uploads, by_key, assembled, hls, first, dup)
        return r.failures
    finally:
        r.unsubscribe()
        shutil.rmtree(work, ignore_errors=True)


def _await_end(r, arn):
    deadline = time.time() + r.options.timeout
    while True:
        d = r.aws("stepfunctions", "describe-execution", "--execution-arn", arn)
        if d["status"] != "RUNNING":
            return d
        if time.time() > deadline:
            raise Failed(f"{arn} still running")
        time.sleep(1)


def _hls_wave(r, work, by_key):
    """One upload with infra/job-hls.json as the edited job template (JOB_TEMPLATE_KEY)."""
    aws, stack = r.aws, r.stack
    template_key = f".mediaflow/{r.prefix}/job-hls.json"
    aws("s3api", "put-object", "--bucket", stack.watch, "--key", template_key, "--body", str(REPO / "infra/job-hls.json"))
    config = aws("lambda", "get-function-configuration", "--function-name", stack.build_job)
    variables = config.get("Environment", {}).get("Variables", {})
    before = variables.get("JOB_TEMPLATE_KEY", "")
    r.log(f"\nBuildJob's JOB_TEMPLATE_KEY: {before!r} -> {template_key!r} (infra/job-hls.json uploaded there)")
    _set_env(aws, stack.build_job, {**variables, "JOB_TEMPLATE_KEY": template_key})
    try:
        u = Upload(f"inputs/{r.prefix}/streamed.mp4", work / "streamed.mp4")
        r.upload([u])
        return r.wait([u.key], "the HLS upload")[u.key]
    finally:
        _set_env(aws, stack.build_job, {**variables, "JOB_TEMPLATE_KEY": before})
        r.log(f"BuildJob's JOB_TEMPLATE_KEY restored to {before!r}")


def _set_env(aws, function, variables):
    aws("lambda", "update-function-configuration", "--function-name", function,
        "--environment", json.dumps({"Variables": variables}))
    aws("lambda", "wait", "function-updated-v2", "--function-name", function, check=False)


def _check_all(r, uploads, by_key, assembled, hls, first, dup):
    p = r.prefix
    public = r.public_keys()
    expected = {}
    for u in uploads:
        runs = by_key.get(u.key, [])
        statuses = [d["status"] for d in runs]
        r.check(statuses == [u.ends], f"{u.key}: one execution, {u.ends} (got {statuses})")
        for k in u.public:
            expected[k] = u.key
    chunked = [f"original/{p}/chunked.mp4", f"json/{p}/chunked.json", f"audiovideo/{p}/chunked_360p.mp4"] + \
        storyboarded(p, "chunked")
    statuses = [d["status"] for d in by_key.get(assembled, [])]
    r.check(statuses == ["SUCCEEDED"], f"{assembled} (assembled from 2 parts): one execution, SUCCEEDED (got {statuses})")
    for k in chunked:
        expected[k] = assembled
    for part in ("CHUNK0", "CHUNK1"):
        r.check(r.head(r.stack.watch, f"{assembled}.{part}") is None, f"{assembled}.{part} deleted after assembly")
    if hls is not None:
        statuses = [d["status"] for d in hls]
        r.check(statuses == ["SUCCEEDED"], f"inputs/{p}/streamed.mp4 (job-hls.json): SUCCEEDED (got {statuses})")
        base = f"audiovideo/{p}/streamed"
        for k in [f"original/{p}/streamed.mp4", f"json/{p}/streamed.json",
                  f"{base}_360p.mp4", f"{base}.m3u8", f"{base}_360p.m3u8"] + storyboarded(p, "streamed"):
            expected[k] = "streamed.mp4"
        segments = [k for k in public if k.startswith(f"{base}_360p_") and k.endswith(".ts")]
        r.check(len(segments) >= 1, f"{base}_360p_*.ts: {len(segments)} HLS segments")
        expected.update({k: "streamed.mp4" for k in segments})

    # Machine captions: every upload with sound is transcribed (Transcribe reads MP3 and MP4) and
    # its metadata document lists the caption, or why there is none. The sample's sound is a
    # tone: ministack's Transcribe hears its canned words in it, AWS's may hear nothing
    # (NoSpeech), and both are right.
    captioned = ["tone", "landscape", "portrait", "chunked"] + (["streamed"] if hls is not None else [])
    for stem in captioned if r.stack.captions else []:
        doc = r.document(f"json/{p}/{stem}.json")
        caption = (doc.get("captions") or [{}])[0]
        key = caption.get("key")
        skipped = caption.get("skipped") or {}
        r.check(caption.get("source") == "machine" and (key or skipped.get("reason") == "NoSpeech"),
                f"{stem}: its metadata lists its machine caption, or that it heard no speech ({caption})")
        if key:
            r.check(key.startswith(f"closed-caption/{p}/{stem}.") and key.endswith(".auto.vtt"), f"{stem}: caption key {key}")
            expected[key] = stem
            vtt = r.text(key) if public.get(key) else ""
            cues = vtt.count("-->")
            r.check(vtt.startswith("WEBVTT") and cues >= 1 and cues == caption.get("cues"),
                    f"{stem}: the caption has the {caption.get('cues')} cues its metadata counts ({cues})")
        cost = doc.get("transcriptionCost") or {}
        r.check(cost.get("billedSeconds", 0) >= 15 and cost.get("cost", 0) > 0, f"{stem}: Transcribe's cost ({cost})")

    for k in sorted(expected):
        r.check(public.get(k, 0) > 0, f"public {k}")
    extra = sorted(set(public) - set(expected))
    r.check(not extra, f"no other public key under {p}/ (extra: {extra})")
    r.check(not any(k.startswith(("original/", "json/", "thumbnail/", "audiovideo/")) and "/broken" in k for k in public),
            "nothing public for the broken upload")
    r.check(r.head(r.stack.watch, f"inputs/{p}/broken.mp4") is not None, f"inputs/{p}/broken.mp4 kept after its failure")

    # Loudness and the storyboard, as the metadata documents record them.
    for stem, tiles in (("landscape", 3), ("portrait", 2), ("tone", None)):
        doc = r.document(f"json/{p}/{stem}.json")
        loudness = doc.get("loudness", {})
        r.check(isinstance(loudness.get("source", {}).get("integratedLufs"), (int, float)),
                f"{stem}: its measured loudness recorded ({loudness.get('source')})")
        target = loudness.get("normalizedTo", {}).get("targetLkfs")
        r.check(target == (-16 if tiles else None), f"{stem}: normalized to {target}")
        board = doc.get("storyboard") or {}
        got = board.get("grid", {}).get("tiles")
        r.check(got == tiles, f"{stem}: a storyboard of {tiles} tiles (got {got})")
        if tiles:
            vtt = r.text(f"thumbnail/{p}/{stem}.storyboard.vtt")
            cues = [line for line in vtt.splitlines() if "#xywh=" in line]
            r.check(vtt.startswith("WEBVTT") and len(cues) == tiles, f"{stem}: the map names {len(cues)} tiles")

    # Duplicate delivery.
    out = json.loads(dup.get("output") or "{}")
    asset = out.get("asset", {})
    r.check(dup["status"] == "SUCCEEDED" and asset.get("kind") == "duplicate",
            f"the event delivered twice ends as Duplicate (status {dup['status']}, kind {asset.get('kind')})")
    r.check(asset.get("duplicateOf") == first["executionArn"],
            f"the duplicate names the execution that owns the upload ({asset.get('duplicateOf')})")

    # The topic: one success per upload that published, one failure for the broken file.
    successes, failures = {}, {}
    r.log("\nmessages on the topic")
    for m in r.messages:
        r.log(f"    {m.get('Subject') or '-'}: attributes {json.dumps(m.get('MessageAttributes', {}))[:200]}; "
              f"message {m.get('Message', '')[:160]}")
        attrs = m.get("MessageAttributes", {})
        body = m.get("Message", "")
        try:
            doc = json.loads(body)
        except ValueError:
            doc = {}
        status = attrs.get("status", {}).get("Value")
        if not r.options.message_attributes and not attrs and "source" in doc and "publish" in doc:
            status = "SUCCEEDED"  # the document NotifySuccess sends, attributes dropped by the emulator
        if status == "SUCCEEDED":
            key = doc.get("source", {}).get("key")
            successes.setdefault(key, []).append(doc)
            if r.options.message_attributes:
                execution = attrs.get("execution", {}).get("Value", "")
                owner = by_key.get(key, [{}])[0].get("executionArn") if key in by_key else None
                r.check(owner is None or execution == owner, f"the success message of {key} names its execution ({execution})")
        elif doc.get("detail", {}).get("status") in ("FAILED", "TIMED_OUT", "ABORTED"):
            failures.setdefault(doc["detail"].get("executionArn"), []).append(doc)
    published = [u.key for u in uploads if u.public] + [assembled] + ([f"inputs/{p}/streamed.mp4"] if hls else [])
    for key in published:
        r.check(len(successes.get(key, [])) == 1, f"one success message for {key} (got {len(successes.get(key, []))})")
    broken = by_key.get(f"inputs/{p}/broken.mp4", [{}])[0].get("executionArn")
    got = failures.get(broken, [])
    r.check(len(got) == 1, f"one failure message for the broken upload's execution (got {len(got)})")
    if got:
        detail = got[0]["detail"]
        r.check(detail.get("status") == "FAILED" and got[0].get("detail-type") == "Step Functions Execution Status Change",
                f"the failure message is the Execution Status Change event (status {detail.get('status')})")
    r.check(not [k for k in successes if k not in published],
            f"no success message for anything else ({[k for k in successes if k not in published]})")
    r.log(f"\n{len(r.messages)} messages on the topic; {len(public)} public keys under {p}/")
