//! A minimal Lambda Runtime API (its four calls) for running a function's real binary as
//! Lambda runs it: `GET /invocation/next` hands out the queued events one by one (and holds the
//! call when none is left, as Lambda does), `POST /invocation/<id>/response` and `/error` take
//! the answers, `POST /init/error` a runtime that cannot start.

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;

/// What the function answered.
#[derive(Clone, Debug, PartialEq)]
pub enum Answer {
    Response(Value),
    /// The `Lambda-Runtime-Function-Error-Type` header, and the error body.
    Error {
        error_type: String,
        body: Value,
    },
    /// From `/runtime/init/error`.
    InitError {
        error_type: String,
        body: Value,
    },
}

#[derive(Default)]
struct State {
    events: VecDeque<Value>,
    answers: Vec<Answer>,
    handed_out: u64,
}

/// A running Runtime API on 127.0.0.1; it serves until the test process ends.
pub struct RuntimeApi {
    pub address: String,
    state: Arc<(Mutex<State>, Condvar)>,
}

impl RuntimeApi {
    /// Serves `events`, in order.
    pub fn start(events: Vec<Value>) -> RuntimeApi {
        let listener = TcpListener::bind("127.0.0.1:0").expect("a free port");
        let address = listener.local_addr().expect("bound").to_string();
        let state = Arc::new((Mutex::new(State { events: events.into(), ..State::default() }), Condvar::new()));
        let shared = state.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().map_while(Result::ok) {
                let shared = shared.clone();
                std::thread::spawn(move || serve(stream, &shared));
            }
        });
        RuntimeApi { address, state }
    }

    /// The answers so far, once there are `n` of them (or `timeout` passed).
    pub fn answers(&self, n: usize, timeout: Duration) -> Vec<Answer> {
        let (lock, changed) = &*self.state;
        let deadline = Instant::now() + timeout;
        let mut state = lock.lock().unwrap();
        while state.answers.len() < n && Instant::now() < deadline {
            state = changed.wait_timeout(state, deadline - Instant::now()).unwrap().0;
        }
        state.answers.clone()
    }
}

fn serve(stream: TcpStream, shared: &(Mutex<State>, Condvar)) {
    let mut reader = BufReader::new(stream.try_clone().expect("a socket clones"));
    let mut writer = stream;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        let mut parts = line.split_whitespace();
        let (method, path) =
            (parts.next().unwrap_or_default().to_string(), parts.next().unwrap_or_default().to_string());
        let (mut length, mut error_type) = (0usize, String::new());
        loop {
            let mut header = String::new();
            if reader.read_line(&mut header).unwrap_or(0) == 0 {
                return;
            }
            let header = header.trim_end();
            if header.is_empty() {
                break;
            }
            if let Some((name, value)) = header.split_once(':') {
                match name.trim().to_ascii_lowercase().as_str() {
                    "content-length" => length = value.trim().parse().unwrap_or(0),
                    "lambda-runtime-function-error-type" => error_type = value.trim().to_string(),
                    _ => {}
                }
            }
        }
        let mut body = vec![0; length];
        if reader.read_exact(&mut body).is_err() {
            return;
        }
        let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
        let (lock, changed) = shared;
        let reply = if method == "GET" && path.ends_with("/runtime/invocation/next") {
            let mut state = lock.lock().unwrap();
            // None left: hold the call, as Lambda does between invocations.
            while state.events.is_empty() {
                state = changed.wait(state).unwrap();
            }
            let event = state.events.pop_front().expect("an event");
            state.handed_out += 1;
            let id = format!("request-{}", state.handed_out);
            let deadline = (std::time::SystemTime::now() + Duration::from_secs(300))
                .duration_since(std::time::UNIX_EPOCH)
                .expect("after 1970")
                .as_millis();
            let headers = format!(
                "Lambda-Runtime-Aws-Request-Id: {id}\r\nLambda-Runtime-Deadline-Ms: {deadline}\r\n\
                 Lambda-Runtime-Invoked-Function-Arn: arn:aws:lambda:us-east-1:123456789012:function:test\r\n\
                 Lambda-Runtime-Trace-Id: Root=1-00000000-000000000000000000000000\r\n"
            );
            (200, headers, event.to_string())
        } else if method == "POST" {
            let answer = if path.ends_with("/response") {
                Answer::Response(body)
            } else if path.ends_with("/init/error") {
                Answer::InitError { error_type: error_type.clone(), body }
            } else {
                Answer::Error { error_type: error_type.clone(), body }
            };
            lock.lock().unwrap().answers.push(answer);
            changed.notify_all();
            (202, String::new(), "{\"status\":\"OK\"}".to_string())
        } else {
            (404, String::new(), "{}".to_string())
        };
        let (status, headers, text) = reply;
        let response = format!(
            "HTTP/1.1 {status} OK\r\n{headers}Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{text}",
            text.len()
        );
        if writer.write_all(response.as_bytes()).is_err() {
            return;
        }
    }
}
