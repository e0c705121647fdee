//! AWS's binary event stream (`application/vnd.amazon.eventstream`), as Kiro's API answers:
//! frames of a prelude (total length, headers length, both big-endian u32, and the prelude's
//! CRC32), typed headers (`:event-type`, `:message-type`, …), a payload, and the whole frame's
//! CRC32. `FrameReader` takes the bytes as they arrive and gives whole frames, checking both
//! CRCs; `encode` writes one (the tests' mock provider speaks it too).

use bytes::{Buf, BufMut, Bytes, BytesMut};

/// The largest frame accepted (AWS caps them at 16 MiB).
const MAX_FRAME: usize = 16 * 1024 * 1024;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    /// String-valued headers, in order (other header types are skipped).
    pub headers: Vec<(String, String)>,
    pub payload: Bytes,
}

impl Frame {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    #[error("event-stream frame of {0} bytes is out of bounds")]
    Length(usize),
    #[error("event-stream frame fails its {0} checksum")]
    Checksum(&'static str),
    #[error("event-stream frame has malformed headers")]
    Headers,
}

/// Whole frames out of a byte stream.
#[derive(Debug, Default)]
pub struct FrameReader {
    buf: BytesMut,
}

fn crc(bytes: &[u8]) -> u32 {
    crc32fast::hash(bytes)
}

impl FrameReader {
    pub fn push(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    /// The next whole frame, if it has all arrived.
    pub fn next_frame(&mut self) -> Result<Option<Frame>, FrameError> {
        if self.buf.len() < 12 {
            return Ok(None);
        }
        let total = u32::from_be_bytes([self.buf[0], self.buf[1], self.buf[2], self.buf[3]]) as usize;
        let headers_len = u32::from_be_bytes([self.buf[4], self.buf[5], self.buf[6], self.buf[7]]) as usize;
        let prelude_crc = u32::from_be_bytes([self.buf[8], self.buf[9], self.buf[10], self.buf[11]]);
        if crc(&self.buf[..8]) != prelude_crc {
            return Err(FrameError::Checksum("prelude"));
        }
        if !(16..=MAX_FRAME).contains(&total) || headers_len > total - 16 {
            return Err(FrameError::Length(total));
        }
        if self.buf.len() < total {
            return Ok(None);
        }
        let frame = self.buf.split_to(total).freeze();
        let message_crc = u32::from_be_bytes([frame[total - 4], frame[total - 3], frame[total - 2], frame[total - 1]]);
        if crc(&frame[..total - 4]) != message_crc {
            return Err(FrameError::Checksum("message"));
        }
        let headers = parse_headers(&frame[12..12 + headers_len])?;
        let payload = frame.slice(12 + headers_len..total - 4);
        Ok(Some(Frame { headers, payload }))
    }
}

fn parse_headers(mut raw: &[u8]) -> Result<Vec<(String, String)>, FrameError> {
    let mut headers = Vec::new();
    while raw.has_remaining() {
        let name_len = raw.get_u8() as usize;
        if raw.remaining() < name_len + 1 {
            return Err(FrameError::Headers);
        }
        let name = String::from_utf8_lossy(&raw[..name_len]).into_owned();
        raw.advance(name_len);
        let value_type = raw.get_u8();
        let fixed = match value_type {
            0 | 1 => Some(0),
            2 => Some(1),
            3 => Some(2),
            4 => Some(4),
            5 | 8 => Some(8),
            9 => Some(16),
            6 | 7 => None,
            _ => return Err(FrameError::Headers),
        };
        match fixed {
            Some(n) if raw.remaining() >= n => raw.advance(n),
            Some(_) => return Err(FrameError::Headers),
            None => {
                if raw.remaining() < 2 {
                    return Err(FrameError::Headers);
                }
                let len = raw.get_u16() as usize;
                if raw.remaining() < len {
                    return Err(FrameError::Headers);
                }
                if value_type == 7 {
                    headers.push((name, String::from_utf8_lossy(&raw[..len]).into_owned()));
                }
                raw.advance(len);
            }
        }
    }
    Ok(headers)
}

/// One frame with string headers.
pub fn encode(headers: &[(&str, &str)], payload: &[u8]) -> Vec<u8> {
    let mut h = BytesMut::new();
    for (name, value) in headers {
        h.put_u8(name.len() as u8);
        h.put_slice(name.as_bytes());
        h.put_u8(7);
        h.put_u16(value.len() as u16);
        h.put_slice(value.as_bytes());
    }
    let total = 12 + h.len() + payload.len() + 4;
    let mut out = BytesMut::with_capacity(total);
    out.put_u32(total as u32);
    out.put_u32(h.len() as u32);
    let prelude_crc = crc(&out[..8]);
    out.put_u32(prelude_crc);
    out.put_slice(&h);
    out.put_slice(payload);
    let message_crc = crc(&out);
    out.put_u32(message_crc);
    out.to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_come_whole_whatever_the_chunking_and_bad_ones_are_refused() {
        let a =
            encode(&[(":event-type", "assistantResponseEvent"), (":message-type", "event")], br#"{"content":"Hi"}"#);
        let b = encode(&[(":event-type", "toolUseEvent")], br#"{"name":"f","toolUseId":"t1","input":"{\"a\""}"#);
        let mut stream = a.clone();
        stream.extend_from_slice(&b);
        let mut reader = FrameReader::default();
        let mut frames = Vec::new();
        for chunk in stream.chunks(7) {
            reader.push(chunk);
            while let Some(f) = reader.next_frame().unwrap() {
                frames.push(f);
            }
        }
        assert_eq!(frames.len(), 2);
        assert_eq!(frames[0].header(":event-type"), Some("assistantResponseEvent"));
        assert_eq!(&frames[0].payload[..], br#"{"content":"Hi"}"#);
        assert_eq!(frames[1].header(":event-type"), Some("toolUseEvent"));
        let mut corrupt = a.clone();
        let last = corrupt.len() - 6;
        corrupt[last] ^= 1;
        let mut reader = FrameReader::default();
        reader.push(&corrupt);
        assert_eq!(reader.next_frame(), Err(FrameError::Checksum("message")));
    }
}
