//! hyper answers a request it cannot parse itself (400, 414, 431), with an empty body and none of
//! the headers Elasticsearch puts on every answer. Elasticsearch answers those with its JSON error
//! body and `X-Elastic-Product` (`RestController.dispatchBadRequest`). This wraps a connection's
//! socket and rewrites exactly those answers on their way out: a 4xx head without
//! `x-elastic-product`, which every answer of the REST layer carries (`exchange::finish`).

use crate::error::EsError;
use crate::rest::Response;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

pub(super) struct Answered<S> {
    inner: S,
    /// A rewritten answer being written, and how much of it is out; then the length of hyper's
    /// buffer it stands for, reported as written once all of it is out.
    pending: Option<(Vec<u8>, usize, usize)>,
}

impl<S> Answered<S> {
    pub fn new(inner: S) -> Self {
        Answered {
            inner,
            pending: None,
        }
    }
}

/// hyper's own error answer, if `buf` is one: its status.
fn hyper_error_status(buf: &[u8]) -> Option<u16> {
    let rest = buf.strip_prefix(b"HTTP/1.1 4")?;
    let head_end = buf.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = buf.get(..head_end)?.to_ascii_lowercase();
    if head.windows(18).any(|w| w == b"x-elastic-product:") {
        return None;
    }
    let digits = rest.get(..2)?;
    let tail = std::str::from_utf8(digits).ok()?.parse::<u16>().ok()?;
    Some(400 + tail)
}

fn rewrite(status: u16) -> Vec<u8> {
    let reason = match status {
        414 => "the request line is too long",
        431 => "the request headers are too large",
        _ => "the request is not valid HTTP/1.1 (its request line, a header or its Content-Length)",
    };
    let body =
        Response::from_error(&EsError::illegal_argument(reason).with_status(status)).body_bytes();
    let phrase = match status {
        414 => "URI Too Long",
        431 => "Request Header Fields Too Large",
        _ => "Bad Request",
    };
    let mut out = format!(
        "HTTP/1.1 {status} {phrase}\r\ncontent-type: application/json\r\nx-elastic-product: Elasticsearch\r\n\
         connection: close\r\ncontent-length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    out.extend_from_slice(&body);
    out
}

impl<S: AsyncRead + Unpin> AsyncRead for Answered<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Answered<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        if self.pending.is_none() {
            match hyper_error_status(buf) {
                None => return Pin::new(&mut self.inner).poll_write(cx, buf),
                Some(status) => self.pending = Some((rewrite(status), 0, buf.len())),
            }
        }
        let this = &mut *self;
        while let Some((bytes, done, stands_for)) = this.pending.as_mut() {
            let Some(left) = bytes.get(*done..).filter(|l| !l.is_empty()) else {
                let n = *stands_for;
                this.pending = None;
                return Poll::Ready(Ok(n));
            };
            match Pin::new(&mut this.inner).poll_write(cx, left) {
                Poll::Ready(Ok(0)) => return Poll::Ready(Err(io::ErrorKind::WriteZero.into())),
                Poll::Ready(Ok(n)) => *done += n,
                other => return other,
            }
        }
        Poll::Ready(Ok(0))
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }

    // Not vectored: hyper then writes each answer's head (and small body) as one buffer, which is
    // what `hyper_error_status` looks at.
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_hypers_own_error_answers_are_rewritten() {
        let hyper_400 =
            b"HTTP/1.1 400 Bad Request\r\nconnection: close\r\ncontent-length: 0\r\n\r\n";
        assert_eq!(hyper_error_status(hyper_400), Some(400));
        assert_eq!(
            hyper_error_status(b"HTTP/1.1 431 Request Header Fields Too Large\r\n\r\n"),
            Some(431)
        );
        for ours in [
            &b"HTTP/1.1 400 Bad Request\r\nx-elastic-product: Elasticsearch\r\n\r\n{}"[..],
            b"HTTP/1.1 100 Continue\r\n\r\n",
            b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n",
            b"{\"partial\": \"body\"}",
        ] {
            assert_eq!(hyper_error_status(ours), None);
        }
        let out = String::from_utf8(rewrite(400)).unwrap_or_default();
        assert!(out.starts_with("HTTP/1.1 400 Bad Request\r\n"));
        assert!(out.contains("x-elastic-product: Elasticsearch\r\n"));
        assert!(out.ends_with("\"status\":400}"));
    }
}
