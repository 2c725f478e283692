//! Intrinsic functions (`States.Format(…)` and the rest) as `.$` values use them.

use serde_json::{Map, Value};
use sha2::Digest;

use super::dataflow::{DataError, select};

/// One argument as written: its value, and for a string literal its text between the quotes
/// with escapes kept (`States.Format` needs to know which braces were escaped).
struct Arg {
    value: Value,
    raw: Option<String>,
}

/// Evaluates an intrinsic function call against the state input and the context object.
pub fn call(expression: &str, input: &Value, context: &Value) -> Result<Value, DataError> {
    let mut parser = Parser { text: expression, at: 0, input, context };
    let value = parser.call()?;
    parser.skip_spaces();
    if parser.at != expression.len() {
        return Err(fail(format!("unexpected text after the call in {expression:?}")));
    }
    Ok(value)
}

fn fail(message: String) -> DataError {
    DataError::Intrinsic(message)
}

struct Parser<'a> {
    text: &'a str,
    at: usize,
    input: &'a Value,
    context: &'a Value,
}

impl Parser<'_> {
    fn rest(&self) -> &str {
        &self.text[self.at..]
    }

    fn skip_spaces(&mut self) {
        self.at += self.rest().len() - self.rest().trim_start().len();
    }

    fn eat(&mut self, c: char) -> bool {
        self.skip_spaces();
        if self.rest().starts_with(c) {
            self.at += c.len_utf8();
            true
        } else {
            false
        }
    }

    fn call(&mut self) -> Result<Value, DataError> {
        self.skip_spaces();
        let name_len = self.rest().find('(').ok_or_else(|| fail(format!("no argument list in {:?}", self.text)))?;
        let name = self.rest()[..name_len].trim().to_string();
        self.at += name_len + 1;
        let mut args = Vec::new();
        if !self.eat(')') {
            loop {
                args.push(self.arg()?);
                if self.eat(')') {
                    break;
                }
                if !self.eat(',') {
                    return Err(fail(format!("expected ',' or ')' in {:?}", self.text)));
                }
            }
        }
        apply(&name, args)
    }

    fn arg(&mut self) -> Result<Arg, DataError> {
        self.skip_spaces();
        let rest = self.rest();
        if rest.starts_with('\'') {
            return self.string();
        }
        if rest.starts_with("States.") {
            return Ok(Arg { value: self.call()?, raw: None });
        }
        // A path or a number runs to the next ',' or ')' outside brackets.
        let mut depth = 0;
        let end = rest
            .char_indices()
            .find(|&(_, c)| {
                match c {
                    '[' => depth += 1,
                    ']' => depth -= 1,
                    _ => {}
                }
                depth == 0 && (c == ',' || c == ')')
            })
            .map(|(i, _)| i)
            .ok_or_else(|| fail(format!("unterminated argument in {:?}", self.text)))?;
        let token = rest[..end].trim().to_string();
        self.at += end;
        let value = if token.starts_with('$') {
            select(&token, self.input, self.context).map_err(|e| fail(e.to_string()))?
        } else if let Ok(literal @ (Value::Null | Value::Bool(_))) = serde_json::from_str::<Value>(&token) {
            literal
        } else {
            serde_json::from_str::<serde_json::Number>(&token)
                .map(Value::Number)
                .map_err(|_| fail(format!("{token:?} is not a path, number or string")))?
        };
        Ok(Arg { value, raw: None })
    }

    /// `'…'` with `\'`, `\{`, `\}` and `\\` escapes.
    fn string(&mut self) -> Result<Arg, DataError> {
        let body_start = self.at + 1;
        let mut value = String::new();
        let mut chars = self.text[body_start..].char_indices();
        while let Some((i, c)) = chars.next() {
            match c {
                '\\' => match chars.next() {
                    Some((_, e @ ('\'' | '{' | '}' | '\\'))) => value.push(e),
                    _ => return Err(fail(format!("a bad escape in {:?}", self.text))),
                },
                '\'' => {
                    let raw = self.text[body_start..body_start + i].to_string();
                    self.at = body_start + i + 1;
                    return Ok(Arg { value: Value::String(value), raw: Some(raw) });
                }
                c => value.push(c),
            }
        }
        Err(fail(format!("an unterminated string in {:?}", self.text)))
    }
}

/// AWS's limits: States.ArrayRange makes at most 1,000 items; the Base64 functions take at
/// most 10,000 characters.
const ARRAY_RANGE_LIMIT: usize = 1000;
const BASE64_LIMIT: usize = 10_000;

fn count(name: &str, args: &[Arg], n: usize) -> Result<(), DataError> {
    if args.len() == n { Ok(()) } else { Err(fail(format!("{name} takes {n} argument(s), not {}", args.len()))) }
}

