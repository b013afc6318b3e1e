//! A Server-Sent Events parser (the WHATWG event-stream format): `id:`, `event:`, `data:`
//! (multi-line joined with `\n`), comments (`:` keep-alives), CRLF/LF/CR line ends,
//! frames split anywhere across network chunks.

/// One dispatched SSE event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    /// `None` for events sent without `id:` (ephemeral presence).
    pub id: Option<String>,
    /// `message` when no `event:` line was given.
    pub event: String,
    pub data: String,
}

/// Feeds bytes in, takes frames out.
#[derive(Debug, Default)]
pub struct Parser {
    buf: Vec<u8>,
    /// A `\r` ended the previous chunk: a following `\n` belongs to it.
    pending_cr: bool,
    id: Option<String>,
    event: Option<String>,
    data: Option<String>,
}

impl Parser {
    /// Consumes `chunk` and returns the frames it completed, in order.
    pub fn push(&mut self, chunk: &[u8]) -> Vec<Frame> {
        let mut frames = Vec::new();
        let mut start = 0;
        let mut i = 0;
        if self.pending_cr && chunk.first() == Some(&b'\n') {
            start = 1;
            i = 1;
        }
        self.pending_cr = false;
        while i < chunk.len() {
            let b = chunk[i];
            if b == b'\n' || b == b'\r' {
                self.buf.extend_from_slice(&chunk[start..i]);
                let line = std::mem::take(&mut self.buf);
                self.line(&line, &mut frames);
                if b == b'\r' {
                    if i + 1 < chunk.len() {
                        if chunk[i + 1] == b'\n' {
                            i += 1;
                        }
                    } else {
                        self.pending_cr = true;
                    }
                }
                start = i + 1;
            }
            i += 1;
        }
        if start < chunk.len() {
            self.buf.extend_from_slice(&chunk[start..]);
        }
        frames
    }

    fn line(&mut self, line: &[u8], frames: &mut Vec<Frame>) {
        if line.is_empty() {
            if let Some(data) = self.data.take() {
                frames.push(Frame {
                    id: self.id.take(),
                    event: self.event.take().unwrap_or_else(|| "message".to_owned()),
                    data,
                });
            } else {
                self.id = None;
                self.event = None;
            }
            return;
        }
        if line[0] == b':' {
            return;
        }
        let line = String::from_utf8_lossy(line);
        let (field, value) = match line.find(':') {
            Some(p) => {
                let v = &line[p + 1..];
                (&line[..p], v.strip_prefix(' ').unwrap_or(v))
            }
            None => (&line[..], ""),
        };
        match field {
            "id" if !value.contains('\0') => self.id = Some(value.to_owned()),
            "event" => self.event = Some(value.to_owned()),
            "data" => match &mut self.data {
                Some(d) => {
                    d.push('\n');
                    d.push_str(value);
                }
                None => self.data = Some(value.to_owned()),
            },
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_split_across_chunks_and_line_ends() {
        let stream = b": keep-alive\n\nid: 1\ndata: {\"a\":1}\n\nid:2\r\ndata: x\r\ndata: y\r\n\r\nevent: resync_required\ndata: {}\n\ndata: typing\n\n";
        for split in 0..stream.len() {
            let mut p = Parser::default();
            let mut frames = p.push(&stream[..split]);
            frames.extend(p.push(&stream[split..]));
            assert_eq!(frames.len(), 4, "split at {split}");
            assert_eq!(frames[0].id.as_deref(), Some("1"));
            assert_eq!(frames[0].data, "{\"a\":1}");
            assert_eq!(frames[1].id.as_deref(), Some("2"));
            assert_eq!(frames[1].data, "x\ny");
            assert_eq!(frames[2].event, "resync_required");
            assert_eq!(frames[3].id, None);
            assert_eq!(frames[3].event, "message");
        }
    }

    #[test]
    fn lone_cr_line_ends_work_byte_by_byte() {
        let mut p = Parser::default();
        let mut frames = Vec::new();
        for b in b"id: 9\rdata: z\r\r" {
            frames.extend(p.push(&[*b]));
        }
        assert_eq!(
            frames,
            vec![Frame {
                id: Some("9".into()),
                event: "message".into(),
                data: "z".into()
            }]
        );
    }
}
