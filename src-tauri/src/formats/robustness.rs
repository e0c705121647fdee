//! Property tests: arbitrary bytes, JSON-shaped noise and mutated real requests, fed to every
//! decoder and to the SSE parser, give an error or a value, never a panic.

use super::codec::SseEvent;
use super::envelope::Envelope;
use super::translate::{decode_request, decode_response, Format, StreamDecoder};
use futures_util::StreamExt;
use proptest::prelude::*;

const FORMATS: [Format; 4] = [Format::Openai, Format::Anthropic, Format::Responses, Format::Gemini];

/// Tokens real bodies are made of, so that noise reaches deep into the decoders.
fn json_noise() -> impl Strategy<Value = String> {
    let token = prop_oneof![
        Just("{"),
        Just("}"),
        Just("["),
        Just("]"),
        Just(","),
        Just(":"),
        Just("null"),
        Just("0"),
        Just("-1.5e9"),
        Just("true"),
        Just("\"model\""),
        Just("\"messages\""),
        Just("\"role\""),
        Just("\"user\""),
        Just("\"assistant\""),
        Just("\"tool\""),
        Just("\"content\""),
        Just("\"type\""),
        Just("\"text\""),
        Just("\"tool_use\""),
        Just("\"tool_result\""),
        Just("\"input\""),
        Just("\"tool_calls\""),
        Just("\"function\""),
        Just("\"arguments\""),
        Just("\"contents\""),
        Just("\"parts\""),
        Just("\"functionCall\""),
        Just("\"functionResponse\""),
        Just("\"choices\""),
        Just("\"delta\""),
        Just("\"index\""),
        Just("\"candidates\""),
        Just("\"output\""),
        Just("\"image_url\""),
        Just("\"url\""),
        Just("\"data:image/png;base64,\""),
        Just("\"thinking\""),
        Just("\"signature\""),
        Just("\"usage\""),
        Just("\"tools\""),
        Just("\"stream\""),
        Just("\"\\u00e9\""),
    ];
    prop::collection::vec(token, 0..80).prop_map(|t| t.concat())
}

const REAL: &[&str] = &[
    r#"{"model":"a/b","stream":true,"messages":[{"role":"user","content":[{"type":"text","text":"x"},{"type":"image_url","image_url":{"url":"data:image/png;base64,AA"}}]},{"role":"assistant","tool_calls":[{"id":"c","type":"function","function":{"name":"f","arguments":"{}"}}]},{"role":"tool","tool_call_id":"c","content":"r"}],"tools":[{"type":"function","function":{"name":"f","parameters":{}}}]}"#,
    r#"{"model":"a/b","max_tokens":5,"messages":[{"role":"user","content":[{"type":"tool_result","tool_use_id":"t","content":[{"type":"text","text":"r"}]}]},{"role":"assistant","content":[{"type":"thinking","thinking":"t","signature":"s"},{"type":"tool_use","id":"t","name":"f","input":{}}]}],"thinking":{"type":"enabled","budget_tokens":2000}}"#,
    r#"{"contents":[{"role":"model","parts":[{"functionCall":{"name":"f","args":{}}}]},{"role":"user","parts":[{"functionResponse":{"name":"f","response":{"a":1}}}]}],"generationConfig":{"thinkingConfig":{"thinkingBudget":5}}}"#,
    r#"{"model":"a/b","input":[{"type":"function_call","call_id":"c","name":"f","arguments":"{}"},{"type":"function_call_output","call_id":"c","output":"x"},{"type":"reasoning","summary":[{"text":"t"}]}]}"#,
];

fn decode_everything(bytes: &[u8]) {
    let _ = Envelope::parse(bytes);
    for format in FORMATS {
        let _ = decode_request(format, bytes, "m", true);
        let _ = decode_response(format, bytes);
        let mut decoder = StreamDecoder::new(format);
        let data = String::from_utf8_lossy(bytes).to_string();
        for event in [
            "",
            "message_start",
            "content_block_start",
            "content_block_delta",
            "message_delta",
            "response.output_item.added",
            "error",
        ] {
            let _ = decoder.event(&SseEvent { event: event.into(), data: data.clone() });
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..600)) {
        decode_everything(&bytes);
    }

    #[test]
    fn json_noise_never_panics(text in json_noise()) {
        decode_everything(text.as_bytes());
    }

    #[test]
    fn mutated_real_requests_never_panic(which in 0..REAL.len(), at in any::<prop::sample::Index>(), byte in any::<u8>(), cut in any::<prop::sample::Index>()) {
        let mut body = REAL[which].as_bytes().to_vec();
        let i = at.index(body.len());
        body[i] = byte;
        decode_everything(&body);
        decode_everything(&REAL[which].as_bytes()[..cut.index(REAL[which].len())]);
    }

    #[test]
    fn the_sse_parser_takes_any_chunking_of_any_bytes(bytes in prop::collection::vec(any::<u8>(), 0..800), splits in prop::collection::vec(any::<prop::sample::Index>(), 0..8)) {
        let mut cuts: Vec<usize> = splits.iter().map(|s| s.index(bytes.len() + 1)).collect();
        cuts.sort_unstable();
        let mut chunks = Vec::new();
        let mut last = 0;
        for c in cuts.into_iter().chain([bytes.len()]) {
            chunks.push(Ok::<_, std::io::Error>(bytes::Bytes::copy_from_slice(&bytes[last..c.max(last)])));
            last = c.max(last);
        }
        let runtime = tokio::runtime::Builder::new_current_thread().build().expect("runtime");
        let events = runtime.block_on(eventsource_stream::Eventsource::eventsource(futures_util::stream::iter(chunks)).collect::<Vec<_>>());
        for format in FORMATS {
            let mut decoder = StreamDecoder::new(format);
            for e in events.iter().flatten() {
                let _ = decoder.event(&SseEvent { event: e.event.clone(), data: e.data.clone() });
            }
        }
    }
}