fn text_of(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn apply(name: &str, args: Vec<Arg>) -> Result<Value, DataError> {
    match name {
        "States.Format" => {
            let template = args
                .first()
                .and_then(|a| a.raw.clone())
                .ok_or_else(|| fail("States.Format needs a string literal template".into()))?;
            let mut values = args[1..].iter().map(|a| text_of(&a.value));
            let mut out = String::new();
            let mut chars = template.chars().peekable();
            while let Some(c) = chars.next() {
                match c {
                    '\\' => out.extend(chars.next()),
                    '{' if chars.peek() == Some(&'}') => {
                        chars.next();
                        out.push_str(
                            &values.next().ok_or_else(|| fail("States.Format has more {} than arguments".into()))?,
                        );
                    }
                    c => out.push(c),
                }
            }
            if values.next().is_some() {
                return Err(fail("States.Format has more arguments than {}".into()));
            }
            Ok(Value::String(out))
        }
        "States.StringToJson" => {
            count(name, &args, 1)?;
            let s = args[0].value.as_str().ok_or_else(|| fail("States.StringToJson takes a string".into()))?;
            serde_json::from_str(s).map_err(|e| fail(format!("States.StringToJson: {e}")))
        }
        "States.JsonToString" => {
            count(name, &args, 1)?;
            Ok(Value::String(args[0].value.to_string()))
        }
        "States.Array" => Ok(Value::Array(args.into_iter().map(|a| a.value).collect())),
        "States.ArrayGetItem" => {
            count(name, &args, 2)?;
            let array = args[0].value.as_array().ok_or_else(|| fail("States.ArrayGetItem takes an array".into()))?;
            let index = args[1].value.as_u64().ok_or_else(|| fail("States.ArrayGetItem takes an index".into()))?;
            array.get(index as usize).cloned().ok_or_else(|| fail(format!("index {index} is out of bounds")))
        }
        "States.ArrayLength" => {
            count(name, &args, 1)?;
            Ok(Value::from(
                args[0].value.as_array().ok_or_else(|| fail("States.ArrayLength takes an array".into()))?.len(),
            ))
        }
        "States.ArrayContains" => {
            count(name, &args, 2)?;
            let array = args[0].value.as_array().ok_or_else(|| fail("States.ArrayContains takes an array".into()))?;
            Ok(Value::Bool(array.contains(&args[1].value)))
        }
        "States.JsonMerge" => {
            count(name, &args, 3)?;
            if args[2].value != Value::Bool(false) {
                return Err(fail("States.JsonMerge supports only a shallow merge (false)".into()));
            }
            let (Some(a), Some(b)) = (args[0].value.as_object(), args[1].value.as_object()) else {
                return Err(fail("States.JsonMerge merges two objects".into()));
            };
            let mut merged: Map<String, Value> = a.clone();
            merged.extend(b.clone());
            Ok(Value::Object(merged))
        }
        "States.MathAdd" => {
            count(name, &args, 2)?;
            let (Some(a), Some(b)) = (args[0].value.as_i64(), args[1].value.as_i64()) else {
                return Err(fail("States.MathAdd adds two integers".into()));
            };
            Ok(Value::from(a + b))
        }
        "States.StringSplit" => {
            count(name, &args, 2)?;
            let (Some(s), Some(d)) = (args[0].value.as_str(), args[1].value.as_str()) else {
                return Err(fail("States.StringSplit takes two strings".into()));
            };
            Ok(Value::Array(
                s.split(|c| d.contains(c)).filter(|p| !p.is_empty()).map(|p| Value::String(p.into())).collect(),
            ))
        }
        "States.UUID" => {
            count(name, &args, 0)?;
            Ok(Value::String(uuid::Uuid::new_v4().to_string()))
        }
        "States.ArrayPartition" => {
            count(name, &args, 2)?;
            let array = args[0].value.as_array().ok_or_else(|| fail("States.ArrayPartition takes an array".into()))?;
            let size = args[1].value.as_u64().filter(|&n| n > 0);
            let size = size.ok_or_else(|| fail("States.ArrayPartition takes a positive chunk size".into()))?;
            Ok(Value::Array(array.chunks(size as usize).map(|c| Value::Array(c.to_vec())).collect()))
        }
        "States.ArrayRange" => {
            count(name, &args, 3)?;
            let [start, end, step] = [0, 1, 2].map(|i| args[i].value.as_i64());
            let (Some(start), Some(end), Some(step)) = (start, end, step) else {
                return Err(fail("States.ArrayRange takes three integers".into()));
            };
            if step == 0 {
                return Err(fail("States.ArrayRange's step may not be 0".into()));
            }
            let items: Vec<Value> = std::iter::successors(Some(start), |n| n.checked_add(step))
                .take_while(|n| if step > 0 { *n <= end } else { *n >= end })
                .take(ARRAY_RANGE_LIMIT + 1)
                .map(Value::from)
                .collect();
            if items.len() > ARRAY_RANGE_LIMIT {
                return Err(fail(format!("States.ArrayRange makes at most {ARRAY_RANGE_LIMIT} items")));
            }
            Ok(Value::Array(items))
        }
        "States.ArrayUnique" => {
            count(name, &args, 1)?;
            let array = args[0].value.as_array().ok_or_else(|| fail("States.ArrayUnique takes an array".into()))?;
            let mut unique: Vec<Value> = Vec::new();
            for item in array {
                if !unique.contains(item) {
                    unique.push(item.clone());
                }
            }
            Ok(Value::Array(unique))
        }
        "States.Base64Encode" | "States.Base64Decode" => {
            use base64::Engine;
            count(name, &args, 1)?;
            let text = args[0].value.as_str().ok_or_else(|| fail(format!("{name} takes a string")))?;
            if text.chars().count() > BASE64_LIMIT {
                return Err(fail(format!("{name} takes at most {BASE64_LIMIT} characters")));
            }
            let engine = base64::engine::general_purpose::STANDARD;
            if name == "States.Base64Encode" {
                return Ok(Value::String(engine.encode(text)));
            }
            let bytes = engine.decode(text).map_err(|e| fail(format!("{name}: {e}")))?;
            String::from_utf8(bytes).map(Value::String).map_err(|_| fail(format!("{name}: the data is not UTF-8 text")))
        }
        "States.MathRandom" => {
            if !(2..=3).contains(&args.len()) {
                return Err(fail(format!("{name} takes a start, an end and an optional seed")));
            }
            let (Some(start), Some(end)) = (args[0].value.as_i64(), args[1].value.as_i64()) else {
                return Err(fail("States.MathRandom takes integers".into()));
            };
            if end <= start {
                return Err(fail("States.MathRandom's end must be above its start".into()));
            }
            // With a seed the number repeats itself, as AWS's does.
            let mut rng = match args.get(2) {
                Some(arg) => fastrand::Rng::with_seed(
                    arg.value.as_i64().ok_or_else(|| fail("States.MathRandom's seed is an integer".into()))? as u64,
                ),
                None => fastrand::Rng::new(),
            };
            // The start is included and the end is not, as AWS documents it.
            Ok(Value::from(rng.i64(start..end)))
        }
        "States.Hash" => {
            count(name, &args, 2)?;
            let data = text_of(&args[0].value);
            let digest = match args[1].value.as_str() {
                Some("MD5") => hex::encode(md5::Md5::digest(data.as_bytes())),
                Some("SHA-1") => hex::encode(sha1::Sha1::digest(data.as_bytes())),
                Some("SHA-256") => hex::encode(sha2::Sha256::digest(data.as_bytes())),
                Some("SHA-384") => hex::encode(sha2::Sha384::digest(data.as_bytes())),
                Some("SHA-512") => hex::encode(sha2::Sha512::digest(data.as_bytes())),
                other => {
                    return Err(fail(format!(
                        "States.Hash: the algorithm {other:?} is not one of MD5, SHA-1, SHA-256, SHA-384, SHA-512"
                    )));
                }
            };
            Ok(Value::String(digest))
        }
        other => Err(fail(format!("the intrinsic function {other} is not supported"))),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn eval(expression: &str, input: Value) -> Result<Value, DataError> {
        call(expression, &input, &json!({"Execution": {"Name": "run-1"}}))
    }

    #[test]
    fn format_as_documented() {
        let input = json!({"name": "Arnav", "n": 3, "o": {"a": 1}});
        assert_eq!(
            eval("States.Format('Hello, my name is {}.', $.name)", input.clone()).unwrap(),
            "Hello, my name is Arnav."
        );
        assert_eq!(
            eval("States.Format('{} items, {} run {}', $.n, $$.Execution.Name, $.o)", input.clone()).unwrap(),
            "3 items, run-1 run {\"a\":1}"
        );
        assert_eq!(
            eval("States.Format('literal \\{\\} and it\\'s {}', $.name)", input.clone()).unwrap(),
            "literal {} and it's Arnav"
        );
        assert!(eval("States.Format('{} {}', $.name)", input.clone()).is_err());
        assert!(eval("States.Format('{}', $.name, $.n)", input).is_err());
    }

    #[test]
    fn json_functions() {
        let input = json!({"s": "{\"number\": 20}", "a": {"x": 1, "y": 2}, "b": {"y": 3, "z": 4}});
        assert_eq!(eval("States.StringToJson($.s)", input.clone()).unwrap(), json!({"number": 20}));
        assert_eq!(eval("States.JsonToString($.a)", input.clone()).unwrap(), "{\"x\":1,\"y\":2}");
        assert_eq!(eval("States.JsonMerge($.a, $.b, false)", input.clone()).unwrap(), json!({"x": 1, "y": 3, "z": 4}));
        assert!(eval("States.JsonMerge($.a, $.b, true)", input.clone()).is_err());
        assert_eq!(
            eval("States.JsonToString(States.JsonMerge($.a, $.b, false))", input).unwrap(),
            "{\"x\":1,\"y\":3,\"z\":4}"
        );
    }

    #[test]
    fn arrays_math_strings_and_ids() {
        let input = json!({"list": [1, 2, 3, 4], "csv": "a,b,,c"});
        assert_eq!(
            eval("States.Array('Foo', 2020, $.list[0], null)", input.clone()).unwrap(),
            json!(["Foo", 2020, 1, null])
        );
        assert_eq!(eval("States.ArrayGetItem($.list, 2)", input.clone()).unwrap(), json!(3));
        assert!(eval("States.ArrayGetItem($.list, 9)", input.clone()).is_err());
        assert_eq!(eval("States.ArrayLength($.list)", input.clone()).unwrap(), json!(4));
        assert_eq!(eval("States.ArrayContains($.list, 4)", input.clone()).unwrap(), json!(true));
        assert_eq!(eval("States.MathAdd($.list[1], -7)", input.clone()).unwrap(), json!(-5));
        assert_eq!(eval("States.StringSplit($.csv, ',')", input.clone()).unwrap(), json!(["a", "b", "c"]));
        let id = eval("States.UUID()", input.clone()).unwrap();
        assert_eq!(id.as_str().unwrap().len(), 36);
        assert_eq!(
            eval("States.Hash('input data', 'SHA-256')", input.clone()).unwrap(),
            "b4a697a057313163aee33cd8d40c66e9f0f177e00cac2de32475ffff6169c3e3"
        );
        assert!(eval("States.Hash('x', 'SHA-3')", input.clone()).is_err());
        assert_eq!(eval("States.Nope()", input).unwrap_err().error_name(), "States.IntrinsicFailure");
    }

    /// The examples of AWS's "Intrinsic functions in Amazon States Language" page.
    #[test]
    fn aws_documented_examples() {
        let input = json!({"inputArray": [1, 2, 3, 4, 5, 6, 7, 8, 9], "dupes": [1, 2, 3, 3, 3, 3, 3, 3, 4],
            "input": "Data to encode", "base64": "RGF0YSB0byBlbmNvZGU=", "start": 1, "end": 999, "seed": 7});
        assert_eq!(
            eval("States.ArrayPartition($.inputArray,4)", input.clone()).unwrap(),
            json!([[1, 2, 3, 4], [5, 6, 7, 8], [9]])
        );
        assert_eq!(eval("States.ArrayRange(1, 9, 2)", input.clone()).unwrap(), json!([1, 3, 5, 7, 9]));
        assert_eq!(eval("States.ArrayRange(5, 1, -2)", input.clone()).unwrap(), json!([5, 3, 1]));
        assert!(eval("States.ArrayRange(1, 5000, 1)", input.clone()).is_err(), "at most 1,000 items");
        assert_eq!(eval("States.ArrayUnique($.dupes)", input.clone()).unwrap(), json!([1, 2, 3, 4]));
        assert_eq!(eval("States.Base64Encode($.input)", input.clone()).unwrap(), "RGF0YSB0byBlbmNvZGU=");
        assert_eq!(eval("States.Base64Decode($.base64)", input.clone()).unwrap(), "Data to encode");
        assert!(eval("States.Base64Decode('not base64!')", input.clone()).is_err());
        for _ in 0..50 {
            let n = eval("States.MathRandom($.start, $.end)", input.clone()).unwrap().as_i64().unwrap();
            assert!((1..999).contains(&n), "{n}");
        }
        let seeded = eval("States.MathRandom($.start, $.end, $.seed)", input.clone()).unwrap();
        assert_eq!(eval("States.MathRandom($.start, $.end, $.seed)", input.clone()).unwrap(), seeded, "a seed repeats");
        assert_eq!(
            eval("States.Hash('input data', 'MD5')", input.clone()).unwrap(),
            "812f45842bc6d66ee14572ce20db8e86"
        );
        assert_eq!(
            eval("States.Hash('input data', 'SHA-1')", input.clone()).unwrap(),
            "aaff4a450a104cd177d28d18d74485e8cae074b7"
        );
        assert_eq!(eval("States.MathAdd(111, -1)", input).unwrap(), json!(110));
    }
}
