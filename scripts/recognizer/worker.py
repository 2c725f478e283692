#!/usr/bin/env python3
"""The local recognizer behind the Transcribe stand-in: one long-lived process, JSON lines.

    <venv>/bin/python scripts/recognizer/worker.py --model DIR

Loads a CTranslate2 Whisper model with faster-whisper once, prints
    {"ready": true, "model": NAME, "languages": [ISO-639-1 codes]}
then answers each request line on stdin
    {"audio": "/abs/chunk.wav", "language": "en" | null}
with one line
    {"language": "en", "duration": 12.3, "words": [{"start", "end", "word", "probability"}, ...]}
or {"error": {"name": "LanguageUnsupported" | "RecognizerFailed", "message": ...}}, and keeps
serving. EOF on stdin ends it with 0. See README.md beside this file.
"""
import argparse
import json
import os
import sys

# Weights come only from the directory given: nothing may reach a model hub.
os.environ["HF_HUB_OFFLINE"] = "1"

# Defaults measured by scripts/bench-captions-auto on 2 cores (see BENCHMARKS.md).
BEAM_SIZE = 5
THREADS = 1

# Languages written without spaces between words: whisper's pieces are kept as they come, and the
# caller joins them without spaces. In all others a word is what stands between spaces.
UNSPACED = {"zh", "ja", "th", "lo", "my", "yue"}


def protocol_out():
    """A private handle on the real stdout; fd 1 then points at stderr, so a library (or its C++
    core) that prints can never corrupt the protocol."""
    out = os.fdopen(os.dup(1), "w", encoding="utf-8", buffering=1)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    return out


def model_name(path):
    """A name for the ready line: the directory's name less a `model-` prefix, or the repository's
    name for a Hugging Face cache snapshot (.../models--Systran--faster-whisper-small/snapshots/REV)."""
    path = os.path.abspath(path)
    parent = os.path.dirname(path)
    if os.path.basename(parent) == "snapshots":
        return os.path.basename(os.path.dirname(parent)).split("--")[-1]
    name = os.path.basename(path)
    return name[len("model-"):] if name.startswith("model-") else name


def error(name, message):
    return {"error": {"name": name, "message": message}}


def recognize(model, name, beam_size, request):
    if not isinstance(request, dict) or not isinstance(request.get("audio"), str):
        return error("RecognizerFailed", 'a request is {"audio": "/abs/path.wav", "language": "en" | null}')
    language = request.get("language")
    if language is not None and language not in model.supported_languages:
        return error("LanguageUnsupported", f"the model {name} does not recognize language {language!r}")
    audio = request["audio"]
    if not os.path.isfile(audio):
        return error("RecognizerFailed", f"no audio file at {audio}")
    segments, info = model.transcribe(
        audio,
        language=language,
        beam_size=beam_size,
        word_timestamps=True,
        vad_filter=True,  # faster-whisper's bundled Silero VAD: no text made up over silence
    )
    spaced = info.language not in UNSPACED
    words = []
    for segment in segments:  # a generator: the decoding happens here
        for w in segment.words or ():
            text = w.word.strip()
            if not text:
                continue
            start, end, probability = round(float(w.start), 3), round(float(w.end), 3), float(w.probability)
            if spaced and words and not w.word[:1].isspace():
                # Whisper writes no space before this piece: it continues the word before
                # (cold + -hearted), so the words stay separable by spaces.
                last = words[-1]
                last["word"] += text
                last["end"] = end
                last["probability"] = min(last["probability"], round(probability, 4))
            else:
                words.append({"start": start, "end": end, "word": text, "probability": round(probability, 4)})
    return {"language": info.language, "duration": round(float(info.duration), 3), "words": words}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=os.environ.get("MEDIAFLOW_RECOGNIZER_MODEL"),
                        help="a CTranslate2 Whisper model directory (default: $MEDIAFLOW_RECOGNIZER_MODEL)")
    parser.add_argument("--beam-size", type=int, default=BEAM_SIZE, help=f"beam search width (default {BEAM_SIZE})")
    parser.add_argument("--threads", type=int, default=THREADS,
                        help=f"CPU threads of one recognition (default {THREADS}; 0: CTranslate2's default)")
    args = parser.parse_args()
    out = protocol_out()

    def send(obj):
        out.write(json.dumps(obj, ensure_ascii=False) + "\n")

    if not args.model or not os.path.isdir(args.model):
        send(error("RecognizerFailed", f"no model directory at {args.model!r} (run scripts/ensure-tools)"))
        return 1
    # Without tokenizer.json faster-whisper would fetch one from the hub: refuse instead.
    missing = [f for f in ("model.bin", "tokenizer.json") if not os.path.isfile(os.path.join(args.model, f))]
    if missing:
        send(error("RecognizerFailed", f"the model directory {args.model} lacks {', '.join(missing)}"))
        return 1
    name = model_name(args.model)
    try:
        from faster_whisper import WhisperModel
        model = WhisperModel(args.model, device="cpu", compute_type="int8", cpu_threads=args.threads,
                             local_files_only=True)
    except Exception as e:  # a broken or partial model directory: say so on the protocol, then stop
        send(error("RecognizerFailed", f"cannot load the model at {args.model}: {type(e).__name__}: {e}"))
        return 1
    send({"ready": True, "model": name, "languages": list(model.supported_languages)})

    for line in sys.stdin:
        try:
            response = recognize(model, name, args.beam_size, json.loads(line.strip() or "null"))
        except Exception as e:  # one bad request (unreadable audio, bad JSON) must not end the worker
            response = error("RecognizerFailed", f"{type(e).__name__}: {e}")
        send(response)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except (KeyboardInterrupt, BrokenPipeError):
        sys.exit(1)
