//! Server messages as websocket frames, encoded once and written as they are to every
//! screen.
//!
//! Frames from a server are not masked (RFC 6455 §5.1), so a message's frames are the same
//! bytes on every connection. The hub encodes each delta once; a session writes those
//! shared bytes straight to its socket, so fanning a delta out to 10,000 screens costs
//! 10,000 writes but no copies, and no socket keeps a write buffer the size of the largest
//! message it ever sent. tungstenite encodes the frames; only the sending is ours.

use tokio_tungstenite::tungstenite::protocol::frame::coding::{Data, OpCode};
use tokio_tungstenite::tungstenite::protocol::frame::Frame;
use tokio_tungstenite::tungstenite::Bytes;

/// A text message as the bytes of its frames: one frame, or, when `max` is not 0 and the
/// text is longer, a text frame of `max` payload bytes followed by continuation frames,
/// the last one final.
///
/// Cuts fall on byte counts, so a continuation may start inside a UTF-8 sequence: RFC 6455
/// §5.6 validates a text message once reassembled, and browsers and tungstenite do so.
pub fn text(text: &str, max: usize) -> Bytes {
    let bytes = text.as_bytes();
    let max = if max == 0 { bytes.len().max(1) } else { max };
    // An empty message is still one (empty, final) frame.
    let count = bytes.len().div_ceil(max).max(1);
    let mut out = Vec::with_capacity(bytes.len() + count * 10);
    for i in 0..count {
        let start = i * max;
        let end = start.saturating_add(max).min(bytes.len());
        let opcode = if i == 0 { Data::Text } else { Data::Continue };
        let frame = Frame::message(
            Bytes::copy_from_slice(&bytes[start..end]),
            OpCode::Data(opcode),
            end == bytes.len(),
        );
        // Formatting into a Vec cannot fail.
        let _ = frame.format(&mut out);
    }
    Bytes::from(out)
}

#[cfg(test)]
pub mod tests {
    use super::*;
    use std::io::Cursor;
    use tokio_tungstenite::tungstenite::protocol::frame::FrameHeader;

    /// The frames in `wire`: opcode, final, payload.
    pub fn frames(wire: &[u8]) -> Vec<(OpCode, bool, Vec<u8>)> {
        let mut cursor = Cursor::new(wire);
        let mut out = Vec::new();
        while (cursor.position() as usize) < wire.len() {
            let (header, len) = FrameHeader::parse(&mut cursor)
                .expect("a valid header")
                .expect("a whole header");
            assert!(header.mask.is_none(), "a server's frames are not masked");
            let start = cursor.position() as usize;
            let end = start + len as usize;
            out.push((header.opcode, header.is_final, wire[start..end].to_vec()));
            cursor.set_position(end as u64);
        }
        out
    }

    /// The text message that `wire` carries, reassembled.
    pub fn message(wire: &[u8]) -> String {
        let payload: Vec<u8> = frames(wire).into_iter().flat_map(|f| f.2).collect();
        String::from_utf8(payload).expect("UTF-8 once reassembled")
    }

    fn shape(wire: &[u8]) -> Vec<(OpCode, bool, usize)> {
        frames(wire)
            .into_iter()
            .map(|(op, fin, payload)| (op, fin, payload.len()))
            .collect()
    }

    #[test]
    fn a_long_message_is_a_text_frame_then_continuations_cut_anywhere_in_utf8() {
        // 3-byte characters: 4096 is not a multiple of 3, so cuts fall inside them.
        let whole = "€".repeat(3400);
        let wire = text(&whole, 4096);
        let (text_op, more) = (OpCode::Data(Data::Text), OpCode::Data(Data::Continue));
        assert_eq!(
            shape(&wire),
            vec![
                (text_op, false, 4096),
                (more, false, 4096),
                (more, true, 10_200 - 8192)
            ]
        );
        assert!(std::str::from_utf8(&frames(&wire)[1].2).is_err());
        assert_eq!(message(&wire), whole);
    }

    #[test]
    fn a_message_that_fits_or_with_no_limit_is_one_final_text_frame() {
        let text_op = OpCode::Data(Data::Text);
        assert_eq!(
            shape(&text(&"x".repeat(4096), 4096)),
            vec![(text_op, true, 4096)]
        );
        // Long enough for the 64-bit length form.
        let long = "x".repeat(70_000);
        assert_eq!(shape(&text(&long, 0)), vec![(text_op, true, 70_000)]);
        assert_eq!(message(&text(&long, 0)), long);
        assert_eq!(shape(&text("", 4096)), vec![(text_op, true, 0)]);
    }
}
